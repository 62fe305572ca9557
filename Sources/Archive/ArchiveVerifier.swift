import Crypto
import EventLog
import Foundation
import SystemIO

/// Verifies an archive on its own, and its continuity into a local log:
///
/// - every manifest entry is well-formed and named by its base offset;
/// - entries are contiguous (no gap, no overlap: the next base is the previous last offset + 1) and
///   chained (chain in of N+1 == chain out of N; the first segment of a log starts from zero);
/// - every segment object is present, matches its entry's size and SHA-256, and passes
///   `LogVerifier.verifySegment` (header, every record CRC, dense offsets, the hash chain, footer);
/// - no segment object lies outside the manifest (inserted, duplicated or misplaced objects), except
///   the one right after the last entry that an interrupted run may have left;
/// - with a local log: its first segment continues the archive (meets or overlaps it with the same
///   chain values), and the local log verifies from there (`LogVerifier.verify`).
///
/// A report names the first bad offset.
public enum ArchiveVerifier {
    /// The outcome.
    public struct Report: Sendable {
        /// Archived segments, records (CRC and chain checked) and bytes verified; the first offset that is
        /// missing, altered, out of place or unexpected, in the archive or where the local log continues it.
        public var summary = VerificationSummary()
        /// First offset in the archive; nil for an empty archive.
        public var firstOffset: UInt64?
        /// The offset after the archive's last record; nil for an empty archive.
        public var nextOffset: UInt64?
        /// The local log's verification, when one was given.
        public var local: LogVerifier.Report?

        /// True when nothing is wrong.
        public var isIntact: Bool { summary.isIntact }
    }

    /// Verifies the archive in `target`, then (when `localLogDirectory` is given) its continuity into that log.
    /// - Parameter progress: called after each archived segment with (bytes verified, total bytes).
    /// - Throws: `ArchiveError` when the target cannot be read at all (network, permissions); damage is
    ///   reported in the `Report`, not thrown.
    public static func verify(target: any ArchiveTarget, localLogDirectory: String? = nil,
                              progress: @escaping @Sendable (Int64, Int64) -> Void = { _, _ in }) async throws(ArchiveError) -> Report {
        var report = Report()
        var failures: [(offset: UInt64, problem: String)] = []
        func finish() -> Report {
            if let first = failures.min(by: { $0.offset < $1.offset }) {
                report.summary.fail(at: first.offset, first.problem)
            }
            return report
        }

        let objects = try await target.list(prefix: "")
        var manifestKeys: [(UInt64, String)] = []
        var segmentObjects: [UInt64: ArchiveObjectInfo] = [:]
        for object in objects {
            if let base = ArchiveLayout.baseOffset(ofManifestKey: object.key) {
                manifestKeys.append((base, object.key))
            } else if let base = ArchiveLayout.baseOffset(ofSegmentKey: object.key) {
                segmentObjects[base] = object
            } else if ArchiveLayout.isTransparencyLogKey(object.key) {
                // The checkpoint and hash tiles: checked by `tools/audit.py archive` (signature, tiles, proofs).
                continue
            } else {
                report.summary.notes.append("ignored object \(object.key) (not part of the archive layout)")
            }
        }
        manifestKeys.sort { $0.0 < $1.0 }
        let totalBytes = manifestKeys.reduce(Int64(0)) { $0 + (segmentObjects[$1.0]?.sizeBytes ?? 0) }

        let scratch = NSTemporaryDirectory() + "argus-archive-verify-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try await BlockingIO.run { () throws(ArchiveError) in try fileCall { try FileSystem.createDirectory(scratch) } }
        defer { try? fileCall { try FileSystem.removeTree(scratch) } }

        var previous: ArchiveManifestEntry?
        var referenced = Set<UInt64>()
        walk: for (base, key) in manifestKeys {
            guard let data = try await target.get(key: key) else {
                failures.append((base, "\(key): manifest entry disappeared while verifying"))
                break
            }
            let entry: ArchiveManifestEntry
            do throws(ArchiveError) {
                entry = try ArchiveManifestEntry.decode(data, key: key)
            } catch {
                failures.append((base, "\(key): \(error.message)"))
                break
            }
            if entry.baseOffset != base {
                failures.append((base, "\(key): entry describes base offset \(entry.baseOffset)"))
                break
            }
            referenced.insert(base)
            if let previous {
                if base > previous.nextOffset {
                    failures.append((previous.nextOffset, "offsets \(previous.nextOffset)..<\(base) are missing from the archive (gap in the manifest)"))
                    break
                }
                if base < previous.nextOffset {
                    failures.append((base, "\(key): segment at \(base) overlaps the previous one, which ends at \(previous.nextOffset - 1) (duplicated or reordered)"))
                    break
                }
                if entry.chainIn != previous.chainOut {
                    failures.append((base, "\(key): chain in does not continue the chain out of the segment at \(previous.baseOffset)"))
                    break
                }
            } else {
                report.firstOffset = base
                if base == 0, entry.chainIn != [UInt8](repeating: 0, count: 32) {
                    failures.append((0, "\(key): the first segment of a log must start from a zero chain"))
                    break
                }
                if base != 0 { report.summary.notes.append("the archive starts at offset \(base)") }
            }
            guard let object = segmentObjects[base] else {
                failures.append((base, "\(entry.segmentKey): archived segment is missing"))
                break
            }
            if object.sizeBytes != entry.sizeBytes {
                // Still read it: a record-level check names a more precise offset when it can.
                report.summary.notes.append("\(entry.segmentKey): \(object.sizeBytes) bytes, manifest says \(entry.sizeBytes)")
            }
            guard let body = try await target.get(key: entry.segmentKey) else {
                failures.append((base, "\(entry.segmentKey): archived segment is missing"))
                break
            }
            let path = scratch + "/" + SegmentName.log(baseOffset: base)
            let checked = try await BlockingIO.run { () throws(ArchiveError) -> (SegmentVerification?, String?, [UInt8]) in
                try fileCall { try FileSystem.writeAtomically(body, to: path, creatingDirectory: true) }
                defer { try? fileCall { try FileSystem.remove(path) } }
                let digest = body.withUnsafeBytes { SHA256.hash($0) }
                do throws(EventLogError) {
                    return (try LogVerifier.verifySegment(path: path, expectedBaseOffset: base, expectedChainIn: entry.chainIn), nil, digest)
                } catch {
                    return (nil, "\(error)", digest)
                }
            }
            guard let verification = checked.0 else {
                failures.append((base, "\(entry.segmentKey): \(checked.1 ?? "unreadable")"))
                break
            }
            if let bad = verification.firstBadOffset {
                failures.append((bad, "\(entry.segmentKey): \(verification.problem ?? "damaged")"))
                break
            }
            let mismatch: String? =
                checked.2 != entry.sha256 || Int64(body.count) != entry.sizeBytes ? "SHA-256 or size differs from the manifest (object modified)"
                : verification.recordCount != entry.recordCount ? "holds \(verification.recordCount) records, manifest says \(entry.recordCount)"
                : verification.chainOut != entry.chainOut ? "chain out differs from the manifest"
                : verification.firstTimestampMs != entry.firstTimestampMs || verification.lastTimestampMs != entry.lastTimestampMs
                    ? "record times differ from the manifest" : nil
            if let mismatch {
                failures.append((base, "\(entry.segmentKey): \(mismatch)"))
                break walk
            }
            report.summary.addSegment(recordCount: entry.recordCount, sizeBytes: entry.sizeBytes)
            report.nextOffset = entry.nextOffset
            previous = entry
            progress(report.summary.sizeBytes, totalBytes)
        }

        // Segment objects the manifest does not account for. Past its end, an interrupted run may have left
        // up to two uploaded segments without entries: they are accepted (as notes) when they verify and
        // continue the archive; anything else is inserted, duplicated or misplaced.
        var pendingNext = previous?.nextOffset ?? (manifestKeys.isEmpty ? segmentObjects.keys.min() ?? 0 : 0)
        var pendingChain = previous?.chainOut
        for (base, object) in segmentObjects.sorted(by: { $0.key < $1.key }) where !referenced.contains(base) {
            var continues = false
            if failures.isEmpty, base == pendingNext, let body = try await target.get(key: object.key) {
                let path = scratch + "/pending-" + SegmentName.log(baseOffset: base)
                let chainIn = pendingChain
                let verification = try await BlockingIO.run { () throws(ArchiveError) -> SegmentVerification? in
                    try fileCall { try FileSystem.writeAtomically(body, to: path, creatingDirectory: true) }
                    defer { try? fileCall { try FileSystem.remove(path) } }
                    return try? LogVerifier.verifySegment(path: path, expectedBaseOffset: base, expectedChainIn: chainIn)
                }
                if let verification, verification.isIntact, base == 0 || chainIn != nil {
                    continues = true
                    pendingNext = base + verification.recordCount
                    pendingChain = verification.chainOut
                }
            }
            if continues {
                report.summary.notes.append("\(object.key) is uploaded but not yet in the manifest (an interrupted run; the next `archive` completes it)")
            } else {
                failures.append((base, "\(object.key): segment object not in the manifest (inserted, duplicated or misplaced)"))
                break
            }
        }
        guard failures.isEmpty, let localLogDirectory else { return finish() }

        // Continuity into the local log, then the local log itself.
        let archivedEntries = previous
        let localResult = try await BlockingIO.run { () throws(ArchiveError) -> (LogVerifier.Report, (UInt64, String)?) in
            do throws(EventLogError) {
                let bases = try SegmentCatalog.baseOffsets(directory: localLogDirectory)
                var expectedChainIn: [UInt8]?
                var continuity: (UInt64, String)?
                if let first = bases.first, let last = archivedEntries {
                    let header = try SegmentCatalog.header(directory: localLogDirectory, baseOffset: first)
                    if first > last.nextOffset {
                        continuity = (last.nextOffset, "offsets \(last.nextOffset)..<\(first) are neither archived nor in the local log")
                    } else if first == last.nextOffset {
                        expectedChainIn = last.chainOut
                        if header.chainIn != last.chainOut {
                            continuity = (first, "the local log does not continue the archive's hash chain")
                        }
                    }
                }
                let local = try LogVerifier.verify(directory: localLogDirectory, expectedChainIn: expectedChainIn)
                return (local, continuity)
            } catch {
                throw ArchiveError(.io, "reading the local log at \(localLogDirectory): \(error)")
            }
        }
        report.local = localResult.0
        if let continuity = localResult.1 { failures.append(continuity) }
        if let bad = localResult.0.summary.firstBadOffset { failures.append((bad, "local log: \(localResult.0.summary.problem ?? "damaged")")) }
        // Local segments that are also archived must be the same segments.
        if let last = archivedEntries, failures.isEmpty {
            for base in try await localArchivedOverlap(localLogDirectory, upTo: last.nextOffset) {
                let key = ArchiveLayout.manifestKey(baseOffset: base)
                guard let data = try await target.get(key: key) else { continue }
                let entry = try ArchiveManifestEntry.decode(data, key: key)
                let same = try await BlockingIO.run { () throws(ArchiveError) -> Bool in
                    do throws(EventLogError) {
                        let header = try SegmentCatalog.header(directory: localLogDirectory, baseOffset: base)
                        let footer = try SegmentCatalog.footer(directory: localLogDirectory, baseOffset: base)
                        return header.chainIn == entry.chainIn && footer?.lastChain == entry.chainOut
                            && footer?.recordCount == entry.recordCount
                    } catch {
                        throw ArchiveError(.io, "reading the local log at \(localLogDirectory): \(error)")
                    }
                }
                if !same {
                    failures.append((base, "local segment \(SegmentName.log(baseOffset: base)) differs from the archived one"))
                    break
                }
            }
        }
        return finish()
    }

    /// Local segment bases below `limit` (those the archive also holds).
    private static func localArchivedOverlap(_ directory: String, upTo limit: UInt64) async throws(ArchiveError) -> [UInt64] {
        try await BlockingIO.run { () throws(ArchiveError) -> [UInt64] in
            do throws(EventLogError) {
                return try SegmentCatalog.baseOffsets(directory: directory).filter { $0 < limit }
            } catch {
                throw ArchiveError(.io, "reading the local log at \(directory): \(error)")
            }
        }
    }
}
