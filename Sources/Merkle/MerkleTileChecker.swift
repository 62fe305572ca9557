/// Reads full tiles through a `MerkleTileHashSource` and checks each against the level above it, that
/// tile against the next, and so on up to the partial tile at the top, which is the right edge in
/// memory (the only trusted part): a tile changed on disk, or zeros a crash left where it belonged,
/// never passes.
///
/// The tiles above, once checked, are kept for the rest of the pass: a run of tiles (an archive pass,
/// the tiles `synchronize` flushes) reads each tile it touches once, not the level above once per
/// tile. At most `keptTileCountMax` tiles are kept (8 KiB each); past that the kept tiles are dropped
/// and read (and checked) again when needed.
///
/// A value for one pass over one tree (`source`'s size), on one thread.
package struct MerkleTileChecker {
    /// Where the tiles and the right edge are read.
    package let source: MerkleTileHashSource
    /// Names a tile in errors (its file and offset).
    package let location: (MerkleTile) -> String
    /// Checked tiles of the levels above those asked for kept at most (8 KiB each).
    package let keptTileCountMax: Int
    /// The tiles reached and checked as the level above of another, by tile.
    private var kept: [MerkleTile: [UInt8]] = [:]

    /// The default of `keptTileCountMax`: 1,024 tiles, 8 MiB (the level-1 tiles of 67 million events).
    package static let keptTileCountMaxDefault = 1024

    /// - Parameters:
    ///   - location: names a tile in errors (default: its `tlog-tiles` path).
    ///   - keptTileCountMax: checked tiles kept at most (at least 1).
    package init(source: MerkleTileHashSource, location: @escaping (MerkleTile) -> String = { $0.path },
                 keptTileCountMax: Int = keptTileCountMaxDefault) {
        precondition(keptTileCountMax >= 1, "keptTileCountMax must be at least 1")
        self.source = source
        self.location = location
        self.keptTileCountMax = keptTileCountMax
    }

    /// The 256 hashes of full tile `tile`, read once and checked up to the right edge.
    /// - Throws: `MerkleTileError.differsFromLevelAbove` naming the highest tile on the way up that does
    ///   not give the hash the level above holds for it; what the source throws (`.missing`,
    ///   `.wrongSize`, `.edgeIncomplete`); `MerkleProofError.subtreeUnavailable` for a tile beyond the tree.
    package mutating func hashes(of tile: MerkleTile) throws -> [UInt8] {
        precondition(tile.isFull, "only full tiles are checked against the level above")
        if let bytes = kept[tile] { return bytes }
        let bytes = try source.hashes(of: tile)
        guard let parent = MerkleTile.tile(level: tile.level + 1, holding: tile.index, treeSize: source.treeSize) else {
            throw MerkleProofError.subtreeUnavailable(level: MerkleTile.height * (tile.level + 1), index: tile.index,
                                                      treeSize: source.treeSize)
        }
        let above: [UInt8]
        if let bytes = kept[parent] {
            above = bytes
        } else if parent.isFull {
            above = try hashes(of: parent)
            if kept.count >= keptTileCountMax { kept.removeAll(keepingCapacity: true) }
            kept[parent] = above
        } else {
            above = try source.hashes(of: parent)  // the right edge in memory
        }
        let start = Int(tile.index % UInt64(MerkleTile.fullWidth)) * MerkleTree.hashByteCount
        guard MerkleTileBuilder.foldedRoot(of: bytes[...]) == Array(above[start..<(start + MerkleTree.hashByteCount)]) else {
            throw MerkleTileError.differsFromLevelAbove(path: location(tile))
        }
        return bytes
    }
}
