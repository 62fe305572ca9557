import Crypto
import EventLog
import JSON
import Merkle

/// Proofs as the CLI prints them and the API answers them (hashes base64).
extension TransparencyLog {
    /// `{"offset","tree_size","leaf","leaf_hash","inclusion":[...],"checkpoint"}` for the event at
    /// `offset` in the first `treeSize` events (nil: the whole log); `leaf` is the event's
    /// `tail --format json` line, `checkpoint` the signed note for `tree_size`.
    /// - Throws: `MerkleProofError.treeSizeBeyondLog` / `.leafIndexOutOfRange` for bounds (a usage
    ///   error), `EventLogError` when the event is no longer in the local log, tile errors.
    public func inclusionProof(offset: UInt64, treeSize: UInt64?) throws -> JSONValue {
        let size = try updateTiles()
        guard offset < (treeSize ?? size) else { throw MerkleProofError.leafIndexOutOfRange(leafIndex: offset, treeSize: treeSize ?? size) }
        var reader = try LogReader(directory: tiles.logDirectory, start: .offset(offset))
        guard let record = try reader.next(), record.offset == offset else {
            throw EventLogError.offsetOutOfRange(offset: offset, firstOffset: reader.nextOffset, nextOffset: size)
        }
        return try inclusionProof(of: record, treeSize: treeSize)
    }

    /// The same for `record` (read by the caller, from the log or the archive).
    /// - Throws: as `inclusionProof(offset:treeSize:)`.
    public func inclusionProof(of record: EventRecord, treeSize: UInt64?) throws -> JSONValue {
        let size = try updateTiles()
        let treeSize = treeSize ?? size
        let offset = record.offset
        guard treeSize <= size else { throw MerkleProofError.treeSizeBeyondLog(treeSize: treeSize, logSize: size) }
        guard offset < treeSize else { throw MerkleProofError.leafIndexOutOfRange(leafIndex: offset, treeSize: treeSize) }
        let leaf = record.envelope()
        let leafHash = MerkleTree.leafHash(leaf)
        let proof = try verified(.inclusion) {
            let proof = try tiles.inclusionProof(leafIndex: offset, treeSize: treeSize)
            try MerkleProof.verifyInclusion(leafIndex: offset, treeSize: treeSize, leafHash: leafHash, proof: proof,
                                            rootHash: verifiedRoot(treeSize: treeSize))
            return proof
        }
        return .object([
            ("offset", .integer(offset)),
            ("tree_size", .integer(treeSize)),
            ("leaf", .string(String(decoding: leaf, as: UTF8.self))),
            ("leaf_hash", .string(Base64.encode(leafHash))),
            ("inclusion", .array(proof.map { .string(Base64.encode($0)) })),
            ("checkpoint", .string(try signedCheckpoint(treeSize: treeSize))),
        ])
    }

    /// `{"from","to","consistency":[...]}` between the first `from` and the first `to` events.
    /// - Throws: `MerkleProofError` for bounds, tile errors.
    public func consistencyProof(from: UInt64, to: UInt64) throws -> JSONValue {
        let size = try updateTiles()
        guard to <= size else { throw MerkleProofError.treeSizeBeyondLog(treeSize: to, logSize: size) }
        guard from <= to else { throw MerkleProofError.treeSizesOutOfOrder(from: from, to: to) }
        // Verified against both roots, each proven a prefix of the whole tree first (`verifiedRoot`).
        let proof = try verified(.consistency) {
            let proof = try tiles.consistencyProof(from: from, to: to)
            try MerkleProof.verifyConsistency(from: from, to: to, fromRoot: verifiedRoot(treeSize: from),
                                              toRoot: verifiedRoot(treeSize: to), proof: proof)
            return proof
        }
        return .object([
            ("from", .integer(from)),
            ("to", .integer(to)),
            ("consistency", .array(proof.map { .string(Base64.encode($0)) })),
        ])
    }

    /// The consistency proof from `from` to `to` made from the tiles, verified against the two roots.
    /// - Throws: `TransparencyLogError.unverifiedProof` when it does not verify even after a rebuild.
    func verifiedConsistencyProof(from: UInt64, to: UInt64, fromRoot: [UInt8], toRoot: [UInt8]) throws -> [[UInt8]] {
        try verified(.consistency) {
            let proof = try tiles.consistencyProof(from: from, to: to)
            try MerkleProof.verifyConsistency(from: from, to: to, fromRoot: fromRoot, toRoot: toRoot, proof: proof)
            return proof
        }
    }

    /// Runs `make` (which builds a proof and verifies it); when the proof does not verify (a tile changed
    /// on disk: same length, other bytes) the tiles are rebuilt from the log and it runs once more. A
    /// proof that still does not verify is refused, never handed out.
    /// - Throws: `TransparencyLogError.unverifiedProof`; what `make` or the rebuild throws otherwise.
    func verified(_ kind: MerkleProofKind, _ make: () throws -> [[UInt8]]) throws -> [[UInt8]] {
        do {
            return try make()
        } catch let error as MerkleProofError where error.isVerificationFailure {
            try tiles.rebuild()
        }
        do {
            return try make()
        } catch let error as MerkleProofError where error.isVerificationFailure {
            throw TransparencyLogError.unverifiedProof(kind, cause: error)
        }
    }

    /// Checks that `note` is a checkpoint signed by this log's key and that the log still holds that
    /// tree (same root at that size): the auditor's "has history been rewritten since?".
    /// - Returns: the checkpoint and the log's size now.
    /// - Throws: `SignedNoteError` (signature, format), `TransparencyLogError.inconsistent`.
    public func check(note: String) throws -> (checkpoint: Checkpoint, logSize: UInt64) {
        let checkpoint = try Checkpoint(signedNote: note, verifier: signer.verifier)
        let size = try updateTiles()
        guard checkpoint.treeSize <= size, try tiles.rootHash(treeSize: checkpoint.treeSize) == checkpoint.rootHash
                || (try? { try tiles.rebuild(); return try tiles.rootHash(treeSize: checkpoint.treeSize) }()) == checkpoint.rootHash else {
            throw TransparencyLogError.inconsistent(storedSize: checkpoint.treeSize, logSize: size)
        }
        return (checkpoint, size)
    }
}
