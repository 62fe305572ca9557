import Crypto
import Foundation
import Synchronization
import SystemIO

/// A segmented, checksummed, hash-chained append-only event log in one directory.
///
/// One `EventLog` per directory per machine is the writer (a lock file enforces it). Appends are
/// durable when they return (under `FsyncPolicy.always`); concurrent appends share one write and one
/// `fdatasync`. Readers (`makeReader`, or `LogReader` from any process) need no lock.
public final class EventLog: Sendable {
    /// The directory holding the segments.
    public let directory: String
    private let writer: LogWriter
    private let lock: DirectoryLock
    private let head: Head
    /// The leaf hashes of the latest appends (when `EventLogOptions.recentLeafHashCountMax` > 0), for
    /// `MerkleTileStore` upkeep.
    public let recentLeafHashes: RecentLeafHashes?
    /// Readers that `read(from:countMax:)` continues.
    let readers = ReaderPool<LogReader>(capacity: EventLogLimits.pooledReaderCountMax)

    /// The durable head and the tasks waiting for it to move.
    private final class Head: Sendable {
        struct State {
            var nextOffset: UInt64
            var closed = false
            var waiters: [(after: UInt64, continuation: CheckedContinuation<Void, Never>)] = []
            var observers: [(id: Int, observer: @Sendable (UInt64) -> Void)] = []
            var nextObserverID = 0
        }

        let state: Mutex<State>

        init(nextOffset: UInt64) { state = Mutex(State(nextOffset: nextOffset)) }

        func withLock<R>(_ body: (inout State) -> R) -> R { state.withLock { body(&$0) } }
    }

    /// Opens (creating when needed) the log in `directory` and recovers its active segment.
    ///
    /// Recovery reads only the active segment's unindexed tail: it truncates a torn tail (a partial
    /// record, or a bad frame that reaches the end of the file) and reports it through
    /// `options.logger`; any other damage throws.
    /// - Throws: `EventLogError.locked` when another process writes here; `.corruptRecord` or
    ///   `.corruptSegment` for damage that is not a torn tail; `.system` for I/O errors.
    public init(directory: String, options: EventLogOptions = EventLogOptions()) throws(EventLogError) {
        precondition(options.segmentSizeBytesMax >= EventLogLimits.segmentSizeBytesMin, "segment size too small")
        precondition(options.indexIntervalBytes > 0, "index interval must be positive")
        segmentSizeBytesMax = options.segmentSizeBytesMax
        try systemCall { try FileSystem.createDirectory(directory) }
        self.directory = directory
        switch try systemCall({ try DirectoryLock.acquire(path: directory + "/LOCK") }) {
        case .acquired(let lock): self.lock = lock
        case .held(let holderPID): throw .locked(path: directory, holderPID: holderPID)
        }
        let segment = try Recovery.openActiveSegment(directory: directory, options: options)
        head = Head(nextOffset: segment.nextOffset)
        let recentLeafHashes = options.recentLeafHashCountMax > 0 ? RecentLeafHashes(countMax: options.recentLeafHashCountMax) : nil
        self.recentLeafHashes = recentLeafHashes
        writer = LogWriter(segment: segment, options: options, recentLeafHashes: recentLeafHashes, onDurable: { [head] nextOffset in
            let (ready, observers) = head.withLock { state -> ([CheckedContinuation<Void, Never>], [(id: Int, observer: @Sendable (UInt64) -> Void)]) in
                state.nextOffset = nextOffset
                guard !state.waiters.isEmpty else { return ([], state.observers) }
                let ready = state.waiters.filter { $0.after < nextOffset }.map(\.continuation)
                state.waiters.removeAll { $0.after < nextOffset }
                return (ready, state.observers)
            }
            for continuation in ready { continuation.resume() }
            for entry in observers { entry.observer(nextOffset) }
        })
        writer.start()
    }

    /// How long group-commit `fdatasync` calls have taken since the log was opened.
    public var syncStatistics: SyncStatistics { writer.syncRecorder.snapshot }

    /// The active segment's size in bytes as of the last durable append or roll. With `segmentSizeBytesMax`
    /// it tells where the next segment starts: the writer rolls before the first event of a group once
    /// the active segment has reached that size (see `EventLog.segmentCut`).
    package var activeSegmentSizeBytes: Int64 { writer.activeExtent.withLock { $0.sizeBytes } }

    /// The segment roll size this log was opened with, in bytes.
    package let segmentSizeBytesMax: Int

    /// How many of `events`, appended next as one group, end the active segment or fit in it: the
    /// count up to and including the first event that brings the segment to `segmentSizeBytesMax`
    /// (after which the writer rolls), else all. A copier that appends at most this many per group
    /// cuts segments where one-event groups would, so two copies of one log with the same roll size
    /// have the same segment boundaries whatever their grouping (rolls by age aside).
    package static func segmentCut(_ events: ArraySlice<NewEvent>, activeSizeBytes: Int64, segmentSizeBytesMax: Int) -> Int {
        var size = isSegmentFull(sizeBytes: activeSizeBytes, segmentSizeBytesMax: segmentSizeBytesMax) ? Int64(SegmentHeader.sizeBytes) : activeSizeBytes
        for (index, event) in events.enumerated() {
            size += Int64(RecordFrame.frameSizeBytes(of: event))
            if isSegmentFull(sizeBytes: size, segmentSizeBytesMax: segmentSizeBytesMax) { return index + 1 }
        }
        return events.count
    }

    /// The size rule that cuts the log into segments, for the writer (which rolls before the next group
    /// once the active segment is full) and for `segmentCut` alike: a segment of `sizeBytes` (header
    /// included) is full once it has reached `segmentSizeBytesMax`.
    package static func isSegmentFull(sizeBytes: Int64, segmentSizeBytesMax: Int) -> Bool {
        sizeBytes >= Int64(segmentSizeBytesMax)
    }

    /// Whether the log accepts appends now (see ``LogHealth``).
    public var health: LogHealth { writer.health.withLock { $0 } }

    /// Offset the next appended event will get; everything below it is durable.
    public var nextOffset: UInt64 { head.withLock { $0.nextOffset } }

    /// Appends one event and returns once it is durable.
    /// - Throws: `EventLogError.invalidEvent` (nothing written), `.overloaded`, `.closed`, `.system`,
    ///   `.writerFailed`.
    public func append(_ event: NewEvent) async throws -> AppendedEvent {
        let appended = try await append(batch: [event])
        return appended[0]
    }

    /// Appends `events` as one group (all or none) and returns once they are durable, in order.
    /// - Precondition: at most `EventLogLimits.batchCountMax` events.
    public func append(batch events: [NewEvent]) async throws -> [AppendedEvent] {
        let request = try prepare(events)
        return try await withCheckedThrowingContinuation { continuation in
            submit(request) { continuation.resume(with: $0.mapError { $0 as any Error }) }
        }
    }

    /// The callback form of `append(batch:)`: `completion` runs exactly once, on the log's writer
    /// thread once the events are durable (or with the error, possibly at once on the caller's
    /// thread). It must not block: the writer's next group waits for it.
    /// - Parameter deferringWake: queue the events without waking an idle writer; the caller calls
    ///   ``wakeWriterIfDeferred()`` once it has queued all it has at hand (an event loop, at the end of
    ///   its turn), so they go to disk as one group with one `fdatasync` instead of the first alone and
    ///   the rest after it. Without that call the writer still takes them, within
    ///   `writerIdleWaitSecondsMax` (50 ms) whatever it waits for.
    public func append(batch events: [NewEvent], deferringWake: Bool = false,
                       completion: @escaping @Sendable (Result<[AppendedEvent], EventLogError>) -> Void) {
        do throws(EventLogError) {
            var request = try prepare(events)
            request.completion = completion
            writer.submit(request, deferringWake: deferringWake)
        } catch {
            completion(.failure(error))
        }
    }

    /// The blocking form of `append(batch:)`, for threads that are not in an async context.
    public func appendAndWait(batch events: [NewEvent]) throws(EventLogError) -> [AppendedEvent] {
        let request = try prepare(events)
        let done = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<[AppendedEvent], EventLogError>?>(nil)
        submit(request) { result in
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return try outcome.withLock { $0! }.get()
    }

    private func prepare(_ events: [NewEvent]) throws(EventLogError) -> LogWriter.Request {
        guard !events.isEmpty else { throw .invalidEvent(reason: "empty batch") }
        guard events.count <= EventLogLimits.batchCountMax else {
            throw .invalidEvent(reason: "batch of \(events.count) events, limit \(EventLogLimits.batchCountMax)")
        }
        for event in events { try RecordFrame.validate(event) }
        return LogWriter.Request(events: events, completion: { _ in })
    }

    private func submit(_ request: LogWriter.Request,
                        completion: @escaping @Sendable (Result<[AppendedEvent], EventLogError>) -> Void) {
        var request = request
        request.completion = completion
        writer.submit(request)
    }

    /// Wakes the writer for appends queued with `deferringWake` since it last took its queue (cheap
    /// when there are none: no lock).
    public func wakeWriterIfDeferred() { writer.wakeIfDeferred() }

    /// Whether the writer sleeps with nothing to do (for tests of deferred wakes).
    package var writerIsIdle: Bool { writer.isIdle }
    /// How many times the writer has taken queued appends (for tests of deferred wakes).
    package var writerTakenQueueCount: Int { writer.takenQueueCount }

    /// Returns once an event at `offset` or later is durable, or the log is closed.
    public func waitForAppend(atOrAfter offset: UInt64) async {
        await withCheckedContinuation { continuation in
            let ready = head.withLock { state -> Bool in
                if state.nextOffset > offset || state.closed { return true }
                state.waiters.append((offset, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }

    /// Calls `observer` with the new durable head after every durable group, on the log's writer
    /// thread, until `removeAppendObserver(_:)`: it must return at once (set a flag, yield to a stream),
    /// never block. Cheaper than `waitForAppend` for a follower that lives as long as the log: no task
    /// resumes per group. Observers of one log: at most `EventLogLimits.appendObserverCountMax`.
    /// - Returns: the token that removes it.
    /// - Throws: `tooManyAppendObservers` when the log has `EventLogLimits.appendObserverCountMax` already.
    public func addAppendObserver(_ observer: @escaping @Sendable (UInt64) -> Void) throws(EventLogError) -> AppendObserverToken {
        let token = head.withLock { state -> AppendObserverToken? in
            guard state.observers.count < EventLogLimits.appendObserverCountMax else { return nil }
            state.nextObserverID += 1
            state.observers.append((state.nextObserverID, observer))
            return AppendObserverToken(id: state.nextObserverID)
        }
        guard let token else { throw .tooManyAppendObservers(directory: directory, countMax: EventLogLimits.appendObserverCountMax) }
        return token
    }

    /// Stops calls to the observer `token` was given for (it may be running on the writer thread now).
    public func removeAppendObserver(_ token: AppendObserverToken) {
        head.withLock { state in state.observers.removeAll { $0.id == token.id } }
    }

    /// A reader of this log from `start`, which never reads past the durable head.
    public func makeReader(from start: LogReader.Start) throws(EventLogError) -> LogReader {
        try LogReader(directory: directory, start: start, limit: { [head] in head.withLock { $0.nextOffset } },
                      activeExtent: { [writer] in writer.activeExtent.withLock { $0 } })
    }

    /// Finishes queued appends, syncs, stops the writer thread and releases the directory lock.
    /// Later appends fail with `.closed`.
    public func close() {
        writer.close()
        lock.release()
        let waiters = head.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.closed = true
            defer { state.waiters = [] }
            return state.waiters.map(\.continuation)
        }
        for continuation in waiters { continuation.resume() }
    }
}
