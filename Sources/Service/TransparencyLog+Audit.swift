import EventLog
import Merkle
import SystemIO

extension TransparencyLog {
    /// What `audit()` found: the tiles compared with the log, and the stored checkpoint checked
    /// against the log.
    public struct Audit: Sendable {
        /// The hash tiles against the log.
        public var tiles: MerkleTileAudit
        /// The stored checkpoint, when there is one and its signature verifies.
        public var checkpoint: Checkpoint?
        /// Every problem found (tiles, checkpoint), one line each; empty when all is well.
        public var problems: [String]
    }

    /// Checks the derived data against the log without changing anything: every hash tile and the
    /// stored latest checkpoint (signature with this log's key, and the log's root at its size).
    /// - Throws: `EventLogError` when the log cannot be read.
    public func audit() throws -> Audit {
        var problems: [String] = []
        var checkpoint: Checkpoint?
        if let bytes = try FileSystem.contents(of: checkpointPath) {
            do {
                checkpoint = try Checkpoint(signedNote: String(decoding: bytes, as: UTF8.self), verifier: signer.verifier)
            } catch {
                problems.append("checkpoint \(checkpointPath): \(error)")
            }
        }
        let tileAudit = try tiles.audit(rootSizes: checkpoint.map { [$0.treeSize] } ?? [])
        problems += tileAudit.problems.map(\.description)
        if let checkpoint {
            if let root = tileAudit.rootHashes[checkpoint.treeSize] {
                if root != checkpoint.rootHash {
                    problems.append("checkpoint \(checkpointPath): the log's root at size \(checkpoint.treeSize) differs: the log was rewritten since it was signed")
                }
            } else {
                problems.append("checkpoint \(checkpointPath): names \(checkpoint.treeSize) events but the log holds fewer")
            }
        }
        return Audit(tiles: tileAudit, checkpoint: checkpoint, problems: problems)
    }
}
