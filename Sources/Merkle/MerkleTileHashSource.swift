/// Reads complete subtree hashes of a tree of `treeSize` leaves from C2SP hash tiles: the right-edge
/// partial tiles from `edge` (in memory), full tiles from `fullTile` (a file, an archive object).
/// A subtree inside a tile is folded from the tile's hashes.
package struct MerkleTileHashSource: MerkleHashSource {
    package let treeSize: UInt64
    /// Per tile level, the hashes of the partial tile at the right edge, concatenated (empty where the
    /// level has no partial tile).
    package let edge: [[UInt8]]
    /// The 256 hashes of a full tile, concatenated.
    package let fullTile: (MerkleTile) throws -> [UInt8]

    package init(treeSize: UInt64, edge: [[UInt8]], fullTile: @escaping (MerkleTile) throws -> [UInt8]) {
        self.treeSize = treeSize
        self.edge = edge
        self.fullTile = fullTile
    }

    package func subtreeHash(level: Int, index: UInt64) throws -> [UInt8] {
        let tileLevel = level / MerkleTile.height
        let depth = level % MerkleTile.height
        let first = index << UInt64(depth)
        let count = 1 << depth
        guard let tile = MerkleTile.tile(level: tileLevel, holding: first + UInt64(count) - 1, treeSize: treeSize) else {
            throw MerkleProofError.subtreeUnavailable(level: level, index: index, treeSize: treeSize)
        }
        let bytes = try hashes(of: tile)
        let start = Int(first % UInt64(MerkleTile.fullWidth)) * MerkleTree.hashByteCount
        return MerkleTileBuilder.foldedRoot(of: bytes[start..<(start + count * MerkleTree.hashByteCount)])
    }

    /// The bytes of `tile`: `fullTile` for a full one, the edge for a partial one.
    /// - Throws: `MerkleTileError` when the edge does not hold it or a full tile is not 8,192 bytes,
    ///   or what `fullTile` throws.
    package func hashes(of tile: MerkleTile) throws -> [UInt8] {
        guard tile.isFull else {
            guard tile.level < edge.count, edge[tile.level].count == tile.width * MerkleTree.hashByteCount else {
                throw MerkleTileError.edgeIncomplete(path: tile.path, hashCount: tile.width)
            }
            return edge[tile.level]
        }
        let bytes = try fullTile(tile)
        guard bytes.count == MerkleTile.fullWidth * MerkleTree.hashByteCount else {
            throw MerkleTileError.wrongSize(path: tile.path, sizeBytes: bytes.count, expectedSizeBytes: MerkleTile.fullWidth * MerkleTree.hashByteCount)
        }
        return bytes
    }
}
