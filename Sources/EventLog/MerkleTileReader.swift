import Merkle
import SystemIO

/// Reads complete subtree hashes of a tree of `treeSize` leaves from C2SP hash tiles: full tiles
/// from files (immutable), the right-edge partial tiles from memory.
struct MerkleTileReader: MerkleHashSource {
    let directory: String
    let treeSize: UInt64
    /// Per tile level, the hashes of the partial tile at the right edge, concatenated.
    let edge: [[UInt8]]

    func subtreeHash(level: Int, index: UInt64) throws -> [UInt8] {
        let tileLevel = level / MerkleTile.height
        let depth = level % MerkleTile.height
        let first = index << UInt64(depth)
        let count = 1 << depth
        guard let tile = MerkleTile.tile(level: tileLevel, holding: first + UInt64(count) - 1, treeSize: treeSize) else {
            throw MerkleProofError.subtreeUnavailable(level: level, index: index, treeSize: treeSize)
        }
        let bytes = try hashes(of: tile)
        let start = Int(first % UInt64(MerkleTile.fullWidth)) * MerkleTree.hashByteCount
        let hashes = Self.split(bytes[start..<(start + count * MerkleTree.hashByteCount)])
        return try MerkleLeafHashes(leafHashes: hashes).subtreeHash(level: depth, index: 0)
    }

    /// Concatenated 32-byte hashes as a list.
    static func split(_ bytes: ArraySlice<UInt8>) -> [[UInt8]] {
        stride(from: bytes.startIndex, to: bytes.endIndex, by: MerkleTree.hashByteCount).map {
            Array(bytes[$0..<($0 + MerkleTree.hashByteCount)])
        }
    }

    /// The bytes of `tile`: the file of a full tile, the edge of a partial one.
    func hashes(of tile: MerkleTile) throws -> [UInt8] {
        guard tile.isFull else {
            guard tile.level < edge.count, edge[tile.level].count == tile.width * MerkleTree.hashByteCount else {
                throw MerkleTileError(path: tile.path, reason: "the right edge in memory does not hold \(tile.width) hashes")
            }
            return edge[tile.level]
        }
        let path = directory + "/" + tile.path
        let bytes = try systemCall { try FileSystem.contents(of: path) }
        guard let bytes else { throw MerkleTileError(path: path, reason: "missing") }
        guard bytes.count == MerkleTile.fullWidth * MerkleTree.hashByteCount else {
            throw MerkleTileError(path: path, reason: "\(bytes.count) bytes, not \(MerkleTile.fullWidth * MerkleTree.hashByteCount)")
        }
        return bytes
    }
}
