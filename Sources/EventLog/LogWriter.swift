import Crypto
import Foundation
import Synchronization

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
    private var unsyncedSinceMs: Int64?
    /// Called once per durable group with the new next offset, before the group's completions.
    private let onDurable: @Sendable (UInt64) -> Void
    /// Durations of the group commits' `fdatasync` calls.
    let syncRecorder = SyncRecorder()
    init(segment: ActiveSegment, options: EventLogOptions, onDurable: @escaping @Sendable (UInt64) -> Void) {
        self.segment = segment
        self.options = options
        self.onDurable = onDurable
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "argus-log-writer"
        thread.start()
    }

    /// Queues a group of events; `completion` runs on the writer thread once they are durable.
    func submit(_ request: Request) {
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
        condition.signal()
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
            while queue.isEmpty && !closing {
                if case .interval(let milliseconds) = options.fsyncPolicy, let since = unsyncedSinceMs {
                    let deadline = Date(timeIntervalSince1970: Double(since + Int64(milliseconds)) / 1000)
                    if !condition.wait(until: deadline) { break }
                } else {
                    condition.wait()
                }
            }
            let batch = queue
            queue = []
            queuedCount = 0
            let stopping = closing && batch.isEmpty
            condition.unlock()

            if !batch.isEmpty { process(batch) }
            syncIfIntervalElapsed()
            if stopping {
                if failure == nil, unsyncedSinceMs != nil { try? segment.file.synchronizeData() }
                condition.lock()
                finished = true
                condition.broadcast()
                condition.unlock()
                return
            }
        }
    }

    private func syncIfIntervalElapsed() {
        guard case .interval(let milliseconds) = options.fsyncPolicy, let since = unsyncedSinceMs,
              Clock.nowMs() - since >= Int64(milliseconds), failure == nil else { return }
        do {
            try segment.file.synchronizeData()
            unsyncedSinceMs = nil
        } catch {
            fail(error)
        }
    }

    private func fail(_ error: EventLogError) {
        failure = .writerFailed(reason: error.description)
        options.logger("log writer stopped: \(error)")
    }

    private func process(_ batch: [Request]) {
        if let failure {
            for request in batch { request.completion(.failure(failure)) }
            return
        }
        let nowMs = Clock.nowMs()
        if segment.recordCount > 0,
           segment.sizeBytes >= Int64(options.segmentSizeBytesMax)
            || Double(nowMs - segment.header.createdMs) / 1000 >= options.segmentAgeSecondsMax {
            do {
                try roll(nowMs: nowMs)
            } catch {
                fail(error)
                for request in batch { request.completion(.failure(failure ?? error)) }
                return
            }
        }

        let startSize = segment.sizeBytes
        var writer = ByteWriter(capacity: batch.reduce(0) { $0 + $1.events.reduce(0) { $0 + $1.data.count + 160 } })
        var indexBytes: [UInt8] = []
        var results: [[AppendedEvent]] = []
        results.reserveCapacity(batch.count)
        var offset = segment.nextOffset
        var chain = segment.chain
        // Frames are hashed into a copy, kept only when the group is written.
        var segmentDigest = segment.digest
        let timestampMs = max(nowMs, segment.lastTimestampMs)
        // Index entries are noted in place and rolled back if the write fails (copying the segment state
        // would copy its whole index on every group).
        let indexCountBefore = segment.index.entries.count
        let lastIndexedBefore = segment.lastIndexedPosition
        for request in batch {
            var appended: [AppendedEvent] = []
            appended.reserveCapacity(request.events.count)
            for event in request.events {
                let position = startSize + Int64(writer.bytes.count)
                chain = RecordFrame.appendEvent(event, offset: offset, timestampMs: timestampMs, previousChain: chain,
                                                to: &writer, segmentDigest: &segmentDigest)
                segment.noteRecord(offset: offset, position: position, timestampMs: timestampMs,
                                   intervalBytes: options.indexIntervalBytes, pendingIndexBytes: &indexBytes)
                appended.append(AppendedEvent(offset: offset, timestampMs: timestampMs, eventID: event.eventID))
                offset += 1
            }
            results.append(appended)
        }

        func rollBackIndex() {
            segment.index.removeEntries(from: indexCountBefore)
            segment.lastIndexedPosition = lastIndexedBefore
        }
        do {
            try segment.file.write(writer.bytes, at: startSize)
        } catch {
            // Nothing of this group is acknowledged: cut whatever part of it reached the file.
            rollBackIndex()
            do { try segment.file.truncate(to: startSize) } catch { fail(error) }
            for request in batch { request.completion(.failure(error)) }
            return
        }
        if options.fsyncPolicy == .always {
            do {
                let started = ContinuousClock.now
                try segment.file.synchronizeData()
                let elapsed = ContinuousClock.now - started
                syncRecorder.record(seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
            } catch {
                // After a failed fdatasync the page cache state is unknown: stop writing.
                rollBackIndex()
                fail(error)
                for request in batch { request.completion(.failure(failure ?? error)) }
                return
            }
        } else if unsyncedSinceMs == nil {
            unsyncedSinceMs = nowMs
        }

        segment.sizeBytes = startSize + Int64(writer.bytes.count)
        segment.nextOffset = offset
        segment.chain = chain
        segment.digest = segmentDigest
        segment.lastTimestampMs = timestampMs
        if !indexBytes.isEmpty {
            // The index is a rebuildable cache: a failed write only costs a rebuild later.
            try? segment.indexFile.write(indexBytes, at: Int64(segment.index.entries.count - indexBytes.count / SegmentIndex.entrySizeBytes) * Int64(SegmentIndex.entrySizeBytes))
        }
        onDurable(offset)
        for (request, appended) in zip(batch, results) { request.completion(.success(appended)) }
    }

    /// Seals the active segment and starts the next one.
    private func roll(nowMs: Int64) throws(EventLogError) {
        if unsyncedSinceMs != nil {
            try segment.file.synchronizeData()
            unsyncedSinceMs = nil
        }
        let footer = try segment.seal()
        let next = try ActiveSegment.create(directory: segment.directory, baseOffset: segment.nextOffset,
                                            chainIn: segment.chain, nowMs: nowMs)
        options.logger("sealed segment \(segment.name): \(footer.recordCount) records, last offset \(footer.lastOffset)")
        segment = next
    }
}

/// Wall-clock helpers.
enum Clock {
    /// Milliseconds since 1970.
    static func nowMs() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
}
