/// Where proofs and roots read the hashes of complete, aligned subtrees.
///
/// `subtreeHash(level: l, index: n)` is the MTH of leaves `[n * 2^l, (n + 1) * 2^l)`: level 0
/// holds leaf hashes. This is exactly what a C2SP tlog-tiles hash tile stores.
public protocol MerkleHashSource {
    /// The 32-byte hash of the complete subtree at `level`, `index`.
    /// - Throws: when the hash is not available (beyond the stored size, unreadable storage).
    func subtreeHash(level: Int, index: UInt64) throws -> [UInt8]
}
