import Crypto
import EventLog
import Foundation
import SystemIO

/// Uploads sealed segments that are not archived yet, oldest first, and records each one only after
/// it is verified on the target:
///
/// 1. check the local segment (header, footer, and the footer's SHA-256 over every byte before it, so any
///    change since it was sealed is refused; one read) and read its bytes;
/// 2. upload `segments/<base>.log` (skipped when an identical object is already there: a resumed run);
/// 3. check the stored object with `HEAD` (size and SHA-256 checksum) or by reading it back;
/// 4. upload the manifest entry `manifest/<base>.json` and check it the same way;
/// 5. append the segment to the local state (`ArchiveState`), fsynced.
///
/// Segments go strictly in offset order and a run stops at the first failure, so the manifest is
/// always a gap-free prefix of the log; a run killed anywhere is resumed by the next with no
/// duplicate (keys are named by base offset, and an entry already in the manifest is adopted after
/// comparing digests, or, when they differ, the archived bytes with the local ones: another copy of the
/// same log differs only in its header's creation time). The next segment is read and checked while the current one uploads, and steps
/// 3 to 5 of one segment run while the next one uploads (entries are still written in order).
/// `Archiver` never deletes anything, locally or remotely.
public struct Archiver: Sendable {
    /// Progress after each segment.
    public struct Progress: Sendable {
        /// Segments handled so far, and in this run.
        public var segmentsDone: Int
        public var segmentsTotal: Int
        /// Bytes handled so far, and in this run.
        public var bytesDone: Int64
        public var bytesTotal: Int64
    }

    /// What a run did.
    public struct Summary: Sendable {
        /// Segments uploaded in this run, and their bytes.
        public var uploadedSegments = 0
        public var uploadedBytes: Int64 = 0
        /// Segments found already archived and verified on the target (by the local state or its manifest).
        public var alreadyArchived = 0
        /// Segments whose object was already on the target from an interrupted run (not uploaded again).
        public var resumedSegments = 0
        /// Offsets covered by the segments handled in this run, nil when none.
        public var firstOffset: UInt64?
        public var lastOffset: UInt64?
        /// Wall time of the run, in seconds.
        public var seconds: Double = 0
    }

    /// The log directory (`<data-dir>/log`).
    public let logDirectory: String
    /// `<data-dir>/archive`: state and lock.
    public let stateDirectory: String
    /// Where segments go.
    public let target: any ArchiveTarget
    /// True: upload nothing, only adopt (record in the local state) the local sealed segments whose records the
    /// archive already holds, stopping at the first it does not (`serve --engine` processes that are not the sealer).
    package let adoptsOnly: Bool

    public init(logDirectory: String, stateDirectory: String, target: any ArchiveTarget) {
        self.init(logDirectory: logDirectory, stateDirectory: stateDirectory, target: target, adoptsOnly: false)
    }

    package init(logDirectory: String, stateDirectory: String, target: any ArchiveTarget, adoptsOnly: Bool) {
        self.logDirectory = logDirectory
        self.stateDirectory = stateDirectory
        self.target = target
        self.adoptsOnly = adoptsOnly
    }

    /// A verified local segment ready to upload.
    private struct Prepared: Sendable {
        var entry: ArchiveManifestEntry
        var body: Data
    }

    /// Takes the one-run-at-a-time lock, `<state directory>/lock`, without waiting.
    /// - Throws: `ArchiveError.busy` when another run holds it; `.io` when the file cannot be opened.
    package static func lock(stateDirectory: String) throws(ArchiveError) -> DirectoryLock {
        try fileCall { try FileSystem.createDirectory(stateDirectory) }
        switch try fileCall({ try DirectoryLock.acquire(path: stateDirectory + "/lock") }) {
        case .acquired(let lock): return lock
        case .held: throw ArchiveError(.busy, "another archive run is working on \(stateDirectory)")
        }
    }

    /// Archives every sealed segment not yet archived on the target.
    /// - Parameter progress: called after each segment (from a task, not the main thread).
    /// - Throws: `ArchiveError`; what was recorded before the failure stays recorded, and the next run resumes.
    public func run(progress: @escaping @Sendable (Progress) -> Void = { _ in }) async throws(ArchiveError) -> Summary {
        let started = ContinuousClock.now
        let lock = try Self.lock(stateDirectory: stateDirectory)
        defer { withExtendedLifetime(lock) {} }
        let state = try await BlockingIO.run { () throws(ArchiveError) in try ArchiveState.load(directory: stateDirectory) }
        let location = target.location
        let archivedHere = state.baseOffsets(target: location)
        let logDirectory = self.logDirectory
        let sealed = try await BlockingIO.run { () throws(ArchiveError) -> [(UInt64, Int64)] in
            do throws(EventLogError) {
                var sealed: [(UInt64, Int64)] = []
                for base in try SegmentCatalog.baseOffsets(directory: logDirectory)
                where try SegmentCatalog.footer(directory: logDirectory, baseOffset: base) != nil {
                    sealed.append((base, FileSystem.size(logDirectory + "/" + SegmentName.log(baseOffset: base)) ?? 0))
                }
                return sealed
            } catch {
                throw ArchiveError(.io, "reading the log at \(logDirectory): \(error)")
            }
        }
        var summary = Summary()
        summary.alreadyArchived = sealed.filter { archivedHere.contains($0.0) }.count
        let pending = sealed.filter { !archivedHere.contains($0.0) }
        let bytesTotal = pending.reduce(Int64(0)) { $0 + $1.1 }
        guard !pending.isEmpty else {
            summary.seconds = Self.seconds(since: started)
            return summary
        }

        // The manifest as the target holds it: entries already there are adopted, not uploaded again.
        let remote = Set(try await target.list(prefix: ArchiveLayout.manifestPrefix).compactMap {
            ArchiveLayout.baseOffset(ofManifestKey: $0.key)
        })
        // Where the archive ends, to refuse a gap.
        var expectedNext: UInt64?
        var expectedChain: [UInt8]?
        if let lastRemote = remote.filter({ $0 < pending[0].0 }).max() {
            let entry = try await fetchEntry(baseOffset: lastRemote)
            expectedNext = entry.nextOffset
            expectedChain = entry.chainOut
        }

        var bytesDone: Int64 = 0
        var upcoming: Task<Result<Prepared, ArchiveError>, Never>? = prepare(pending[0].0)
        // The manifest entry and state record of the previous segment, stored while the next segment
        // uploads; entries are still written one after another, in offset order.
        var finishing: Task<Result<Void, ArchiveError>, Never>?
        do throws(ArchiveError) {
            for (index, (base, _)) in pending.enumerated() {
                guard let current = upcoming else { break }
                let prepared = try await current.value.get()
                upcoming = index + 1 < pending.count ? prepare(pending[index + 1].0) : nil
                var entry = prepared.entry
                if remote.contains(base) {
                    let existing = try await fetchEntry(baseOffset: base)
                    guard existing.chainIn == entry.chainIn, existing.chainOut == entry.chainOut,
                          existing.recordCount == entry.recordCount else {
                        throw ArchiveError(.integrity, key: entry.manifestKey,
                                           "the archive already holds a different segment at offset \(base)")
                    }
                    // The stored object is checked against the entry's digest too (by `finish`, unless read back
                    // here): retention deletes the local segment once it is recorded.
                    let objectChecked = existing.sha256 != entry.sha256
                    if objectChecked { try await checkCopy(of: prepared, archived: existing) }
                    entry = existing
                    try await finishing?.value.get()
                    finishing = finish(entry, manifestStored: true, segmentVerified: objectChecked)
                    summary.alreadyArchived += 1
                } else if adoptsOnly {
                    break
                } else {
                    if let expectedNext, base != expectedNext {
                        throw ArchiveError(.integrity, key: entry.segmentKey, base > expectedNext
                            ? "the archive ends before offset \(expectedNext) but the oldest local segment not archived starts at \(base): offsets \(expectedNext)..<\(base) would be missing"
                            : "segment at \(base) overlaps the archive, which already reaches offset \(expectedNext)")
                    }
                    if let expectedChain, entry.chainIn != expectedChain {
                        throw ArchiveError(.integrity, key: entry.segmentKey, "segment at \(base) does not continue the archived hash chain")
                    }
                    // Runs go in order and stop at the first failure, and a segment uploads while only the
                    // previous entry is pending, so an interrupted run leaves at most the first two pending
                    // segments on the target: only those are looked for.
                    let resumed = try await upload(prepared.body, entry: entry, mayExist: index < 2)
                    if resumed { summary.resumedSegments += 1 }
                    try await finishing?.value.get()
                    entry.archivedAtMs = SystemClock.nowMs()
                    finishing = finish(entry, manifestStored: false, segmentVerified: resumed)
                    summary.uploadedSegments += 1
                    summary.uploadedBytes += entry.sizeBytes
                }
                expectedNext = entry.nextOffset
                expectedChain = entry.chainOut
                if summary.firstOffset == nil { summary.firstOffset = base }
                summary.lastOffset = entry.lastOffset ?? summary.lastOffset
                bytesDone += entry.sizeBytes
                progress(Progress(segmentsDone: index + 1, segmentsTotal: pending.count, bytesDone: bytesDone, bytesTotal: bytesTotal))
            }
            try await finishing?.value.get()
            _ = await upcoming?.value  // a read started for a segment an adopting run stopped before
        } catch {
            // Leave the previous entry recorded (or not) before reporting: the next run resumes from there.
            _ = await finishing?.value
            throw error
        }
        summary.seconds = Self.seconds(since: started)
        return summary
    }

    /// Checks an uploaded segment object (unless already checked), stores its manifest entry (unless it is
    /// already there) and checks that, then records the segment in the local state. Runs while the next
    /// segment uploads.
    private func finish(_ entry: ArchiveManifestEntry, manifestStored: Bool,
                        segmentVerified: Bool) -> Task<Result<Void, ArchiveError>, Never> {
        let target = self.target
        let stateDirectory = self.stateDirectory
        return Task {
            do throws(ArchiveError) {
                if !segmentVerified {
                    try await target.verifyStored(key: entry.segmentKey, sizeBytes: entry.sizeBytes, sha256: entry.sha256)
                }
                if !manifestStored {
                    let manifest = entry.encoded()
                    let digest = SHA256.hash(manifest)
                    try await target.put(key: entry.manifestKey, body: manifest, sha256: digest)
                    try await target.verifyStored(key: entry.manifestKey, sizeBytes: Int64(manifest.count), sha256: digest)
                }
                let record = ArchiveState.Segment(target: target.location, baseOffset: entry.baseOffset, lastOffset: entry.lastOffset,
                                                  sizeBytes: entry.sizeBytes, sha256: entry.sha256, verifiedAtMs: SystemClock.nowMs())
                try await BlockingIO.run { () throws(ArchiveError) in
                    var state = ArchiveState(directory: stateDirectory)
                    try state.record(record)
                }
                return .success(())
            } catch {
                return .failure(error)
            }
        }
    }

    /// Uploads a segment unless an intact copy is already there (then it is verified here; a new upload
    /// is verified by `finish`).
    /// - Returns: true when an intact object was already there (a resumed upload).
    private func upload(_ body: Data, entry: ArchiveManifestEntry, mayExist: Bool) async throws(ArchiveError) -> Bool {
        if mayExist, let existing = try await target.head(key: entry.segmentKey), existing.sizeBytes == entry.sizeBytes {
            do {
                try await target.verifyStored(key: entry.segmentKey, sizeBytes: entry.sizeBytes, sha256: entry.sha256)
                return true
            } catch where error.kind == .integrity {
                // A different or damaged object from an earlier attempt: replace it.
            }
        }
        try await target.put(key: entry.segmentKey, body: body, sha256: entry.sha256)
        return false
    }

    /// Adopts an archived segment whose SHA-256 differs from the local one's only when it is the same
    /// records written by another copy of the same log (`serve --engine` processes stamp segment headers
    /// with their own creation time): reads the archived object back, checks it against its manifest
    /// entry, and compares it byte for byte (`SegmentCopies.digest(ofCopy:holdingSameRecordsAs:)`).
    /// - Throws: `ArchiveError.integrity` naming the segment key and both digests otherwise (nothing is
    ///   recorded, so retention deletes nothing locally).
    private func checkCopy(of local: Prepared, archived: ArchiveManifestEntry) async throws(ArchiveError) {
        let key = archived.segmentKey
        let differs = "the archive holds a segment at offset \(archived.baseOffset) that differs from the local one "
            + "(sha256 \(Hex.encode(archived.sha256)), \(archived.sizeBytes) bytes archived; \(Hex.encode(local.entry.sha256)), "
            + "\(local.entry.sizeBytes) bytes here): not adopted"
        guard archived.sizeBytes == local.entry.sizeBytes else { throw ArchiveError(.integrity, key: key, differs) }
        guard let object = try await target.get(key: key) else {
            throw ArchiveError(.integrity, key: key, "\(differs); the archived object is missing")
        }
        // `prepare` checked the local segment's footer digest; the archived object is hashed once.
        let digest = await BlockingIO.run { SegmentCopies.digest(ofCopy: [UInt8](object), holdingSameRecordsAs: [UInt8](local.body)) }
        guard let digest else { throw ArchiveError(.integrity, key: key, differs) }
        guard digest == archived.sha256 else {
            throw ArchiveError(.integrity, key: key, "\(differs); the archived object does not match its manifest entry")
        }
    }

    private func fetchEntry(baseOffset: UInt64) async throws(ArchiveError) -> ArchiveManifestEntry {
        let key = ArchiveLayout.manifestKey(baseOffset: baseOffset)
        guard let data = try await target.get(key: key) else {
            throw ArchiveError(.integrity, key: key, "manifest entry listed but missing")
        }
        return try ArchiveManifestEntry.decode(data, key: key)
    }

    /// Starts verifying and reading the local segment at `base` on the blocking-I/O queue.
    private func prepare(_ base: UInt64) -> Task<Result<Prepared, ArchiveError>, Never> {
        let path = logDirectory + "/" + SegmentName.log(baseOffset: base)
        return Task {
            await BlockingIO.run { () -> Result<Prepared, ArchiveError> in
                Result { () throws(ArchiveError) -> Prepared in
                    let key = ArchiveLayout.segmentKey(baseOffset: base)
                    let verification: SegmentVerification
                    do throws(EventLogError) {
                        verification = try LogVerifier.verifySegment(path: path, expectedBaseOffset: base, checkRecords: false)
                    } catch {
                        throw ArchiveError(.io, key: key, "reading the local segment: \(error)")
                    }
                    if let problem = verification.problem {
                        throw ArchiveError(.integrity, key: key,
                                           "local segment fails verification at offset \(verification.firstBadOffset ?? base): \(problem); not archived")
                    }
                    guard let body = try fileCall({ try FileSystem.data(of: path) }), Int64(body.count) == verification.sizeBytes else {
                        throw ArchiveError(.io, key: key, "local segment changed while being read")
                    }
                    let entry = ArchiveManifestEntry(
                        baseOffset: base, recordCount: verification.recordCount,
                        firstTimestampMs: verification.firstTimestampMs, lastTimestampMs: verification.lastTimestampMs,
                        sizeBytes: verification.sizeBytes, sha256: verification.sha256, chainIn: verification.chainIn,
                        chainOut: verification.chainOut, archivedAtMs: 0)
                    return Prepared(entry: entry, body: body)
                }
            }
        }
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double { (ContinuousClock.now - start).inSeconds }
}
