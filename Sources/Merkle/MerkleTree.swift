import Crypto

/// RFC 9162 section 2.1 hashing: leaf and interior-node hashes (SHA-256 with domain-separation
/// prefixes), the split rule, and the Merkle Tree Hash (MTH) of any range of a log.
///
/// Pure functions, no I/O. Every hash is 32 bytes (`hashByteCount`).
public enum MerkleTree {
    /// Size of every hash in the tree, in bytes.
    public static let hashByteCount = SHA256.digestByteCount

    /// The root of the empty tree: `SHA-256("")`.
    public static let emptyRootHash: [UInt8] = SHA256.hash([UInt8]())

    /// `SHA-256(0x00 || leaf)`: the hash of one leaf's input bytes.
    public static func leafHash(_ leaf: some Sequence<UInt8>) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(CollectionOfOne(UInt8(0x00)))
        hasher.update(leaf)
        return hasher.finalize()
    }

    /// `SHA-256(0x01 || left || right)`: the hash of an interior node.
    public static func nodeHash(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(CollectionOfOne(UInt8(0x01)))
        hasher.update(left)
        hasher.update(right)
        return hasher.finalize()
    }

    /// The split point `k` of RFC 9162: the largest power of two strictly below `count`.
    /// - Precondition: `count > 1`.
    package static func splitPoint(_ count: UInt64) -> UInt64 {
        precondition(count > 1, "a split needs at least two leaves")
        return UInt64(1) << (63 - (count - 1).leadingZeroBitCount)
    }

    /// The MTH of leaves `[start, end)`, built from the complete aligned subtrees `source` holds.
    /// `start` must be where RFC 9162's recursion puts a range (a multiple of the largest power of
    /// two not above `end - start`); every range the proofs below ask for is one.
    /// - Throws: whatever `source` throws.
    package static func rootHash(of source: some MerkleHashSource, start: UInt64, end: UInt64) throws -> [UInt8] {
        let count = end - start
        if count == 0 { return emptyRootHash }
        if count & (count - 1) == 0, start % count == 0 {
            let level = count.trailingZeroBitCount
            return try source.subtreeHash(level: level, index: start >> UInt64(level))
        }
        let k = splitPoint(count)
        return nodeHash(try rootHash(of: source, start: start, end: start + k),
                        try rootHash(of: source, start: start + k, end: end))
    }

    /// The root of a tree of `treeSize` leaves from `source`.
    /// - Throws: whatever `source` throws.
    public static func rootHash(of source: some MerkleHashSource, treeSize: UInt64) throws -> [UInt8] {
        try rootHash(of: source, start: 0, end: treeSize)
    }
}
