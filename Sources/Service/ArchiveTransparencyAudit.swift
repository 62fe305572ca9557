import Archive
import EventLog
import Foundation
import Merkle
import SystemIO

/// `verify --archive`'s check of the archive as a transparency log (what `tools/audit.py archive` checks,
/// and more): the archive's `checkpoint` (its signature, when a verifier key is known), and every hash
/// tile of its size (`tile/<L>/<N>[.p/<W>]`) recomputed from the archived events themselves, and the
/// checkpoint's root.
public enum ArchiveTransparencyAudit {
    /// What `audit` found.
    public struct Report: Sendable {
        /// The archive's checkpoint, when there is one that parses (and verifies, with a key).
        public var checkpoint: Checkpoint?
        /// Whether the checkpoint's signature was checked (a verifier key was given).
        public var signatureChecked = false
        /// Tiles compared with the archived events.
        public var checkedTileCount = 0
        /// Every problem found, one line each (a missing or different tile, a wrong root, a bad signature).
        public var problems: [String] = []
        /// Observations that are not failures.
        public var notes: [String] = []
    }

    /// Most problems listed before the audit stops (a wholly wrong tile set names the first ones).
    public static let problemCountMax = 100

    /// Audits the archive in `target`, checking its checkpoint with `verifierKey` (`--vkey`) when given,
    /// else with the key of the data directory at `layout` when it has one (else unchecked, noted).
    /// - Throws: `TransparencyLog.VerifierKeyError` for a malformed `verifierKey`; as `audit(target:verifier:scratchDirectory:)`.
    package static func audit(target: any ArchiveTarget, verifierKey: String?, layout: DataLayout,
                              scratchDirectory: String) async throws -> Report {
        let verifier = try TransparencyLog.archiveVerifier(verifierKey: verifierKey, layout: layout)
        return try await audit(target: target, verifier: verifier, scratchDirectory: scratchDirectory)
    }

    /// Audits the archive in `target`.
    /// - Parameters:
    ///   - verifier: the log's checkpoint verifier key; nil checks the tiles and root only (noted).
    ///   - scratchDirectory: where archived segments are fetched to (created, and removed afterwards).
    /// - Throws: `ArchiveError` when the archive cannot be read; `EventLogError` for an archived segment
    ///   that does not read (which `ArchiveVerifier` names more precisely).
    public static func audit(target: any ArchiveTarget, verifier: NoteVerifier?, scratchDirectory: String) async throws -> Report {
        var report = Report()
        guard let data = try await target.get(key: ArchiveLayout.checkpointKey) else {
            let manifest = try await ArchiveManifest.load(target: target)
            if manifest.baseOffsets.first == 0 {
                report.problems.append("the archive holds segments from offset 0 but no checkpoint (`\(ArchiveLayout.checkpointKey)`)")
            } else {
                report.notes.append("the archive holds no checkpoint and no tree from offset 0 (nothing to check)")
            }
            return report
        }
        let note = String(decoding: data, as: UTF8.self)
        let checkpoint: Checkpoint
        do {
            if let verifier {
                checkpoint = try Checkpoint(signedNote: note, verifier: verifier)
                report.signatureChecked = true
            } else {
                guard let end = note.range(of: "\n\n") else { throw SignedNoteError.malformed(.note, reason: "no blank line before the signatures") }
                checkpoint = try Checkpoint(body: String(note[..<end.lowerBound]) + "\n")
                report.notes.append("the checkpoint's signature was not checked (no verifier key: pass --vkey, or run where the data directory's key is)")
            }
        } catch {
            report.problems.append("\(ArchiveLayout.checkpointKey): \(error)")
            return report
        }
        report.checkpoint = checkpoint
        guard checkpoint.treeSize > 0 else { return report }

        let local = scratchDirectory + "/empty-log"
        try FileSystem.createDirectory(local)
        defer { try? FileSystem.removeTree(scratchDirectory) }
        let manifest = try await ArchiveManifest.load(target: target)
        var reader = try await ArchivedLogReader(manifest: manifest, cache: SegmentCache(directory: scratchDirectory + "/cache", target: target),
                                                 localDirectory: local, start: .offset(0))
        var builder = MerkleTileBuilder()
        func check(_ tile: MerkleTile, expected: [UInt8]) async throws {
            report.checkedTileCount += 1
            guard let stored = try await target.get(key: tile.path) else {
                return report.problems.append("\(tile.path): missing")
            }
            if [UInt8](stored) != expected {
                report.problems.append("\(tile.path): " + (stored.count == expected.count
                    ? "differs from the hashes of the archived events" : "\(stored.count) bytes, expected \(expected.count)"))
            }
        }
        while builder.treeSize < checkpoint.treeSize, report.problems.count < Self.problemCountMax {
            guard let record = try await reader.next() else { break }
            guard record.offset == builder.treeSize else {
                report.problems.append("the archived events jump from offset \(builder.treeSize) to \(record.offset)")
                return report
            }
            var filled: [(MerkleTile, [UInt8])] = []
            builder.append(leafHash: RecentLeafHashes.leafHash(of: record)) { filled.append(($0, $1)) }
            for (tile, bytes) in filled { try await check(tile, expected: bytes) }
        }
        guard builder.treeSize == checkpoint.treeSize else {
            if report.problems.count < Self.problemCountMax {
                report.problems.append("the checkpoint names \(checkpoint.treeSize) events but the archive holds \(builder.treeSize) from offset 0")
            }
            return report
        }
        for (tile, bytes) in builder.partialTiles { try await check(tile, expected: bytes) }
        if builder.rootHash != checkpoint.rootHash {
            report.problems.append("\(ArchiveLayout.checkpointKey): its root differs from the root of the archived events' tree of size \(checkpoint.treeSize)")
        }
        return report
    }
}
