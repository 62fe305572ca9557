import Foundation
import JSON
import Merkle

/// What `prove`, `verify --checkpoint` and `verify --archive` ask of the transparency log, in the
/// terms the command line prints: proofs as JSON text, verdicts as values, bounds as messages.
extension TransparencyLog {
    /// A proof asked beyond the log (a tree size larger than the log, an offset outside the tree, sizes
    /// out of order): the caller's mistake, not damage. `description` says which bound.
    package struct ProofBoundsError: Error, CustomStringConvertible {
        package let description: String
    }

    /// `verify --checkpoint`'s verdict on a note.
    package enum NoteCheck: Sendable {
        /// The note is signed by this log's key and the log (now `logSize` events) still holds its tree.
        case holds(checkpoint: Checkpoint, logSize: UInt64)
        /// The signature or format is bad, or the log no longer holds that tree; `reason` says which.
        case refused(reason: String)
    }

    /// A malformed `--vkey`; `description` is the parser's reason.
    package struct VerifierKeyError: Error, CustomStringConvertible {
        package let description: String
    }

    /// Largest checkpoint note `verify --checkpoint` reads, in bytes (what the note verifier accepts).
    package static let noteSizeBytesMax = NoteVerifier.noteByteCountMax

    /// `inclusionProof(offset:treeSize:)` as one line of JSON.
    /// - Throws: `ProofBoundsError` for bounds; otherwise as `inclusionProof(offset:treeSize:)`.
    package func inclusionProofLine(offset: UInt64, treeSize: UInt64?) throws -> String {
        try boundsChecked { try inclusionProof(offset: offset, treeSize: treeSize) }
    }

    /// `consistencyProof(from:to:)` as one line of JSON.
    /// - Throws: `ProofBoundsError` for bounds; otherwise as `consistencyProof(from:to:)`.
    package func consistencyProofLine(from: UInt64, to: UInt64) throws -> String {
        try boundsChecked { try consistencyProof(from: from, to: to) }
    }

    /// `make`'s proof as text; a Merkle proof error (bounds; a proof that does not verify is already
    /// `TransparencyLogError.unverifiedProof`) becomes `ProofBoundsError`.
    private func boundsChecked(_ make: () throws -> JSONValue) throws -> String {
        do {
            return String(decoding: try make().encoded(), as: UTF8.self)
        } catch let error as MerkleProofError {
            throw ProofBoundsError(description: error.description)
        }
    }

    /// `check(note:)` as a verdict: a bad signature or format and a rewritten log are `.refused`.
    /// - Throws: what reading the log and the tiles throws.
    package func checkResult(note: String) throws -> NoteCheck {
        do {
            let (checkpoint, size) = try check(note: note)
            return .holds(checkpoint: checkpoint, logSize: size)
        } catch let error as SignedNoteError {
            return .refused(reason: "\(error)")
        } catch let error as TransparencyLogError {
            return .refused(reason: "\(error)")
        }
    }

    /// The key that checks an archive's checkpoint: `verifierKey` (a signed-note verifier key, `--vkey`)
    /// when given, else the key of the data directory at `layout` when it has one, else nil (the
    /// signature is not checked).
    /// - Throws: `VerifierKeyError` for a malformed `verifierKey`; what opening the log's key throws.
    package static func archiveVerifier(verifierKey: String?, layout: DataLayout) throws -> NoteVerifier? {
        if let verifierKey {
            do { return try NoteVerifier(verifierKey: verifierKey) } catch { throw VerifierKeyError(description: "\(error)") }
        }
        guard FileManager.default.fileExists(atPath: layout.checkpointKey) else { return nil }
        return try TransparencyLog(layout: layout).signer.verifier
    }
}
