/// An in-memory `MerkleHashSource` over a list of leaf hashes (tests, small trees, tools).
///
/// Subtree hashes are computed on demand: `O(2^level)` work per call, so it is meant for trees
/// of thousands of leaves, not a whole log (the log uses tiles).
package struct MerkleLeafHashes: MerkleHashSource, Sendable {
    /// The leaf hashes, leaf 0 first.
    package var leafHashes: [[UInt8]]

    /// Creates a source over `leafHashes`.
    package init(leafHashes: [[UInt8]]) {
        self.leafHashes = leafHashes
    }

    /// Creates a source over the leaf hashes of `leaves` (each hashed with `MerkleTree.leafHash`).
    package init(leaves: [[UInt8]]) {
        self.leafHashes = leaves.map { MerkleTree.leafHash($0) }
    }

    /// Number of leaves.
    package var count: UInt64 { UInt64(leafHashes.count) }

    package func subtreeHash(level: Int, index: UInt64) throws -> [UInt8] {
        let width = UInt64(1) << UInt64(level)
        let start = index * width
        guard level < 63, start + width <= count else {
            throw MerkleProofError.subtreeUnavailable(level: level, index: index, treeSize: count)
        }
        if level == 0 { return leafHashes[Int(start)] }
        return MerkleTree.nodeHash(try subtreeHash(level: level - 1, index: index * 2),
                                   try subtreeHash(level: level - 1, index: index * 2 + 1))
    }
}
