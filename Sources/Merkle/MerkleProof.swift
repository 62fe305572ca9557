/// RFC 9162 inclusion and consistency proofs: building them from a `MerkleHashSource`
/// (sections 2.1.3.1 and 2.1.4.1) and verifying them from hashes alone (2.1.3.2 and 2.1.4.2).
///
/// Pure functions, no I/O beyond what the source does. Hashes are 32 bytes.
public enum MerkleProof {
    // MARK: Building

    /// The inclusion proof `PATH(leafIndex, D[0:treeSize])`, leaf-side hash first.
    /// - Throws: `MerkleProofError.leafIndexOutOfRange`, or whatever `source` throws.
    public static func inclusion(leafIndex: UInt64, treeSize: UInt64, source: some MerkleHashSource) throws -> [[UInt8]] {
        guard leafIndex < treeSize else {
            throw MerkleProofError.leafIndexOutOfRange(leafIndex: leafIndex, treeSize: treeSize)
        }
        var proof: [[UInt8]] = []
        try path(leafIndex, start: 0, end: treeSize, source: source, into: &proof)
        return proof
    }

    private static func path(_ m: UInt64, start: UInt64, end: UInt64, source: some MerkleHashSource,
                             into proof: inout [[UInt8]]) throws {
        let n = end - start
        if n <= 1 { return }
        let k = MerkleTree.splitPoint(n)
        if m < k {
            try path(m, start: start, end: start + k, source: source, into: &proof)
            proof.append(try MerkleTree.rootHash(of: source, start: start + k, end: end))
        } else {
            try path(m - k, start: start + k, end: end, source: source, into: &proof)
            proof.append(try MerkleTree.rootHash(of: source, start: start, end: start + k))
        }
    }

    /// The consistency proof `PROOF(from, D[0:to])`; empty when `from` is 0 or equals `to`.
    /// - Throws: `MerkleProofError.treeSizesOutOfOrder`, or whatever `source` throws.
    public static func consistency(from: UInt64, to: UInt64, source: some MerkleHashSource) throws -> [[UInt8]] {
        guard from <= to else { throw MerkleProofError.treeSizesOutOfOrder(from: from, to: to) }
        var proof: [[UInt8]] = []
        if from == 0 || from == to { return proof }
        try subproof(from, start: 0, end: to, complete: true, source: source, into: &proof)
        return proof
    }

    private static func subproof(_ m: UInt64, start: UInt64, end: UInt64, complete: Bool,
                                 source: some MerkleHashSource, into proof: inout [[UInt8]]) throws {
        let n = end - start
        if m == n {
            if !complete { proof.append(try MerkleTree.rootHash(of: source, start: start, end: end)) }
            return
        }
        let k = MerkleTree.splitPoint(n)
        if m <= k {
            try subproof(m, start: start, end: start + k, complete: complete, source: source, into: &proof)
            proof.append(try MerkleTree.rootHash(of: source, start: start + k, end: end))
        } else {
            try subproof(m - k, start: start + k, end: end, complete: false, source: source, into: &proof)
            proof.append(try MerkleTree.rootHash(of: source, start: start, end: start + k))
        }
    }

    // MARK: Verifying

    /// The root an inclusion proof leads to (RFC 9162 section 2.1.3.2, steps 1 to 4).
    /// - Throws: `MerkleProofError` when the index, lengths or proof length do not fit.
    public static func rootFromInclusion(leafIndex: UInt64, treeSize: UInt64, leafHash: [UInt8],
                                         proof: [[UInt8]]) throws(MerkleProofError) -> [UInt8] {
        guard leafIndex < treeSize else {
            throw .leafIndexOutOfRange(leafIndex: leafIndex, treeSize: treeSize)
        }
        try checkLength(leafHash, "leaf hash")
        for (position, hash) in proof.enumerated() { try checkLength(hash, "proof hash \(position)") }
        var r = leafHash
        try walk(proof[...], fn: leafIndex, sn: treeSize - 1, proofCount: proof.count,
                 hashOnLeft: { r = MerkleTree.nodeHash($0, r) }, hashOnRight: { r = MerkleTree.nodeHash(r, $0) })
        return r
    }

    /// Checks that `leafHash` is leaf `leafIndex` of the tree of `treeSize` leaves with `rootHash`.
    /// - Throws: `MerkleProofError` naming why not.
    public static func verifyInclusion(leafIndex: UInt64, treeSize: UInt64, leafHash: [UInt8],
                                       proof: [[UInt8]], rootHash: [UInt8]) throws(MerkleProofError) {
        try checkLength(rootHash, "root hash")
        let computed = try rootFromInclusion(leafIndex: leafIndex, treeSize: treeSize, leafHash: leafHash, proof: proof)
        guard computed == rootHash else { throw .rootMismatch }
    }

    /// Checks that the tree of `from` leaves with `fromRoot` is a prefix of the tree of `to`
    /// leaves with `toRoot` (RFC 9162 section 2.1.4.2; sizes 0 and equal sizes need an empty proof).
    /// - Throws: `MerkleProofError` naming why not.
    public static func verifyConsistency(from: UInt64, to: UInt64, fromRoot: [UInt8], toRoot: [UInt8],
                                         proof: [[UInt8]]) throws(MerkleProofError) {
        guard from <= to else { throw .treeSizesOutOfOrder(from: from, to: to) }
        try checkLength(fromRoot, "first root hash")
        try checkLength(toRoot, "second root hash")
        if from == to {
            guard proof.isEmpty else { throw .wrongProofLength(count: proof.count) }
            guard fromRoot == toRoot else { throw .rootMismatch }
            return
        }
        if from == 0 {
            guard proof.isEmpty else { throw .wrongProofLength(count: proof.count) }
            return
        }
        guard !proof.isEmpty else { throw .wrongProofLength(count: 0) }
        for (position, hash) in proof.enumerated() { try checkLength(hash, "proof hash \(position)") }
        var path = proof
        if from & (from - 1) == 0 { path.insert(fromRoot, at: 0) }
        var fn = from - 1
        var sn = to - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var fr = path[0]
        var sr = path[0]
        try walk(path.dropFirst(), fn: fn, sn: sn, proofCount: proof.count,
                 hashOnLeft: { c in
                     fr = MerkleTree.nodeHash(c, fr)
                     sr = MerkleTree.nodeHash(c, sr)
                 },
                 hashOnRight: { sr = MerkleTree.nodeHash(sr, $0) })
        guard fr == fromRoot, sr == toRoot else { throw .rootMismatch }
    }

    /// The walk both verifications share (RFC 9162 sections 2.1.3.2 and 2.1.4.2) from node `fn` of last
    /// node `sn`: each hash of `path` goes on the left (`fn` is a right child or the last of its level,
    /// `hashOnLeft`) or on the right (`hashOnRight`) of the running hash.
    /// - Throws: `.wrongProofLength(count: proofCount)` when `path` is longer or shorter than the walk.
    private static func walk(_ path: ArraySlice<[UInt8]>, fn start: UInt64, sn last: UInt64, proofCount: Int,
                             hashOnLeft: ([UInt8]) -> Void, hashOnRight: ([UInt8]) -> Void) throws(MerkleProofError) {
        var fn = start
        var sn = last
        for hash in path {
            guard sn != 0 else { throw .wrongProofLength(count: proofCount) }
            if fn & 1 == 1 || fn == sn {
                hashOnLeft(hash)
                while fn & 1 == 0 && fn != 0 {
                    fn >>= 1
                    sn >>= 1
                }
            } else {
                hashOnRight(hash)
            }
            fn >>= 1
            sn >>= 1
        }
        guard sn == 0 else { throw .wrongProofLength(count: proofCount) }
    }

    private static func checkLength(_ hash: [UInt8], _ what: @autoclosure () -> String) throws(MerkleProofError) {
        guard hash.count == MerkleTree.hashByteCount else {
            throw .badHashLength(what: what(), byteCount: hash.count)
        }
    }
}
