import EventLog
import Foundation
import HTTPClient
import JSON
import SystemIO
import WebhookSigning

/// The mutable state of `Dispatcher.run`: the lanes, the shared scan and the catch-up readers, the attempts in
/// flight and the timers. Owned by the run loop alone (never shared), so it needs no lock.
struct DispatcherState {
    struct AttemptKey: Hashable {
        var laneID: String
        var attemptID: UInt64
    }

    let dispatcher: Dispatcher
    private var configuration: Dispatcher.Configuration { dispatcher.configuration }
    private var history: DeliveryHistory { dispatcher.history }
    private(set) var lanes: [String: Lane] = [:]
    private var cache = RecordWindow(startingAt: 0)
    private var sharedReader: LogReader?
    /// A turn of the shared scan is being read (the reader is out of `sharedReader` meanwhile).
    private var scanning = false
    /// The log grew while a scan turn was under way: read again when it ends.
    private var scanAgain = false
    /// The log grew while no lane existed, so the shared scan did not read it (nothing to deliver);
    /// it starts again near the head when a lane appears.
    private var scanIdle = false
    /// A lane appeared while an idle scan's last turn was still being read: start again when it ends.
    private var restartScanAfterTurn = false
    /// Events read ahead for lanes behind the scan window, dense from the first, at most
    /// `catchUpRecordCountMax` each for at most `catchUpReaderCountMax` lanes; least recently used first.
    private var catchUp: [String: [EventRecord]] = [:]
    private var catchUpOrder: [String] = []
    /// Lanes whose read-ahead is under way, with the offset it started from (at most `catchUpReaderCountMax`).
    private var reading: [String: UInt64] = [:]
    /// Lanes that wanted to read ahead while `catchUpReaderCountMax` reads were under way.
    private var readQueue: [String] = []
    /// Why a lane's reads fail, while they do: the error, the current backoff and when to read again.
    private var readProblems: [String: (error: EventSourceError, delayMs: Int64, retryAtMs: Int64)] = [:]
    /// Per lane, the history change numbers of deliveries that settled (acknowledged, or failed for
    /// good) and whose record the history's writer has not written yet. They count against the
    /// lane's window until written: after a crash the cursor may be behind them, and the history is
    /// what keeps them from going out again, so a crash redelivers at most the window.
    private var settledUnwritten: [String: [UInt64]] = [:]
    /// Changes the history's writer has written so far.
    private var historyWritten: UInt64 = 0
    /// Lanes not pumped because the history's queue was full: pumped again when the writer reports progress.
    private var waitingForHistory: Set<String> = []
    /// Lanes whose history index is being loaded (at most `historyLoadCountMax`), and lanes waiting for a slot.
    private var historyLoading: Set<String> = []
    private var historyLoadQueue: [String] = []
    /// Lanes whose index was loaded (pinned in memory) and not yet used: the pump after the load found no room
    /// in the history's queue. The pin holds until a pump consults the index, so it is not evicted and loaded
    /// again meanwhile; each holds a load slot (at most `historyLoadCountMax` loads and held pins together).
    private var historyPinned: Set<String> = []
    /// Lanes whose history index could not be read: the current backoff and when to load again (one entry per
    /// lane at most; the error is logged when the run of failures starts and when it ends).
    private var historyLoadProblems: [String: (delayMs: Int64, retryAtMs: Int64)] = [:]
    private var signals: [AttemptKey: CancelSignal] = [:]
    /// Attempt tasks that have not ended (cancelled ones included): what the global cap counts.
    private var inFlight = 0
    private var wakes: [String: Int64] = [:]
    /// Lanes that had due work when the global cap left no slot.
    private var starved: Set<String> = []
    /// Lanes with more records to examine than one turn allows.
    private var backlog: Set<String> = []
    private var jobs: [@Sendable () async -> Void] = []
    private(set) var scanStart: UInt64 = 0
    private var delivered = 0
    private var failedAttempts = 0

    init(dispatcher: Dispatcher) {
        self.dispatcher = dispatcher
    }

    /// Child tasks to add to the group (attempts, operational event appends).
    mutating func takeJobs() -> [@Sendable () async -> Void] {
        defer { jobs = [] }
        return jobs
    }

    mutating func load(_ subscriptions: [Subscription]) {
        for subscription in subscriptions { addLane(subscription) }
        positionScan()
        readShared()
    }

    /// Places the shared scan at the lowest lane's offset, at most `cacheRecordCountMax / 2` behind
    /// the head (lanes further behind read ahead on their own), with an empty window.
    private mutating func positionScan() {
        let log = dispatcher.log
        let head = log.nextOffset
        let lowest = lanes.values.map(\.nextOffset).min() ?? head
        let back = UInt64(DeliveryLimits.Scan.cacheRecordCountMax / 2)
        // The scan window starts in the local log: lanes behind it (archived offsets included) read ahead on their own.
        scanStart = max(lowest, head > back ? head - back : 0, (try? log.firstRetainedOffset()) ?? 0)
        cache = RecordWindow(startingAt: scanStart)
        do {
            sharedReader = try log.makeReader(from: .offset(scanStart))
            if let first = sharedReader?.nextOffset, first != scanStart { cache = RecordWindow(startingAt: first) }
        } catch {
            configuration.logger.error("delivery scan failed", [("error", .string(String(describing: error)))])
        }
    }

    /// Whether any webhook has a lane (the dispatcher hears of durable groups only then).
    var hasLanes: Bool { !lanes.isEmpty }

    /// Without a lane the shared scan idles (nothing to read for); it restarts near the head when a lane appears.
    mutating func idleScanIfNoLanes() {
        if lanes.isEmpty { scanIdle = true }
    }

    /// A lane appeared after the scan idled: start it again near the head (or after the turn in flight).
    private mutating func restartIdleScan() {
        guard scanIdle else { return }
        scanIdle = false
        if scanning {
            restartScanAfterTurn = true
            return
        }
        positionScan()
        readShared()
    }

    private mutating func addLane(_ subscription: Subscription) {
        let stored = dispatcher.cursors.offset(of: subscription.id)
        let cursor = stored ?? subscription.startOffset
        if stored == nil { dispatcher.cursors.commitEventually(subscription.id, offset: cursor) }
        let statistics = history.statistics(webhookID: subscription.id)
        let autoDisableMs = Int64(min(max(configuration.autoDisableSeconds, 0.001), 1e12) * 1000)
        lanes[subscription.id] = Lane(subscription: subscription, cursor: cursor, consecutiveFailures: statistics.consecutiveFailures,
                                      failingSinceMs: statistics.failingSinceMs, autoDisableMs: autoDisableMs)
    }

    // MARK: - Commands

    mutating func handle(_ command: Dispatcher.Command) async {
        switch command {
        case .apply(let subscription?, let id):
            if var lane = lanes[id] {
                let effects = lane.handle(.configure(subscription))
                lanes[id] = lane
                perform(id, effects)
            } else {
                addLane(subscription)
                restartIdleScan()
            }
            pump(id)
        case .apply(nil, let id):
            await remove(id)
        case .replay(let id, let offset, let reply):
            guard var lane = lanes[id] else {
                reply.resume()
                return
            }
            let effects = lane.handle(.replay(fromOffset: offset))
            lanes[id] = lane
            settledUnwritten[id] = nil  // the replay's cursor is committed durably: all of it goes out again
            dropCatchUp(id)
            readProblems[id] = nil
            perform(id, effects)
            do {
                try await dispatcher.cursors.commit(id, offset: offset)
                reply.resume()
            } catch {
                reply.resume(throwing: error)
            }
            pump(id)
        case .retry(let id, let record, let event, let reply):
            reply.resume(returning: manualRetry(id, record: record, event: event))
        case .readAhead(let id, let from, let result):
            readFinished(id, from: from, result)
        case .finished(let id, let report):
            inFlight -= 1
            signals[AttemptKey(laneID: id, attemptID: report.attemptID)] = nil
            if var lane = lanes[id] {
                let effects = lane.handle(.attemptFinished(report))
                lanes[id] = lane
                perform(id, effects)
                pump(id)
            }
            let waiting = starved
            starved = []
            for other in waiting.sorted() where other != id { pump(other) }
        case .historyWritten(let written):
            historyWritten = max(historyWritten, written)
            var released: Set<String> = []
            for (id, numbers) in settledUnwritten where numbers.first.map({ $0 <= historyWritten }) ?? false {
                let left = numbers.filter { $0 > historyWritten }
                settledUnwritten[id] = left.isEmpty ? nil : left
                released.insert(id)
            }
            let paused = waitingForHistory
            waitingForHistory = []
            for id in released.union(paused).sorted() { pump(id) }
        case .historyLoaded(let id, let failure):
            historyLoading.remove(id)
            if let failure {
                historyLoadFailed(id, failure)
            } else {
                if historyLoadProblems.removeValue(forKey: id) != nil {
                    configuration.logger.info("delivery history loads again", [("webhook_id", .string(id))])
                }
                if lanes[id] != nil { historyPinned.insert(id) } else { history.unpin(id) }
                // Unpins once it has used the index (or will not for now); a pump that took nothing for want of
                // room keeps the pin until the lane is pumped again.
                pump(id)
            }
            if !historyPinned.contains(id) { pumpHistoryLoadQueue() }
        case .logAdvanced:
            dispatcher.advancePending.store(false, ordering: .sequentiallyConsistent)  // before the head is read below
            if lanes.isEmpty {
                scanIdle = true  // no lane: nothing to read for (the benchmark's publish-only load)
            } else {
                readShared()
            }
            pumpAll()
        case .scanned(let reader, let records, let more, let error):
            scanning = false
            sharedReader = reader
            if restartScanAfterTurn {
                restartScanAfterTurn = false
                scanAgain = false
                positionScan()
                readShared()
                pumpAll()
                break
            }
            for record in records {
                if record.offset != cache.nextOffset { cache = RecordWindow(startingAt: record.offset) }
                cache.append(record)
            }
            if let error {
                configuration.logger.error("delivery scan failed", [("error", .string(String(describing: error)))])
            } else if more || scanAgain {
                scanAgain = false
                readShared()
            }
            pumpAll()
        case .timer:
            let now = configuration.nowMs()
            let due = wakes.filter { $0.value <= now }.map(\.key).sorted()
            for id in due {
                wakes[id] = nil
                pump(id)
            }
            dispatcher.timerArmed.store(!wakes.isEmpty, ordering: .relaxed)
        case .continuePumping:
            let ids = backlog.sorted()
            backlog = []
            for id in ids { pump(id) }
        }
        publishSnapshot()
    }

    private mutating func remove(_ id: String) async {
        if var lane = lanes.removeValue(forKey: id) { perform(id, lane.handle(.remove)) }
        settledUnwritten[id] = nil
        for (key, signal) in signals where key.laneID == id { signal.fire() }
        dropCatchUp(id)
        reading[id] = nil
        readQueue.removeAll { $0 == id }
        readProblems[id] = nil
        wakes[id] = nil
        starved.remove(id)
        backlog.remove(id)
        waitingForHistory.remove(id)
        historyLoadQueue.removeAll { $0 == id }
        historyLoadProblems[id] = nil
        if historyPinned.remove(id) != nil { history.unpin(id) }
        dispatcher.snapshot.withLock { _ = $0.lanes.removeValue(forKey: id) }
        try? await dispatcher.cursors.remove(id)
        history.remove(webhookID: id)
    }

    /// A manual retry of `looked` with its event, both read before the command was sent (the lookup may read a
    /// journal, the event the log or the archive: this loop never waits for them). Memory's newer answer wins
    /// when it has one. One series at a time per delivery: the lane answers `inProgress` to a second.
    private mutating func manualRetry(_ id: String, record looked: DeliveryRecord,
                                      event read: Result<EventRecord, Dispatcher.RetryReadFailure>?) -> Dispatcher.ManualRetryResult {
        guard lanes[id] != nil else { return .notFound }
        var record = looked
        if case .found(let newer) = history.cachedSummary(looked.deliveryID, webhookID: id) { record = newer }
        guard record.status != .succeeded else { return .notRetryable(record.status) }
        guard lanes[id]?.subscription.state == .enabled else { return .notEnabled }
        let event: EventRecord
        switch read {
        case .success(let record)?: event = record
        case .failure(.unavailable)?: return .eventUnavailable
        case .failure(.failed(let error))?: return .readFailed(error)
        // Succeeded when looked up, live again since (a replay reached it): its lane owns it now.
        case nil: return .inProgress
        }
        guard var lane = lanes[id] else { return .notFound }
        let effects = lane.handle(.manualRetry(event, prior: PriorDelivery(status: record.status, attemptCount: record.attempts.count)))
        lanes[id] = lane
        perform(id, effects)
        pump(id)
        for effect in effects {
            guard case .retryAnswer(_, let answer) = effect else { continue }
            switch answer {
            case .accepted: return .accepted
            case .inProgress: return .inProgress
            case .notEnabled: return .notEnabled
            }
        }
        return .inProgress
    }

    // MARK: - Reading the log

    /// Reads up to one turn of new records into the scan window, on the blocking-I/O queue (a child job); the
    /// records come back as `.scanned`. While a turn is under way, another is read when it ends.
    private mutating func readShared() {
        guard !scanning else {
            scanAgain = true
            return
        }
        guard let reader = sharedReader else { return }
        sharedReader = nil
        scanning = true
        let commands = dispatcher.commands
        jobs.append {
            let (reader, records, more, error) = await BlockingIO.run { () -> (LogReader, [EventRecord], Bool, EventLogError?) in
                var reader = reader
                var records: [EventRecord] = []
                do throws(EventLogError) {
                    for _ in 0..<DeliveryLimits.Scan.pumpRecordCountMax {
                        guard let record = try reader.next() else { return (reader, records, false, nil) }
                        records.append(record)
                    }
                    return (reader, records, true, nil)
                } catch {
                    return (reader, records, false, error)
                }
            }
            commands.yield(.scanned(reader, records, more: more, error))
        }
    }

    /// The record at exactly `offset` for lane `id`: from the scan window, or from what the lane read ahead.
    /// When neither holds it, starts a read-ahead through the event source (unless one is under way, or a
    /// failed one's retry is not due) and returns nil; the lane is pumped again when it ends.
    private mutating func fetch(_ id: String, _ offset: UInt64) -> EventRecord? {
        if !readQueue.isEmpty { readQueue.removeAll { $0 == id } }
        if let record = cache.record(at: offset) {
            dropCatchUp(id)
            return record
        }
        guard offset < cache.firstOffset else { return nil }
        if var buffered = catchUp[id], let first = buffered.first?.offset, offset >= first, offset - first < UInt64(buffered.count) {
            buffered.removeFirst(Int(offset - first))
            let record = buffered.removeFirst()
            catchUp[id] = buffered
            return record
        }
        dropCatchUp(id)
        startReading(id, from: offset)
        return nil
    }

    /// Reads ahead for lane `id` from `offset` in a child task; the result comes back as `.readAhead`.
    private mutating func startReading(_ id: String, from offset: UInt64) {
        guard reading[id] == nil else { return }
        if let problem = readProblems[id], configuration.nowMs() < problem.retryAtMs { return }
        guard reading.count < max(1, configuration.catchUpReaderCountMax) else {
            if !readQueue.contains(id) { readQueue.append(id) }
            return
        }
        readQueue.removeAll { $0 == id }
        reading[id] = offset
        let source = dispatcher.source
        let commands = dispatcher.commands
        jobs.append {
            let result: Result<[EventRecord], EventSourceError>
            do throws(EventSourceError) {
                result = .success(try await source.read(from: offset, countMax: DeliveryLimits.CatchUp.recordCountMax))
            } catch {
                result = .failure(error)
            }
            commands.yield(.readAhead(id: id, from: offset, result))
        }
    }

    /// A read-ahead ended: keeps its events, or the lane's read problem (the archive unreadable: retry with
    /// backoff; events gone from every store: the lane pauses instead of skipping them).
    private mutating func readFinished(_ id: String, from offset: UInt64, _ result: Result<[EventRecord], EventSourceError>) {
        guard reading[id] == offset else { return }
        reading[id] = nil
        // A read slot is free: lanes waiting for one try again, in the order they asked.
        for waiting in readQueue where waiting != id { pump(waiting) }
        guard var lane = lanes[id] else { return }
        switch result {
        case .success(let records):
            if readProblems.removeValue(forKey: id) != nil {
                configuration.logger.info("reads again from offset \(offset)", [("webhook_id", .string(id))])
            }
            if !records.isEmpty {
                if catchUp[id] == nil, catchUp.count >= max(1, configuration.catchUpReaderCountMax), let evicted = catchUpOrder.first {
                    dropCatchUp(evicted)
                }
                catchUp[id] = records
                catchUpOrder.removeAll { $0 == id }
                catchUpOrder.append(id)
            }
        case .failure(let error):
            if case .eventsUnavailable(let missing, let earliest) = error {
                readProblems[id] = (error, 0, 0)
                let effects = lane.handle(.eventsUnavailable(offset: missing, earliestAvailableOffset: earliest))
                lanes[id] = lane
                perform(id, effects)
            } else {
                let delayMs = DeliveryLimits.CatchUp.readRetryBackoff.delayMs(afterPrevious: readProblems[id]?.delayMs)
                let retryAtMs = configuration.nowMs() + delayMs
                readProblems[id] = (error, delayMs, retryAtMs)
                wakes[id] = min(wakes[id] ?? retryAtMs, retryAtMs)
                dispatcher.timerArmed.store(true, ordering: .relaxed)
            }
            configuration.logger.warning("cannot read: \(error)", [("webhook_id", .string(id))])
        }
        pump(id)
    }

    private mutating func dropCatchUp(_ id: String) {
        guard catchUp.removeValue(forKey: id) != nil else { return }
        catchUpOrder.removeAll { $0 == id }
    }


    // MARK: - Driving lanes

    mutating func pumpAll() {
        for id in lanes.keys.sorted() { pump(id) }
    }

    /// Feeds lane `id` the records it wants, then lets it start what is due within the global cap.
    /// Takes no new deliveries beyond the room in the history's queue, less the attempts under way (the lane then
    /// waits in `waitingForHistory` and is pumped again on `.historyWritten`), and never reads a file: a lane whose
    /// history index is out of memory waits for `loadHistory`.
    mutating func pump(_ id: String) {
        guard var lane = lanes[id] else { return }
        // Every attempt under way and every delivery taken queues a history change when its attempt ends.
        var room = history.roomForChanges - inFlight
        var effects: [LaneEffect] = []
        var examined = 0
        var noRoom = false
        feeding: while let wanted = lane.wantedOffset, wanted < cache.nextOffset,
              lane.liveCount + (settledUnwritten[id]?.count ?? 0) < lane.window {
            guard room > 0 else {
                waitingForHistory.insert(id)
                noRoom = true
                break
            }
            if examined == DeliveryLimits.Scan.pumpRecordCountMax {
                if backlog.insert(id).inserted { dispatcher.commands.yield(.continuePumping) }
                break
            }
            guard let record = fetch(id, wanted) else { break }
            var prior: PriorDelivery?
            if lane.subscription.wants(record) {
                switch history.cachedSummary(DeliveryID.make(webhookID: id, offset: record.offset), webhookID: id) {
                case .found(let stored):
                    prior = PriorDelivery(status: stored.status, attemptCount: stored.attempts.count, nextAttemptAtMs: stored.nextAttemptAtMs)
                case .absent:
                    break
                case .notLoaded:
                    // Not consumed: a record taken from the lane's read-ahead goes back to its front.
                    if record.offset < cache.firstOffset { catchUp[id]?.insert(record, at: 0) }
                    loadHistory(id)
                    break feeding
                }
            }
            examined += 1
            let liveBefore = lane.liveCount
            let taken = lane.handle(.record(record, prior: prior))
            room -= lane.liveCount - liveBefore + taken.reduce(0) { if case .history = $1 { $0 + 1 } else { $0 } }
            effects += taken
        }
        // A lane's index pinned by its load is let go once a pump used it, or when the pump stopped for another
        // reason than room (caught up, window full, a read under way): then it may be evicted like any other.
        if (examined > 0 || !noRoom), historyPinned.remove(id) != nil {
            history.unpin(id)
            pumpHistoryLoadQueue()
        }
        let slots = max(0, configuration.globalInFlightCountMax - inFlight)
        let tick = lane.handle(.tick(nowMs: configuration.nowMs(), sendSlots: slots))
        lanes[id] = lane
        perform(id, effects)
        perform(id, tick)
        let sent = tick.reduce(0) { if case .send = $1 { $0 + 1 } else { $0 } }
        if sent == slots { starved.insert(id) }
        dispatcher.snapshot.withLock {
            $0.lanes[id] = Dispatcher.Progress(cursor: lane.cursor, head: 0, unresolved: lane.unresolvedCount,
                                               inFlight: lane.inFlightCount, waiting: lane.waitingCount, readProblem: readProblems[id]?.error)
        }
    }

    /// Loads lane `id`'s history index on the blocking-I/O queue (at most `historyLoadCountMax` at once); the
    /// lane is pumped again on `.historyLoaded`.
    private mutating func loadHistory(_ id: String) {
        guard !historyLoading.contains(id) else { return }
        // After a failed load, not before its retry is due (the timer pumps the lane then).
        if let problem = historyLoadProblems[id], problem.retryAtMs > configuration.nowMs() {
            wakes[id] = min(wakes[id] ?? problem.retryAtMs, problem.retryAtMs)
            dispatcher.timerArmed.store(true, ordering: .relaxed)
            return
        }
        guard historyLoading.count + historyPinned.count < DeliveryLimits.History.loadCountMax else {
            if !historyLoadQueue.contains(id) { historyLoadQueue.append(id) }
            return
        }
        historyLoading.insert(id)
        let history = history
        let commands = dispatcher.commands
        jobs.append {
            let failure = await BlockingIO.run { () -> SystemError? in
                do throws(SystemError) {
                    try history.preload(id)
                    return nil
                } catch {
                    return error
                }
            }
            commands.yield(.historyLoaded(id: id, failure: failure))
        }
    }

    /// A load slot is free: lanes waiting for one ask again, in order (in the next turn: this may run inside a
    /// pump).
    private mutating func pumpHistoryLoadQueue() {
        guard !historyLoadQueue.isEmpty else { return }
        let queued = historyLoadQueue
        historyLoadQueue = []
        if backlog.isEmpty { dispatcher.commands.yield(.continuePumping) }
        backlog.formUnion(queued)
    }

    /// Lane `id`'s history index could not be read: the lane takes no records (the index stays out of memory,
    /// so nothing is taken for absent and nothing is compacted away) and loads again after a backoff.
    private mutating func historyLoadFailed(_ id: String, _ failure: SystemError) {
        guard lanes[id] != nil else { return }
        if historyLoadProblems[id] == nil {
            configuration.logger.error("delivery history load failed; retrying", [("webhook_id", .string(id)), ("error", .string(failure.description))])
        }
        let delayMs = DeliveryLimits.History.loadRetryBackoff.delayMs(afterPrevious: historyLoadProblems[id]?.delayMs)
        let retryAtMs = configuration.nowMs() + delayMs
        historyLoadProblems[id] = (delayMs, retryAtMs)
        wakes[id] = min(wakes[id] ?? retryAtMs, retryAtMs)
        dispatcher.timerArmed.store(true, ordering: .relaxed)
    }

    private func publishSnapshot() {
        dispatcher.snapshot.withLock {
            $0.delivered = delivered
            $0.failedAttempts = failedAttempts
            $0.inFlight = inFlight
            $0.lanesWaitingForHistory = waitingForHistory.count
            $0.historyLoadsUnderWay = historyLoading.count
        }
    }

    // MARK: - Effects

    private mutating func perform(_ id: String, _ effects: [LaneEffect]) {
        for effect in effects {
            switch effect {
            case .send(let attempt): start(id, attempt)
            case .cancel(let attemptID): signals[AttemptKey(laneID: id, attemptID: attemptID)]?.fire()
            case .history(let update):
                let number = history.apply(update, webhookID: id, nowMs: configuration.nowMs())
                if update.status == .succeeded || (update.status == .failed && update.finalFailure),
                   number > historyWritten {
                    settledUnwritten[id, default: []].append(number)
                }
                if update.attempt != nil {
                    if update.status == .succeeded { delivered += 1 } else { failedAttempts += 1 }
                }
            case .commitCursor(let offset, let durable):
                // Durable commits (a replay) are awaited by the command that asked for them.
                if !durable { dispatcher.cursors.commitEventually(id, offset: offset) }
            case .setState(let state, let reason): configuration.onStateChange(id, state, reason)
            case .publish(let event):
                let publish = configuration.publish
                jobs.append { await publish(event) }
            case .wake(let atMs):
                wakes[id] = min(wakes[id] ?? atMs, atMs)
                dispatcher.timerArmed.store(true, ordering: .relaxed)
            case .retryAnswer: break
            }
        }
    }

    private mutating func start(_ id: String, _ attempt: LaneAttempt) {
        guard let subscription = lanes[id]?.subscription else { return }
        let signal = CancelSignal()
        signals[AttemptKey(laneID: id, attemptID: attempt.attemptID)] = signal
        inFlight += 1
        let configuration = configuration
        let commands = dispatcher.commands
        jobs.append {
            let startedAtMs = configuration.nowMs()
            let result = await Self.race(signal) { await Self.post(attempt, subscription: subscription, configuration: configuration) }
            let report = AttemptReport(attemptID: attempt.attemptID, startedAtMs: startedAtMs, nowMs: configuration.nowMs(),
                                       result: result ?? TransportResult(statusCode: nil, error: "cancelled", durationMs: 0),
                                       random: configuration.random())
            commands.yield(.finished(id: id, report))
        }
    }

    /// Cancels every attempt in flight (shutdown).
    func cancelEverything() {
        for signal in signals.values { signal.fire() }
    }

    /// `work`'s result, or nil when `signal` fires first (the work is then cancelled).
    static func race(_ signal: CancelSignal, _ work: @escaping @Sendable () async -> TransportResult) async -> TransportResult? {
        await withTaskGroup(of: TransportResult?.self) { group in
            group.addTask { await work() }
            group.addTask {
                await signal.wait()
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    /// One POST with the webhook's URL and secrets as they are now: re-checks the target, signs with every
    /// unexpired secret, sends.
    static func post(_ attempt: LaneAttempt, subscription: Subscription, configuration: Dispatcher.Configuration) async -> TransportResult {
        let target: TargetGuard.Target
        let addresses: [IPAddress]
        do {
            (target, addresses) = try await configuration.targetGuard.check(subscription.url)
        } catch {
            return TransportResult(statusCode: nil, error: "target refused: \(error.message)", durationMs: 0)
        }
        let body = attempt.record.deliveryEnvelope(deliveryID: attempt.deliveryID)
        let headers = DeliveryHeaders(ring: subscription.secrets, deliveryID: attempt.deliveryID,
                                      timestampSeconds: configuration.nowMs() / 1000, attempt: attempt.attempt,
                                      eventType: attempt.record.type, body: body, version: configuration.userAgentVersion)
        return await configuration.transport.post(url: target.url, addresses: addresses, headers: headers.fields, body: body,
                                                  timeoutSeconds: configuration.attemptTimeoutSeconds)
    }
}
