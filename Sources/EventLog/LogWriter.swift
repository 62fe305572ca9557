import Crypto
import Foundation
import JSON
import Synchronization
import SystemIO
#if canImport(Glibc)
import Glibc
#endif

/// The single writer of a log: a dedicated thread that drains the append queue in groups, writes
/// each group with one `pwrite` and makes it durable with one `fdatasync` (group commit).
///
/// `@unchecked Sendable`: `segment` and the other writer-state fields are touched only by the
/// writer thread (and by `init` before it starts); the queue is guarded by `condition`.
final class LogWriter: @unchecked Sendable {
    struct Request {
        var events: [NewEvent]
        var completion: @Sendable (Result<[AppendedEvent], EventLogError>) -> Void
    }

    private let condition = NSCondition()
    private var queue: [Request] = []
    private var queuedCount = 0
    private var closing = false
    private var finished = false

    private var segment: ActiveSegment
    private let options: EventLogOptions
    private var failure: EventLogError?
    /// What was written since the last `fdatasync`: when the first of it was (ms since 1970) and how many
    /// bytes (at most `EventLogLimits.groupSizeBytesMax` under `interval` and `none`); nil when all is synced.
    private var unsynced: (sinceMs: Int64, bytes: Int)?
    /// A group's frames, kept for the next group (no allocation per group).
    private var frameBuffer = ReusableBytes(capacityBytesMax: LogWriter.reusedBufferBytesMax)
    /// Largest capacity of `frameBuffer` kept between groups, in bytes.
    static let reusedBufferBytesMax = EventLogLimits.groupSizeBytesMax
    /// Index entries of records no `fdatasync` covered yet: written to the index file after one does.
    private var pendingIndex = PendingIndexEntries()
    /// Called once per durable group with the new next offset, before the group's completions.
    private let onDurable: @Sendable (UInt64) -> Void
    /// Where the leaf hashes of each durable group go (nil: none are computed).
    private let recentLeafHashes: RecentLeafHashes?
    /// The leaf heads' buffers, kept from group to group.
    private var leafHeads = RecentLeafHashes.LeafHeads()
    /// The active segment and its durable size as of the last durable group or roll, readable from any
    /// thread (updated before `onDurable`, so a reader that sees a new head also sees the bytes that hold it).
    let activeExtent = Mutex(ActiveExtent(baseOffset: 0, sizeBytes: 0))
    /// Durations of the group commits' `fdatasync` calls.
    let syncRecorder = SyncRecorder()
    /// Whether appends are accepted now (read by any thread).
    let health = Mutex<LogHealth>(.accepting)
    /// The active segment carries its footer but the next segment could not be created yet.
    private var activeSealed = false
    /// How long the idle writer waits before probing again after a failure, in seconds.
    static let probeIntervalSeconds = 1.0
    /// Free space below which a probe still reports the disk as full, in bytes.
    static let probeFreeBytesMin: UInt64 = 256 * 1024
    init(segment: ActiveSegment, options: EventLogOptions, recentLeafHashes: RecentLeafHashes?,
         onDurable: @escaping @Sendable (UInt64) -> Void) {
        self.segment = segment
        self.options = options
        self.recentLeafHashes = recentLeafHashes
        self.onDurable = onDurable
        publishExtent()
    }

    private func publishExtent() {
        let extent = ActiveExtent(baseOffset: segment.header.baseOffset, sizeBytes: segment.sizeBytes)
        activeExtent.withLock { $0 = extent }
    }

    func start() {
        Thread.detachNewThread(named: "argus-log-writer") { [self] in run() }
    }

    /// Whether a request queued with `deferringWake` has not woken the writer yet (read without the
    /// lock by `wakeIfDeferred`, so a turn of the I/O loop that queued nothing takes no lock).
    private let wakeDeferred = Atomic<Bool>(false)
    /// Whether the writer sleeps with nothing to do (guarded by `condition`; for tests, see `isIdle`).
    private var idleWaiting = false
    /// How many times the writer has taken a non-empty queue (guarded by `condition`; for tests).
    private var takeCount = 0

    /// How many times the writer has taken a non-empty queue (for tests of deferred wakes).
    var takenQueueCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return takeCount
    }

    /// Whether the writer sleeps with nothing to do: a request queued now without a wake waits (for tests).
    var isIdle: Bool {
        condition.lock()
        defer { condition.unlock() }
        return idleWaiting
    }

    /// Wakes the writer for requests queued with `deferringWake` since it last took the queue.
    func wakeIfDeferred() {
        guard wakeDeferred.load(ordering: .relaxed) else { return }
        condition.lock()
        if wakeDeferred.exchange(false, ordering: .relaxed) { condition.signal() }
        condition.unlock()
    }

    /// Queues a group of events; `completion` runs on the writer thread once they are durable.
    /// - Parameter deferringWake: queue without waking an idle writer: the caller calls
    ///   `wakeIfDeferred` once it has queued what it has (so the writer takes them as one group and one
    ///   `fdatasync`, not the first alone); the writer takes them anyway within `EventLogOptions.writerIdleWaitSecondsMax`.
    func submit(_ request: Request, deferringWake: Bool = false) {
        condition.lock()
        if closing {
            condition.unlock()
            request.completion(.failure(.closed))
            return
        }
        if queuedCount + request.events.count > EventLogLimits.pendingAppendCountMax {
            let count = queuedCount
            condition.unlock()
            request.completion(.failure(.overloaded(pendingCount: count)))
            return
        }
        queue.append(request)
        queuedCount += request.events.count
        if deferringWake {
            wakeDeferred.store(true, ordering: .relaxed)
        } else {
            condition.signal()
        }
        condition.unlock()
    }

    /// Stops accepting, finishes what is queued, syncs, and waits for the thread to end.
    func close() {
        condition.lock()
        closing = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            // Every wait below also ends after `writerIdleWaitSecondsMax`: a request queued with `deferringWake`
            // and never woken for is taken within that bound whatever the writer waits for.
            let probeDeadline = Date(timeIntervalSinceNow: Self.probeIntervalSeconds)
            while queue.isEmpty && !closing {
                let idleDeadline = Date(timeIntervalSinceNow: options.writerIdleWaitSecondsMax)
                idleWaiting = true
                defer { idleWaiting = false }
                if case .failing = health.withLock({ $0 }) {
                    // Idle after a failure: look again every second, so health recovers without traffic.
                    _ = condition.wait(until: min(probeDeadline, idleDeadline))
                    if Date() >= probeDeadline { break }
                } else if case .interval(let milliseconds) = options.fsyncPolicy, let since = unsynced?.sinceMs {
                    let syncDeadline = Date(timeIntervalSince1970: Double(since + Int64(milliseconds)) / 1000)
                    _ = condition.wait(until: min(syncDeadline, idleDeadline))
                    if Date() >= syncDeadline { break }
                } else {
                    _ = condition.wait(until: idleDeadline)
                }
            }
            let batch = queue
            if !batch.isEmpty { takeCount += 1 }
            queue = []
            queuedCount = 0
            wakeDeferred.store(false, ordering: .relaxed)
            let stopping = closing && batch.isEmpty
            condition.unlock()

            if !batch.isEmpty {
                process(batch)
            } else if !stopping, case .failing = health.withLock({ $0 }) {
                probe()
            }
            syncIfIntervalElapsed()
            if stopping {
                if failure == nil, unsynced != nil { try? synchronizeRecorded() }
                // A clean stop leaves no zero-filled space behind (recovery would drop it, with a note).
                if failure == nil, !activeSealed { try? segment.releasePreallocation() }
                condition.lock()
                finished = true
                condition.broadcast()
                condition.unlock()
                return
            }
        }
    }

    /// `fdatasync` of the active segment (or the fault a test injected through `EventLogOptions.dataSyncFault`).
    private func synchronizeSegmentData() throws(SystemError) {
        if let fault = options.dataSyncFault?() { throw fault }
        try segment.file.synchronizeData()
    }

    /// `synchronizeSegmentData`, timed into `syncRecorder`; nothing is unsynced afterwards, so the
    /// pending index entries are written.
    private func synchronizeRecorded() throws(EventLogError) {
        let started = ContinuousClock.now
        try systemCall { try synchronizeSegmentData() }
        syncRecorder.record(seconds: (ContinuousClock.now - started).inSeconds)
        unsynced = nil
        writePendingIndex(syncedEnd: .max)
    }

    /// Writes the pending index entries whose records start before `syncedEnd` (all of them end
    /// before it: syncs cover whole records). The index is a rebuildable cache: a failed write only
    /// costs a rebuild later.
    private func writePendingIndex(syncedEnd: Int64) {
        guard pendingIndex.count > 0 else { return }
        var count = 0
        while count < pendingIndex.count, segment.index.entries[pendingIndex.firstEntry + count].position < syncedEnd { count += 1 }
        guard count > 0 else { return }
        let fileOffsetBytes = pendingIndex.fileOffsetBytes
        let bytes = pendingIndex.removeFirst(count)
        try? systemCall { try segment.indexFile.write(bytes, at: fileOffsetBytes) }
    }

    /// The fault a test injected at `point` (see `EventLogOptions.writerFault`), thrown.
    private func injectFault(_ point: EventLogOptions.WriterFaultPoint) throws(SystemError) {
        if let fault = options.writerFault?(point) { throw fault }
    }

    /// Cuts the active segment back to `sizeBytes` (bytes of a group answered with an error) and
    /// makes the cut durable (`fsync`: written-back bytes of the group may be on the disk already).
    private func cutUnacknowledged(to sizeBytes: Int64) throws(EventLogError) {
        try systemCall {
            try injectFault(.cutTruncate)
            try segment.file.truncate(to: sizeBytes)
        }
        try systemCall {
            try injectFault(.cutSynchronize)
            try segment.file.synchronize()
        }
    }

    private func syncIfIntervalElapsed() {
        guard case .interval(let milliseconds) = options.fsyncPolicy, let since = unsynced?.sinceMs,
              SystemClock.nowMs() - since >= Int64(milliseconds), failure == nil else { return }
        do {
            try synchronizeRecorded()
        } catch {
            fail(error)
        }
    }

    /// A failed `fdatasync` (or a failed cut of unacknowledged bytes): the writer stops for good.
    private func fail(_ error: EventLogError) {
        failure = .writerFailed(reason: error.description)
        health.withLock { $0 = .stopped(reason: error.description) }
        options.logger.error("log writer stopped", [("error", .string(String(describing: error)))])
        options.onStopped(error.description)
    }

    /// An append or roll failed without harm to what is durable: answer it, try again later.
    private func noteFault(_ error: EventLogError) {
        guard failure == nil else { return }
        var cause: SystemError?
        if case .system(let system) = error { cause = system }
        let changed = health.withLock { health -> Bool in
            defer { health = .failing(reason: error.description, cause: cause) }
            if case .failing = health { return false }
            return true
        }
        if changed { options.logger.error("log writer: appends fail until the cause is gone (retried by itself)", [("error", .string(String(describing: error)))]) }
    }

    private func noteAccepting() {
        let changed = health.withLock { health -> Bool in
            defer { health = .accepting }
            if case .failing = health { return true }
            return false
        }
        if changed { options.logger.info("log writer: appends accepted again") }
    }

    /// While idle after a failure: finishes a pending roll, or checks for free space and a spare
    /// descriptor, and reports the log healthy again when they are there.
    private func probe() {
        guard failure == nil else { return }
        if activeSealed || isRollDue(nowMs: SystemClock.nowMs()) {
            do {
                try roll(nowMs: SystemClock.nowMs())
                noteAccepting()
            } catch {
                noteFault(error)
            }
            return
        }
        var status = statvfs()
        guard fstatvfs(segment.file.rawValue, &status) == 0 else { return }
        let freeBytes = UInt64(status.f_bavail) * UInt64(status.f_bsize)
        let spare = dup(segment.file.rawValue)
        if spare >= 0 { Glibc.close(spare) }
        if freeBytes >= Self.probeFreeBytesMin, spare >= 0 { noteAccepting() }
    }

    private func isRollDue(nowMs: Int64) -> Bool {
        segment.recordCount > 0
            && (EventLog.isSegmentFull(sizeBytes: segment.sizeBytes, segmentSizeBytesMax: options.segmentSizeBytesMax)
                || Double(nowMs - segment.header.createdMs) / 1000 >= options.segmentAgeSecondsMax)
    }

    private static func isSyncFailure(_ error: EventLogError) -> Bool {
        if case .system(let system) = error { return system.call == "fdatasync" || system.call == "fsync" }
        return false
    }

    private func process(_ batch: [Request]) {
        if let failure {
            for request in batch { request.completion(.failure(failure)) }
            return
        }
        let nowMs = SystemClock.nowMs()
        if activeSealed || isRollDue(nowMs: nowMs) {
            do {
                try roll(nowMs: nowMs)
            } catch {
                // A roll that could not write is tried again at the next group; see `roll`.
                noteFault(error)
                for request in batch { request.completion(.failure(failure ?? error)) }
                return
            }
        }

        let startSize = segment.sizeBytes
        var writer = ByteWriter()
        writer.bytes = frameBuffer.take(reservingCapacity: batch.reduce(0) { $0 + $1.events.reduce(0) { $0 + $1.data.count + 160 } })
        defer { frameBuffer.keep(writer.bytes) }
        var indexBytes: [UInt8] = []
        var results: [[AppendedEvent]] = []
        results.reserveCapacity(batch.count)
        let firstOffset = segment.nextOffset
        var offset = firstOffset
        // Has absorbed the last record's chain value (see `RecordFrame.appendEvent`).
        var chain = SHA256()
        chain.update(segment.chain)
        var lastChainPosition: Int?
        // Frames are hashed into a copy, kept only when the group is written.
        var segmentDigest = segment.digest
        let timestampMs = max(nowMs, segment.lastTimestampMs)
        // Copied events keep their own times (see `NewEvent.timestampMs`); the clock never goes below the latest.
        var latestTimestampMs = timestampMs
        // Index entries are noted in place and rolled back if the write fails (copying the segment state
        // would copy its whole index on every group).
        let indexCountBefore = segment.index.entries.count
        let lastIndexedBefore = segment.lastIndexedPosition
        // Each frame is hashed for the segment together with the payload of the event framed after it (see
        // `RecordFrame.absorb`): `upcoming` runs one event ahead of the loop, the first payload is hashed alone.
        // `payloadDigest` holds the digest of the event framed next.
        var upcoming = batch.lazy.flatMap(\.events).makeIterator()
        var payloadDigest: [UInt8] = []
        payloadDigest.reserveCapacity(SHA256.digestByteCount)
        if let first = upcoming.next() { RecordFrame.appendPayloadDigest(of: first, to: &payloadDigest) }
        // Where the pieces written (and synced) one at a time end in `writer.bytes`, but the last (which ends
        // with it): none is longer than `groupSizeBytesMax`, which recovery relies on (see
        // `Recovery.isTornTail`). Mostly empty (no allocation).
        var pieceEnds: [Int] = []
        var pieceStart = 0
        for request in batch {
            var appended: [AppendedEvent] = []
            appended.reserveCapacity(request.events.count)
            for event in request.events {
                let frameStart = writer.bytes.count
                let position = startSize + Int64(frameStart)
                let eventTimestampMs = event.timestampMs ?? timestampMs
                latestTimestampMs = max(latestTimestampMs, eventTimestampMs)
                lastChainPosition = payloadDigest.withUnsafeBytes { digest in
                    RecordFrame.appendEvent(event, offset: offset, timestampMs: eventTimestampMs, payloadDigest: digest,
                                            chain: &chain, to: &writer)
                }
                payloadDigest.removeAll(keepingCapacity: true)
                let following = upcoming.next()
                writer.bytes.withUnsafeBytes { frames in
                    RecordFrame.absorb(frame: UnsafeRawBufferPointer(rebasing: frames[frameStart...]), into: &segmentDigest,
                                       withPayloadOf: following, to: &payloadDigest)
                }
                segment.noteRecord(offset: offset, position: position, timestampMs: eventTimestampMs,
                                   intervalBytes: options.indexIntervalBytes, pendingIndexBytes: &indexBytes)
                appended.append(AppendedEvent(event, offset: offset, timestampMs: eventTimestampMs))
                offset += 1
                if writer.bytes.count - pieceStart > EventLogLimits.groupSizeBytesMax, frameStart > pieceStart {
                    pieceEnds.append(frameStart)
                    pieceStart = frameStart
                }
            }
            results.append(appended)
        }

        func rollBackIndex() {
            segment.index.removeEntries(from: indexCountBefore)
            segment.lastIndexedPosition = lastIndexedBefore
            segment.allocatedBytes = startSize
        }
        func answerFailure(_ error: EventLogError) {
            for request in batch { request.completion(.failure(failure ?? error)) }
        }
        /// After a failed fdatasync the page cache state is unknown: cut this group's bytes, so no reader
        /// and no recovery ever sees an event that was answered with an error, and stop. A cut the disk
        /// refuses too is logged: those events can come back after a restart.
        func stop(afterFailedSync error: EventLogError) {
            rollBackIndex()
            do {
                try cutUnacknowledged(to: startSize)
            } catch let cutError {
                options.logger.error("log writer: could not cut the events answered with an error; they can reappear after a restart",
                                     [("path", .string(segment.path)), ("offset", .integer(startSize)),
                                      ("error", .string(String(describing: cutError)))])
            }
            fail(error)
            answerFailure(error)
        }
        var written = 0
        for pieceIndex in 0...pieceEnds.count {
            let pieceEnd = pieceIndex < pieceEnds.count ? pieceEnds[pieceIndex] : writer.bytes.count
            if options.fsyncPolicy != .always, let unsynced,
               unsynced.bytes + pieceEnd - written > EventLogLimits.groupSizeBytesMax {
                // No more than a group unsynced under `interval` and `none` either: sync what is written first.
                do {
                    try synchronizeRecorded()
                } catch {
                    stop(afterFailedSync: error)
                    return
                }
            }
            do {
                try systemCall {
                    try injectFault(.pieceWrite)
                    try writer.bytes.withUnsafeBytes { bytes in
                        try segment.file.write(UnsafeRawBufferPointer(rebasing: bytes[written..<pieceEnd]), at: startSize + Int64(written))
                    }
                }
            } catch {
                // Nothing of this group is acknowledged: cut whatever part of it reached the file, durably (an
                // earlier piece may be synced, or written back from the page cache; if even that fails, the
                // bytes could be read later: stop).
                rollBackIndex()
                do {
                    try cutUnacknowledged(to: startSize)
                } catch {
                    fail(error)
                }
                noteFault(error)
                answerFailure(error)
                return
            }
            // Past the zero-filled space: extend it now, so this piece's `fdatasync` makes it durable with the
            // data, and the next groups overwrite zeros (no size change, no inode to write with their data).
            let endBytes = startSize + Int64(pieceEnd)
            if endBytes > segment.allocatedBytes {
                // At most an eighth of a segment (small segments, as in tests, keep little space).
                segment.extendPreallocation(after: endBytes,
                                            preallocationSizeBytes: min(options.preallocationSizeBytes, options.segmentSizeBytesMax / 8))
            }
            if options.fsyncPolicy == .always {
                do {
                    try synchronizeRecorded()
                } catch {
                    stop(afterFailedSync: error)
                    return
                }
            } else {
                unsynced = (unsynced?.sinceMs ?? nowMs, (unsynced?.bytes ?? 0) + pieceEnd - written)
            }
            written = pieceEnd
        }

        segment.sizeBytes = startSize + Int64(writer.bytes.count)
        publishExtent()
        segment.nextOffset = offset
        if let lastChainPosition { segment.chain = Array(writer.bytes[lastChainPosition..<(lastChainPosition + SHA256.digestByteCount)]) }
        segment.digest = segmentDigest
        segment.lastTimestampMs = latestTimestampMs
        // Entries go to the index file only once a sync covers their records (under `always`, now): the
        // index file and the segment reach the disk in any order, and recovery trusts the last entry.
        pendingIndex.append(indexBytes, first: indexCountBefore)
        writePendingIndex(syncedEnd: segment.sizeBytes - Int64(unsynced?.bytes ?? 0))
        noteAccepting()
        if let recentLeafHashes {
            // Hashed here, while the group's events are in the cache, before anyone hears of the group: a
            // durable event's leaf hash is always held (the tile store need not read it back).
            recentLeafHashes.append(firstOffset: firstOffset,
                                    hashes: Self.leafHashes(of: batch.map(\.events), results: results, count: Int(offset - firstOffset),
                                                            heads: &leafHeads))
        }
        onDurable(offset)
        for (request, appended) in zip(batch, results) { request.completion(.success(appended)) }
    }

    /// The concatenated leaf hashes of a durable group of `count` events, in offset order; the heads are formatted into `heads`.
    private static func leafHashes(of batch: [[NewEvent]], results: [[AppendedEvent]], count: Int,
                                   heads: inout RecentLeafHashes.LeafHeads) -> [UInt8] {
        var hashes: [UInt8] = []
        hashes.reserveCapacity(count * SHA256.digestByteCount)
        // Every event of a group has the group's time: formatted once.
        var formatted: (ms: Int64, text: String)?
        func formattedTimestamp(_ ms: Int64) -> String {
            if let formatted, formatted.ms == ms { return formatted.text }
            let text = Timestamp.format(ms: ms)
            formatted = (ms, text)
            return text
        }
        func head(_ entry: (event: NewEvent, stored: AppendedEvent)) -> RecentLeafHashes.HeadFields {
            RecentLeafHashes.HeadFields(eventID: entry.event.eventID, type: entry.event.type,
                                        formattedTimestamp: formattedTimestamp(entry.stored.timestampMs),
                                        organizationID: entry.event.organizationID, offset: entry.stored.offset)
        }
        // Two at a time (their `data` is hashed together, see `RecentLeafHashes.appendLeafHashes`), the heads
        // formatted into two buffers reused from pair to pair.
        zip(batch, results).lazy.flatMap { zip($0, $1) }.forEachPair { first, second in
            RecentLeafHashes.appendLeafHashes(head(first), data: first.event.data, and: head(second), data: second.event.data,
                                              heads: &heads, to: &hashes)
        } last: { last in
            hashes += RecentLeafHashes.leafHash(head(last), data: last.event.data)
        }
        return hashes
    }

    /// Seals the active segment (once) and starts the next one. A footer that could not be written
    /// is cut and the roll is tried again at the next group; a next segment that could not be
    /// created is removed and created again at the next group (the sealed segment waits, as after a
    /// crash between the two steps). Only a failed `fdatasync` stops the writer.
    private func roll(nowMs: Int64) throws(EventLogError) {
        if !activeSealed {
            // The sync also writes every pending index entry: none is left for the next segment's index file.
            if unsynced != nil {
                do {
                    try synchronizeRecorded()
                } catch {
                    fail(error)
                    throw error
                }
            }
            let sizeBefore = segment.sizeBytes
            do {
                let footer = try segment.seal()
                options.logger.info("sealed segment \(segment.name): \(footer.recordCount) records, last offset \(footer.lastOffset)")
                options.onSeal(segment.nextOffset)
            } catch {
                if Self.isSyncFailure(error) {
                    fail(error)
                    throw error
                }
                segment.sizeBytes = sizeBefore
                segment.allocatedBytes = sizeBefore
                do { try systemCall { try segment.file.truncate(to: sizeBefore) } } catch { fail(error) }
                throw error
            }
            activeSealed = true
        }
        let directory = segment.directory
        let baseOffset = segment.nextOffset
        do {
            segment = try ActiveSegment.create(directory: directory, baseOffset: baseOffset, chainIn: segment.chain, nowMs: nowMs)
            publishExtent()
        } catch {
            // No half-made segment stays behind for readers: the sealed one remains the last.
            unlink(directory + "/" + SegmentName.log(baseOffset: baseOffset))
            unlink(directory + "/" + SegmentName.index(baseOffset: baseOffset))
            throw error
        }
        activeSealed = false
    }
}
