import EventLog
import JSON
import Foundation
import Synchronization
import WebhookSigning

/// The delivery engine: one shared scan of the log feeds a lane per webhook; each lane delivers the
/// events its webhook wants, signed, with retries, and moves the webhook's durable cursor (the offset
/// below which everything is acknowledged or failed) only after that.
///
/// Every read goes through the `EventSource` (the archive and the local log): a lane behind the
/// shared window reads ahead on its own. While the archive cannot be read the lane waits and retries
/// with backoff (`Progress.statusReason` says `archive_unavailable`); when events are gone from every
/// store it pauses with `events_unavailable` instead of skipping them.
///
/// Ordered webhooks have one delivery unresolved at a time and pause when it exhausts its retries;
/// unordered ones keep up to `maxInFlight` unresolved (in flight or waiting for a retry), so a crash
/// redelivers at most that window, with the same delivery ids.
public actor Dispatcher {
    /// How the engine reaches out and reports.
    public struct Configuration: Sendable {
        public var transport: any DeliveryTransport
        public var targetGuard: TargetGuard
        public var attemptTimeoutSeconds = DeliveryLimits.attemptTimeoutSeconds
        /// A webhook failing without a single success for this long is disabled, in seconds.
        public var autoDisableSeconds = DeliveryLimits.autoDisableSecondsDefault
        public var userAgentVersion = "0.1.0"
        public var nowMs: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
        /// Called when the engine pauses or disables a webhook: (webhook id, new state, reason).
        public var onStateChange: @Sendable (String, Subscription.State, String) -> Void = { _, _, _ in }
        public var logger: @Sendable (String) -> Void = { _ in }

        public init(transport: any DeliveryTransport, targetGuard: TargetGuard) {
            self.transport = transport
            self.targetGuard = targetGuard
        }
    }

    struct Unresolved {
        var record: EventRecord
        var deliveryID: String
        var attempt: Int
        var inFlight: Bool
        /// Retries exhausted on an ordered webhook: held until it resumes.
        var exhausted: Bool
    }

    struct Lane {
        var subscription: Subscription
        var nextOffset: UInt64
        var unresolved: [UInt64: Unresolved] = [:]
        /// Events read ahead below the shared window, dense from the first (at most `catchUpRecordCountMax`).
        var catchUp: [EventRecord] = []
        var catchUpLoading = false
        /// Why reading for this lane is stuck, while it is; and when to read again.
        var readProblem: EventSourceError?
        var readRetryDelayMs: Int64 = 0
        var readRetryAt: ContinuousClock.Instant?
        var committedCursor: UInt64
        /// Bumped by a replay: attempts of an older generation are ignored when they finish.
        var generation = 0
        /// After a restart, deliveries the history shows as settled below this offset are not sent again
        /// (a replay sets it to 0: then everything goes out again).
        var skipSettledBelow: UInt64 = .max

        var cursor: UInt64 { unresolved.keys.min() ?? nextOffset }
        var window: Int { subscription.ordered ? 1 : subscription.maxInFlight }
    }

    private let log: EventLog
    private let source: any EventSource
    private let cursors: CursorStore
    public nonisolated let history: DeliveryHistory
    private let configuration: Configuration
    private var lanes: [String: Lane] = [:]
    private var cache: RecordCache
    private nonisolated let stopped = Atomic<Bool>(false)
    private var deliveredCount = 0
    private var failedAttemptCount = 0

    /// - Parameter source: where events are read (default: the local log alone); `log` gives the head.
    public init(log: EventLog, source: (any EventSource)? = nil, cursors: CursorStore, history: DeliveryHistory, configuration: Configuration) {
        self.log = log
        self.source = source ?? log
        self.cursors = cursors
        self.history = history
        self.configuration = configuration
        cache = RecordCache(startingAt: log.nextOffset)
    }

    /// Loads the subscriptions and starts the shared scan.
    public func start(_ subscriptions: [Subscription]) throws {
        for subscription in subscriptions { addLane(subscription) }
        let head = log.nextOffset
        let lowest = lanes.values.map(\.nextOffset).min() ?? head
        let back = UInt64(DeliveryLimits.cacheRecordCountMax / 2)
        // The shared window starts in the local log: lanes behind it (archived offsets included) read on their own.
        let start = max(lowest, head > back ? head - back : 0, try log.firstRetainedOffset())
        cache = RecordCache(startingAt: start)
        // Resume deliveries that were waiting for a retry when the process stopped.
        for id in lanes.keys { pump(id) }
        Task { await self.runTail() }
    }

    /// Stops the scan and starts no new attempts; deliveries in flight finish on their own.
    public nonisolated func stop() {
        stopped.store(true, ordering: .relaxed)
    }

    private func addLane(_ subscription: Subscription) {
        let cursor = cursors.offset(of: subscription.id) ?? subscription.startOffset
        lanes[subscription.id] = Lane(subscription: subscription, nextOffset: cursor, committedCursor: cursor)
        if cursors.offset(of: subscription.id) == nil { cursors.commitEventually(subscription.id, offset: cursor) }
    }

    private func runTail() async {
        while !stopped.load(ordering: .relaxed) {
            do throws(EventSourceError) {
                while true {
                    let from = cache.nextOffset
                    let records = try await source.read(from: from, countMax: 512)
                    guard !records.isEmpty, cache.nextOffset == from else { break }
                    for record in records { cache.append(record) }
                    pumpAll()
                }
            } catch {
                configuration.logger("{\"level\":\"error\",\"message\":\"delivery scan: \(error)\"}")
                if let first = try? log.firstRetainedOffset(), first > cache.nextOffset {
                    // Retention passed the window: it is only a cache, lanes behind it read on their own.
                    cache = RecordCache(startingAt: first)
                    continue
                }
                try? await Task.sleep(nanoseconds: 1_000_000_000)
            }
            await log.waitForAppend(atOrAfter: cache.nextOffset)
        }
    }

    private func pumpAll() {
        for id in lanes.keys { pump(id) }
    }

    /// The record at `offset` for `lane`: from the shared window, or from what the lane read ahead. When
    /// neither holds it, starts reading ahead from the source (unless a read failed and its retry is not
    /// due) and returns nil; `pump` runs again when the read finishes.
    private func fetch(_ lane: inout Lane, _ offset: UInt64) -> EventRecord? {
        if let record = cache.record(at: offset) {
            lane.catchUp = []
            return record
        }
        guard offset < cache.firstOffset else { return nil }
        if let first = lane.catchUp.first?.offset, offset >= first, offset - first < UInt64(lane.catchUp.count) {
            lane.catchUp.removeFirst(Int(offset - first))
            return lane.catchUp.removeFirst()
        }
        lane.catchUp = []
        guard !lane.catchUpLoading, lane.readRetryAt.map({ ContinuousClock.now >= $0 }) ?? true else { return nil }
        lane.catchUpLoading = true
        let id = lane.subscription.id
        let generation = lane.generation
        Task { await self.readAhead(id, from: offset, generation: generation) }
        return nil
    }

    /// Reads ahead for a lane behind the shared window. A failure is kept as the lane's read problem: the
    /// archive being unavailable is retried with backoff; events gone from every store pause the lane.
    private func readAhead(_ id: String, from offset: UInt64, generation: Int) async {
        let result: Result<[EventRecord], EventSourceError>
        do throws(EventSourceError) {
            result = .success(try await source.read(from: offset, countMax: DeliveryLimits.catchUpRecordCountMax))
        } catch {
            result = .failure(error)
        }
        guard var lane = lanes[id], lane.generation == generation else { return }
        lane.catchUpLoading = false
        switch result {
        case .success(let records):
            if lane.readProblem != nil {
                configuration.logger("{\"level\":\"info\",\"message\":\"webhook \(id) reads again from offset \(offset)\"}")
            }
            lane.catchUp = records
            lane.readProblem = nil
            lane.readRetryDelayMs = 0
            lane.readRetryAt = nil
            lanes[id] = lane
        case .failure(let error):
            lane.readProblem = error
            if case .eventsUnavailable(let missing, let earliest) = error {
                let resume = earliest.map { "; replay from offset \($0) to continue after the gap" } ?? ""
                disable(&lane, .paused, reason: "events_unavailable: event \(missing) is no longer held by the log or the archive\(resume)")
                lanes[id] = lane
                return
            }
            lane.readRetryDelayMs = min(DeliveryLimits.readRetryDelayMsMax, max(DeliveryLimits.readRetryDelayMsMin, lane.readRetryDelayMs * 2))
            let delayMs = lane.readRetryDelayMs
            lane.readRetryAt = ContinuousClock.now + .milliseconds(delayMs)
            lanes[id] = lane
            configuration.logger("{\"level\":\"warning\",\"message\":\(JSONValue.string("webhook \(id) waits \(delayMs) ms: \(error)").text)}")
            Task {
                try? await Task.sleep(nanoseconds: UInt64(delayMs) * 1_000_000)
                self.pump(id)
            }
            return
        }
        pump(id)
    }

    /// Starts deliveries for `id` while its window has room and the log has events for it.
    private func pump(_ id: String) {
        guard var lane = lanes[id] else { return }
        defer {
            lanes[id] = lane
            commitCursor(id)
        }
        // Resume retries that were pending when the process stopped, or an ordered delivery after a resume.
        for (offset, entry) in lane.unresolved where !entry.inFlight && entry.exhausted && lane.subscription.state == .enabled {
            lane.unresolved[offset]?.exhausted = false
            lane.unresolved[offset]?.attempt = 0
            startAttempt(&lane, offset)
        }
        guard lane.subscription.state == .enabled else { return }
        var examined = 0
        while lane.unresolved.count < lane.window, lane.nextOffset < cache.nextOffset, examined < 4096 {
            guard let record = fetch(&lane, lane.nextOffset) else { break }
            examined += 1
            // Sources are dense: a record at another offset would be a gap, so it is never skipped to.
            guard record.offset == lane.nextOffset else { break }
            lane.nextOffset += 1
            guard lane.subscription.wants(record) else { continue }
            let deliveryID = DeliveryID.make(webhookID: id, offset: record.offset)
            let resumed = lane.skipSettledBelow == 0 ? nil : history.delivery(deliveryID, webhookID: id)
            if record.offset < lane.skipSettledBelow,
               resumed?.status == .succeeded || (resumed?.status == .failed && !lane.subscription.ordered) { continue }
            lane.unresolved[record.offset] = Unresolved(record: record, deliveryID: deliveryID, attempt: resumed?.attempts.count ?? 0,
                                                        inFlight: false, exhausted: false)
            startAttempt(&lane, record.offset)
        }
        if examined == 4096 { Task { self.pump(id) } }
    }

    private func startAttempt(_ lane: inout Lane, _ offset: UInt64) {
        guard !stopped.load(ordering: .relaxed), var entry = lane.unresolved[offset] else { return }
        entry.attempt += 1
        entry.inFlight = true
        lane.unresolved[offset] = entry
        let subscription = lane.subscription
        let generation = lane.generation
        let configuration = configuration
        Task.detached {
            let startedAtMs = configuration.nowMs()
            let result = await Self.attempt(entry, subscription: subscription, configuration: configuration)
            await self.finish(subscription.id, offset: offset, attempt: entry.attempt, generation: generation,
                              result: result, startedAtMs: startedAtMs)
        }
    }

    /// One POST: re-checks the target, signs with every unexpired secret, sends.
    static func attempt(_ entry: Unresolved, subscription: Subscription, configuration: Configuration) async -> TransportResult {
        let target: TargetGuard.Target
        do {
            target = try await configuration.targetGuard.check(subscription.url).0
        } catch {
            return TransportResult(statusCode: nil, error: "target refused: \(error.message)", durationMs: 0)
        }
        let body = entry.record.envelope(deliveryID: entry.deliveryID)
        let nowMs = configuration.nowMs()
        let headers = DeliveryHeaders(ring: subscription.secrets, deliveryID: entry.deliveryID, timestampSeconds: nowMs / 1000,
                                      attempt: entry.attempt, eventType: entry.record.type, body: body,
                                      version: configuration.userAgentVersion)
        return await configuration.transport.post(url: target.url, headers: headers.fields, body: body,
                                                  timeoutSeconds: configuration.attemptTimeoutSeconds)
    }

    private func finish(_ id: String, offset: UInt64, attempt: Int, generation: Int, result: TransportResult, startedAtMs: Int64) {
        guard var lane = lanes[id], lane.generation == generation, var entry = lane.unresolved[offset], entry.attempt == attempt else { return }
        defer {
            lanes[id] = lane
            pump(id)
        }
        let now = configuration.nowMs()
        let attemptRecord = DeliveryAttempt(attempt: attempt, startedAtMs: startedAtMs, durationMs: result.durationMs,
                                            statusCode: result.statusCode,
                                            responseBody: String(decoding: result.bodyPrefix, as: UTF8.self), error: result.error)
        var record = history.delivery(entry.deliveryID, webhookID: id)
            ?? DeliveryRecord(deliveryID: entry.deliveryID, webhookID: id, offset: offset, eventID: entry.record.eventID,
                              eventType: entry.record.type, status: .pending, attempts: [], nextAttemptAtMs: nil)
        record.attempts.append(attemptRecord)
        let status = result.statusCode ?? 0
        entry.inFlight = false
        if (200..<300).contains(status) {
            record.status = .succeeded
            record.nextAttemptAtMs = nil
            history.record(record, countingAttempt: (true, now))
            lane.unresolved.removeValue(forKey: offset)
            deliveredCount += 1
            return
        }
        failedAttemptCount += 1
        if status == 410 {
            record.status = .failed
            record.nextAttemptAtMs = nil
            history.record(record, countingAttempt: (false, now), finalFailure: true)
            lane.unresolved.removeValue(forKey: offset)
            disable(&lane, .disabled, reason: "the endpoint answered 410 Gone")
            return
        }
        let retryAfter = (status == 429 || status == 503)
            ? RetrySchedule.retryAfterSeconds(result.retryAfter, nowSeconds: Double(now) / 1000) : nil
        if let delay = lane.subscription.retry.delayMs(afterAttempt: attempt, retryAfterSeconds: retryAfter, random: Double.random(in: 0..<1)) {
            record.status = .pending
            record.nextAttemptAtMs = now + delay
            history.record(record, countingAttempt: (false, now))
            lane.unresolved[offset] = entry
            let generation = lane.generation
            Task {
                try? await Task.sleep(nanoseconds: UInt64(delay) * 1_000_000)
                self.retry(id, offset: offset, attempt: attempt, generation: generation)
            }
        } else {
            record.status = .failed
            record.nextAttemptAtMs = nil
            history.record(record, countingAttempt: (false, now), finalFailure: true)
            if lane.subscription.ordered {
                entry.exhausted = true
                lane.unresolved[offset] = entry
                disable(&lane, .paused, reason: "delivery \(entry.deliveryID) exhausted its retries; resume to continue in order")
            } else {
                lane.unresolved.removeValue(forKey: offset)
            }
        }
        if let since = history.statistics(webhookID: id).failingSinceMs, Double(now - since) / 1000 >= configuration.autoDisableSeconds {
            disable(&lane, .disabled, reason: "failing continuously since \(Timestamp.format(ms: since))")
        }
    }

    private func retry(_ id: String, offset: UInt64, attempt: Int, generation: Int) {
        guard var lane = lanes[id], lane.generation == generation, let entry = lane.unresolved[offset], entry.attempt == attempt,
              !entry.inFlight, lane.subscription.state == .enabled else { return }
        startAttempt(&lane, offset)
        lanes[id] = lane
    }

    private func disable(_ lane: inout Lane, _ state: Subscription.State, reason: String) {
        guard lane.subscription.state != state else { return }
        lane.subscription.state = state
        configuration.onStateChange(lane.subscription.id, state, reason)
    }

    private func commitCursor(_ id: String) {
        guard var lane = lanes[id] else { return }
        let cursor = lane.cursor
        guard cursor != lane.committedCursor else { return }
        lane.committedCursor = cursor
        lanes[id] = lane
        cursors.commitEventually(id, offset: cursor)
    }

    // MARK: - Changes from the API

    /// A webhook was created or changed (nil: deleted).
    public func apply(_ subscription: Subscription?, id: String) {
        guard let subscription else {
            lanes.removeValue(forKey: id)
            Task { try? await cursors.remove(id) }
            history.remove(webhookID: id)
            return
        }
        guard var lane = lanes[id] else {
            addLane(subscription)
            pump(id)
            return
        }
        let resumed = lane.subscription.state != .enabled && subscription.state == .enabled
        lane.subscription = subscription
        if resumed {
            for offset in lane.unresolved.keys where lane.unresolved[offset]?.inFlight == false {
                lane.unresolved[offset]?.exhausted = true
            }
        }
        lanes[id] = lane
        pump(id)
    }

    /// Moves the webhook back to `offset`: events from there go out again, in order, with the same ids.
    public func replay(_ id: String, from offset: UInt64) async throws {
        guard var lane = lanes[id] else { return }
        lane.generation += 1
        lane.unresolved = [:]
        lane.catchUp = []
        lane.catchUpLoading = false
        lane.readProblem = nil
        lane.readRetryDelayMs = 0
        lane.readRetryAt = nil
        lane.nextOffset = offset
        lane.committedCursor = offset
        lane.skipSettledBelow = 0
        lanes[id] = lane
        try await cursors.commit(id, offset: offset)
        pump(id)
    }

    /// Sends a failed delivery again (a new series of attempts); the cursor is not involved.
    public func retryDelivery(_ record: DeliveryRecord, subscription: Subscription) async throws {
        guard let event = try await source.read(from: record.offset, countMax: 1).first, event.offset == record.offset else { return }
        let configuration = configuration
        let history = history
        Task.detached {
            var stored = record
            stored.status = .pending
            var attempt = record.attempts.count
            while true {
                attempt += 1
                let started = configuration.nowMs()
                let entry = Unresolved(record: event, deliveryID: record.deliveryID, attempt: attempt, inFlight: true, exhausted: false)
                let result = await Self.attempt(entry, subscription: subscription, configuration: configuration)
                stored.attempts.append(DeliveryAttempt(attempt: attempt, startedAtMs: started, durationMs: result.durationMs,
                                                       statusCode: result.statusCode,
                                                       responseBody: String(decoding: result.bodyPrefix, as: UTF8.self), error: result.error))
                if let status = result.statusCode, (200..<300).contains(status) {
                    stored.status = .succeeded
                    stored.nextAttemptAtMs = nil
                    history.record(stored, countingAttempt: (true, configuration.nowMs()))
                    return
                }
                let retries = attempt - record.attempts.count
                guard let delay = subscription.retry.delayMs(afterAttempt: retries, random: Double.random(in: 0..<1)), result.statusCode != 410 else {
                    stored.status = .failed
                    stored.nextAttemptAtMs = nil
                    history.record(stored, countingAttempt: (false, configuration.nowMs()), finalFailure: true)
                    return
                }
                stored.nextAttemptAtMs = configuration.nowMs() + delay
                history.record(stored, countingAttempt: (false, configuration.nowMs()))
                try? await Task.sleep(nanoseconds: UInt64(delay) * 1_000_000)
            }
        }
    }

    // MARK: - Reading state

    /// Where a webhook stands.
    public struct Progress: Sendable, Equatable {
        public var cursor: UInt64
        public var head: UInt64
        public var unresolved: Int
        /// Why the webhook cannot read its next events, while it cannot: `.archiveUnavailable` (waiting
        /// and retrying) or `.eventsUnavailable` (paused); nil when reading is fine.
        public var readProblem: EventSourceError?
        public var lag: UInt64 { head > cursor ? head - cursor : 0 }
    }

    public func progress(_ id: String) -> Progress? {
        guard let lane = lanes[id] else { return nil }
        return Progress(cursor: lane.cursor, head: log.nextOffset, unresolved: lane.unresolved.count, readProblem: lane.readProblem)
    }

    /// Totals for `/metrics`.
    public func totals() -> (delivered: Int, failedAttempts: Int, unresolved: Int, waitingRetry: Int, lagSum: UInt64) {
        let head = log.nextOffset
        var unresolved = 0
        var waiting = 0
        var lag: UInt64 = 0
        for lane in lanes.values {
            unresolved += lane.unresolved.count
            waiting += lane.unresolved.values.filter { !$0.inFlight }.count
            let cursor = lane.cursor
            lag += head > cursor ? head - cursor : 0
        }
        return (deliveredCount, failedAttemptCount, unresolved, waiting, lag)
    }
}
