import EventLog
import Foundation
import JSON
import Synchronization
import SystemIO
import WebhookSigning

/// The delivery executor: one `Lane` state machine per webhook decides, this performs. One serial loop owns
/// every lane and takes its inputs from one ordered stream (webhook changes, attempt answers, log appends,
/// timers, manual retries, replays); every task it starts (attempts, the log follower, the timer, operational
/// event appends) is a child of one task group, so `stop()` and deleting a webhook cancel what they own.
///
/// Limits: at most `globalInFlightCountMax` attempts at once across webhooks (and each lane's `max_in_flight`);
/// one shared scan of the log in a bounded window (`RecordWindow`) and, for at most `catchUpReaderCountMax`
/// lanes behind it, events read ahead through the `EventSource` (the archive and the local log), so offsets
/// that retention removed locally come back from cold storage. A read is never skipped: while the archive
/// cannot be read the lane waits and retries with backoff (`Progress.readProblem`); events that no store
/// holds pause the lane (`webhook.paused`).

public final class Dispatcher: Sendable {
    /// How the engine reaches out and reports.
    public struct Configuration: Sendable {
        public var transport: any DeliveryTransport
        public var targetGuard: TargetGuard
        /// Total time one attempt may take, in seconds.
        public var attemptTimeoutSeconds = DeliveryLimits.Attempts.timeoutSeconds
        /// A webhook failing without a single success for this long is disabled, in seconds.
        public var autoDisableSeconds = DeliveryLimits.autoDisableSecondsDefault
        /// Attempts in flight across every webhook.
        package var globalInFlightCountMax = DeliveryLimits.Attempts.globalInFlightCountMax
        /// Log readers shared by lanes that are behind the scan window.
        package var catchUpReaderCountMax = DeliveryLimits.CatchUp.readerCountMax
        public var userAgentVersion = ArgusVersion.current
        public var nowMs: @Sendable () -> Int64 = { SystemClock.nowMs() }
        /// Jitter source in [0, 1).
        public var random: @Sendable () -> Double = { Double.random(in: 0..<1) }
        /// Stores a state the engine chose for a webhook: (webhook id, new state, reason).
        public var onStateChange: @Sendable (String, Subscription.State, String) -> Void = { _, _, _ in }
        /// Appends an operational event to the log.
        public var publish: @Sendable (OperationalEvent) async -> Void = { _ in }
        public var logger = Logger.discarding

        public init(transport: any DeliveryTransport, targetGuard: TargetGuard) {
            self.transport = transport
            self.targetGuard = targetGuard
        }
    }

    /// The answer to a manual retry.
    public enum ManualRetryResult: Sendable, Equatable {
        case accepted
        /// 404: no such webhook or delivery.
        case notFound
        /// 409 `not_retryable`: the delivery succeeded.
        case notRetryable(DeliveryRecord.Status)
        /// 409 `retry_in_progress`.
        case inProgress
        /// 409 `webhook_not_enabled`.
        case notEnabled
        /// 410 `event_unavailable`: the event can no longer be read.
        case eventUnavailable
        /// 503: the engine is not running.
        case stopped
        /// 503: the event is archived and the archive cannot be read now (or the log cannot be read).
        case readFailed(EventSourceError)
    }

    /// Where a webhook stands.
    public struct Progress: Sendable, Equatable {
        public var cursor: UInt64
        public var head: UInt64
        /// Live deliveries not yet resolved (in flight, waiting for a retry, held).
        public var unresolved: Int
        public var inFlight: Int
        public var waiting: Int
        /// Why the lane cannot read its next events, while it cannot: `.archiveUnavailable` (waiting and
        /// retrying) or `.eventsUnavailable` (paused); nil when reading is fine.
        public var readProblem: EventSourceError? = nil
        public var lag: UInt64 { head > cursor ? head - cursor : 0 }
    }

    enum Command: Sendable {
        case apply(Subscription?, id: String)
        case replay(id: String, offset: UInt64, reply: CheckedContinuation<Void, any Error>)
        /// A manual retry of `record` (the delivery as the history held it) with its event (or why it could not be
        /// read; nil: not read, the history said the delivery succeeded), both read before the command was sent:
        /// the loop never waits for a disk or the archive.
        case retry(id: String, record: DeliveryRecord, event: Result<EventRecord, RetryReadFailure>?,
                   reply: CheckedContinuation<ManualRetryResult, Never>)
        case finished(id: String, AttemptReport)
        /// A lane's read-ahead from `from` ended.
        case readAhead(id: String, from: UInt64, Result<[EventRecord], EventSourceError>)
        case logAdvanced
        /// The history's writer has written this many changes (see `DeliveryHistory.setOnWritten`).
        case historyWritten(UInt64)
        /// A lane's history index is in memory (loaded on the blocking-I/O queue, pinned until the lane used it),
        /// or, with `failure`, could not be read (it stays out of memory, nothing pinned; loaded again later).
        case historyLoaded(id: String, failure: SystemError?)
        /// A turn of the shared scan ended (read on the blocking-I/O queue): the reader, what it read, whether
        /// more is ready, and the error that stopped it.
        case scanned(LogReader, [EventRecord], more: Bool, EventLogError?)
        case timer
        case continuePumping
    }

    /// Why a manual retry's event could not be read (the answer it gets, unless the lane answers otherwise first).
    enum RetryReadFailure: Error {
        /// No store holds the event (410).
        case unavailable
        /// The archive or the log cannot be read now (503).
        case failed(EventSourceError)
    }

    struct Snapshot {
        var lanes: [String: Progress] = [:]
        var delivered = 0
        var failedAttempts = 0
        var inFlight = 0
        /// Lanes waiting for room in the history's queue (they start no deliveries meanwhile).
        var lanesWaitingForHistory = 0
        /// History index loads under way on the blocking-I/O queue.
        var historyLoadsUnderWay = 0
    }

    let log: EventLog
    /// Where lanes behind the scan window read (the archive and the log, or the log alone).
    let source: any EventSource
    let cursors: CursorStore
    public let history: DeliveryHistory
    let configuration: Configuration
    let commands: AsyncStream<Command>.Continuation
    private let stream: Mutex<AsyncStream<Command>?>
    let snapshot = Mutex(Snapshot())
    let running = Atomic<Bool>(false)
    /// Set when a lane asked for a wake-up: the timer then sends ticks.
    let timerArmed = Atomic<Bool>(false)
    /// Set while a `.logAdvanced` waits in the stream (see `start(_:)`).
    let advancePending = Atomic<Bool>(false)
    /// Whether any lane follows the log: without one, durable groups wake nobody (set before a change that
    /// may add a lane is handled, so no group between that change's read of the head and this flag is missed).
    let followsLog = Atomic<Bool>(true)
    /// How many times the append observer put a `.logAdvanced` in the stream (tests count the turns durable
    /// groups cost).
    let observerWakeUps = Atomic<Int>(0)
    private let runner = Mutex<Task<Void, Never>?>(nil)

    /// - Parameter source: where lanes behind the scan window read events (default: the log alone).
    public init(log: EventLog, source: (any EventSource)? = nil, cursors: CursorStore, history: DeliveryHistory,
                configuration: Configuration) {
        self.log = log
        self.source = source ?? log
        self.cursors = cursors
        self.history = history
        self.configuration = configuration
        let (stream, continuation) = AsyncStream.makeStream(of: Command.self)
        self.stream = Mutex(stream)
        commands = continuation
    }

    /// Starts delivering in a task this dispatcher owns (stopped by `stop()`): loads the lanes, follows the
    /// log and performs every lane's effects.
    /// - Throws: `EventLogError.tooManyAppendObservers` when the log has no room for the dispatcher's
    ///   observer (nothing is started).
    public func start(_ subscriptions: [Subscription]) async throws {
        // The log tells of each durable group from its writer thread; at most one `.logAdvanced` waits in
        // the stream at a time (the loop clears `advancePending` before it reads the head), so a burst of
        // groups costs one turn, and no task wakes per group just to pass the news on.
        let commands = self.commands
        let observer = try log.addAppendObserver { [self] _ in
            guard followsLog.load(ordering: .sequentiallyConsistent) else { return }
            guard !advancePending.exchange(true, ordering: .acquiringAndReleasing) else { return }
            observerWakeUps.add(1, ordering: .relaxed)
            commands.yield(.logAdvanced)
        }
        let task = Task { await self.run(subscriptions, observer: observer) }
        runner.withLock { $0 = task }
    }

    /// Delivers until `stop()`; removes `observer` (the log's calls into this dispatcher) at the end.
    private func run(_ subscriptions: [Subscription], observer: AppendObserverToken) async {
        defer { log.removeAppendObserver(observer) }
        guard let stream = stream.withLock({ value in defer { value = nil }; return value }) else { return }
        running.store(true, ordering: .relaxed)
        var state = DispatcherState(dispatcher: self)
        let commands = self.commands
        history.setOnWritten { written in commands.yield(.historyWritten(written)) }
        state.load(subscriptions)
        let scanStart = state.scanStart
        state.idleScanIfNoLanes()
        followsLog.store(state.hasLanes, ordering: .sequentiallyConsistent)
        if log.nextOffset > scanStart, !advancePending.exchange(true, ordering: .acquiringAndReleasing) {
            commands.yield(.logAdvanced)
        }
        // A discarding group: each finished attempt's task is freed at once (a plain task group keeps every
        // finished child until it is awaited, about 3.7 KiB per attempt for the life of the engine).
        await withDiscardingTaskGroup { group in
            group.addTask { await self.runTimer() }
            state.pumpAll()
            history.endTurn()
            for job in state.takeJobs() { group.addTask(operation: job) }
            for await command in stream {
                if case .apply = command { followsLog.store(true, ordering: .sequentiallyConsistent) }
                await state.handle(command)
                state.idleScanIfNoLanes()
                followsLog.store(state.hasLanes, ordering: .sequentiallyConsistent)
                // The history changes of this turn go to its writer thread together (one append per webhook).
                history.endTurn()
                for job in state.takeJobs() { group.addTask(operation: job) }
            }
            running.store(false, ordering: .relaxed)
            state.cancelEverything()
            history.endTurn()
            group.cancelAll()
        }
    }

    /// Stops the loop: attempts in flight are cancelled, no new ones start.
    public func stop() {
        running.store(false, ordering: .relaxed)
        commands.finish()
        runner.withLock { $0?.cancel() }
    }

    private func runTimer() async {
        while !Task.isCancelled {
            try? await Task.sleep(nanoseconds: DeliveryLimits.timerResolutionMs * 1_000_000)
            if timerArmed.load(ordering: .relaxed), case .terminated = commands.yield(.timer) { return }
        }
    }

    // MARK: - Changes from the API (in order, through the one stream)

    /// A webhook was created or changed (nil: deleted). Changes are applied in the order of these calls.
    public func apply(_ subscription: Subscription?, id: String) {
        commands.yield(.apply(subscription, id: id))
    }

    /// Moves the webhook back to `offset`: events from there go out again, in order, with the same ids. Returns
    /// once the new cursor is durable.
    public func replay(_ id: String, from offset: UInt64) async throws {
        guard running.load(ordering: .relaxed) else {
            try await cursors.commit(id, offset: offset)
            return
        }
        try await withCheckedThrowingContinuation { continuation in
            if case .terminated = commands.yield(.replay(id: id, offset: offset, reply: continuation)) {
                continuation.resume(throwing: CancellationError())
            }
        }
    }

    /// Starts a new attempt series of the failed delivery `deliveryID`, owned by the webhook's lane.
    public func retryDelivery(_ deliveryID: String, webhookID: String) async -> ManualRetryResult {
        guard running.load(ordering: .relaxed) else { return .stopped }
        // The history lookup may read the webhook's journal: here, on the blocking-I/O queue, never inside the
        // dispatcher's command loop (which would wait for the disk with every lane).
        let history = history
        guard let record = await BlockingIO.run({ history.summary(deliveryID, webhookID: webhookID) }) else { return .notFound }
        // So is the event's read (the local log on the blocking-I/O queue, an archived one through the source);
        // a delivery that succeeded is not retried, so its event is not read.
        let event = record.status == .succeeded ? nil : await retryEvent(of: record)
        return await withCheckedContinuation { continuation in
            if case .terminated = commands.yield(.retry(id: webhookID, record: record, event: event, reply: continuation)) {
                continuation.resume(returning: .stopped)
            }
        }
    }

    /// The event of `record` for a manual retry: from the local log (on the blocking-I/O queue), or, when
    /// retention removed it there, through the event source (the archive).
    private func retryEvent(of record: DeliveryRecord) async -> Result<EventRecord, RetryReadFailure> {
        do throws(EventSourceError) {
            let read: [EventRecord]
            do throws(EventSourceError) {
                let log = log
                let offset = record.offset
                read = try await BlockingIO.run { () throws(EventSourceError) in try log.readBlocking(from: offset, countMax: 1) }
            } catch .eventsUnavailable {
                read = try await source.read(from: record.offset, countMax: 1)
            }
            guard let first = read.first, first.offset == record.offset, first.eventID == record.eventID else { return .failure(.unavailable) }
            return .success(first)
        } catch .eventsUnavailable {
            return .failure(.unavailable)
        } catch {
            return .failure(.failed(error))
        }
    }

    // MARK: - Reading state

    /// Where `id` stands, nil for an unknown webhook or before the engine runs.
    public func progress(_ id: String) -> Progress? {
        guard var progress = snapshot.withLock({ $0.lanes[id] }) else { return nil }
        progress.head = log.nextOffset
        return progress
    }

    /// Totals for `/metrics`.
    public func totals() -> (delivered: Int, failedAttempts: Int, unresolved: Int, waitingRetry: Int, lagSum: UInt64) {
        let head = log.nextOffset
        return snapshot.withLock { snapshot in
            var unresolved = 0
            var waiting = 0
            var lag: UInt64 = 0
            for progress in snapshot.lanes.values {
                unresolved += progress.unresolved
                waiting += progress.waiting
                lag += head > progress.cursor ? head - progress.cursor : 0
            }
            return (snapshot.delivered, snapshot.failedAttempts, unresolved, waiting, lag)
        }
    }

    /// Attempts in flight across every webhook (tasks that have not ended, cancelled ones included).
    package var inFlightCount: Int { snapshot.withLock { $0.inFlight } }

    /// Lanes that start no deliveries because the history's writer has `pendingChangeCountMax` changes queued.
    package var lanesWaitingForHistory: Int { snapshot.withLock { $0.lanesWaitingForHistory } }

    /// History index loads under way (at most `DeliveryLimits.History.loadCountMax`).
    package var historyLoadsUnderWay: Int { snapshot.withLock { $0.historyLoadsUnderWay } }
}
