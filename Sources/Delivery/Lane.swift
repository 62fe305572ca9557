import EventLog
import JSON

/// The delivery policy of one webhook as a pure state machine: `handle(_:)` takes an event and returns the
/// effects to perform. It owns the live deliveries of the cursor's window (in flight, waiting for a retry, or
/// held while the webhook is paused or disabled), manual retries, throttling, the failure streak and the
/// cursor. It reads no clock and does no I/O: time arrives in events, so every transition is unit-testable.
///
/// Guarantees: the cursor never passes an unresolved delivery (an `ordered` webhook's 410 or exhaustion holds
/// its delivery, which goes out first when the webhook is enabled again); at most `maxInFlight` attempts
/// (manual retries included, one for `ordered`) and at most `rateLimitPerSecond` starts in any 1,000 ms;
/// one attempt series per delivery; nothing is sent unless the webhook is enabled.
public struct Lane: Sendable {
    struct Delivery: Sendable {
        var record: EventRecord
        var deliveryID: String
        /// Attempts made so far, over every series.
        var attemptCount: Int
        /// Attempts in the current series (the retry schedule counts these).
        var seriesCount: Int
        var phase: Phase
        var lastStatusCode: Int?
    }

    enum Phase: Sendable, Equatable {
        case due(atMs: Int64)
        case inFlight(attemptID: UInt64)
        /// Not sent until the webhook is enabled again.
        case held
    }

    /// Consecutive failed attempts that announce `webhook.failing`.
    package static let failingThreshold = 5

    /// The webhook as the lane applies it (its `state` is the lane's own, which the engine may change first).
    public private(set) var subscription: Subscription
    /// The next log offset the lane examines.
    public private(set) var nextOffset: UInt64
    /// Live deliveries by offset: the window below the cursor's horizon.
    private(set) var live: [UInt64: Delivery] = [:]
    /// Manual retries by delivery id (outside the window: they never move the cursor).
    private(set) var manual: [String: Delivery] = [:]
    private var committedCursor: UInt64
    /// Deliveries the history shows as settled below this offset are not sent again (after a restart);
    /// 0 after a replay (everything goes out again).
    private var skipSettledBelow: UInt64 = .max
    private var nextAttemptID: UInt64 = 1
    /// Failed attempts since the last success.
    public private(set) var consecutiveFailures: Int
    private var failingSinceMs: Int64?
    private var failingAnnounced: Bool
    private var rate: RateWindow?
    /// Set by `.remove`: the lane ignores everything after.
    private var removed = false
    /// Continuous failure after which the webhook is disabled, in milliseconds.
    package let autoDisableMs: Int64

    /// A lane for `subscription` whose durable cursor is `cursor`; the failure streak comes from the history.
    public init(subscription: Subscription, cursor: UInt64, consecutiveFailures: Int = 0, failingSinceMs: Int64? = nil,
                autoDisableMs: Int64 = Int64(DeliveryLimits.autoDisableSecondsDefault) * 1000) {
        self.subscription = subscription
        nextOffset = cursor
        committedCursor = cursor
        self.consecutiveFailures = max(0, consecutiveFailures)
        self.failingSinceMs = failingSinceMs
        failingAnnounced = consecutiveFailures >= Self.failingThreshold
        rate = subscription.rateLimitPerSecond.map(RateWindow.init(limit:))
        self.autoDisableMs = max(1, autoDisableMs)
    }

    // MARK: - Reading state

    /// The offset below which every delivery is acknowledged or failed (what is committed).
    public var cursor: UInt64 { live.keys.min() ?? nextOffset }
    /// Live deliveries allowed at once: 1 for `ordered`, else `maxInFlight`.
    public var window: Int { subscription.ordered ? 1 : max(1, subscription.maxInFlight) }
    /// The offset whose record the lane wants next, nil while it has no room or is not enabled.
    package var wantedOffset: UInt64? { subscription.state == .enabled && live.count < window ? nextOffset : nil }
    /// Live deliveries (in flight or waiting for a retry).
    package var liveCount: Int { live.count }
    /// Attempts in flight, manual retries included.
    package var inFlightCount: Int {
        live.values.reduce(0) { $0 + ($1.phase.isInFlight ? 1 : 0) } + manual.values.reduce(0) { $0 + ($1.phase.isInFlight ? 1 : 0) }
    }
    /// Live deliveries not yet resolved (in flight, waiting, held).
    package var unresolvedCount: Int { live.count }
    /// Deliveries (live and manual) waiting for a retry or held.
    package var waitingCount: Int { live.values.count { !$0.phase.isInFlight } + manual.values.count { !$0.phase.isInFlight } }

    // MARK: - Transitions

    /// Applies `event` and returns what to do, in order.
    public mutating func handle(_ event: LaneEvent) -> [LaneEffect] {
        guard !removed else { return [] }
        var effects: [LaneEffect] = []
        switch event {
        case .configure(let subscription): configure(subscription, &effects)
        case .record(let record, let prior): accept(record, prior: prior)
        case .tick(let nowMs, let sendSlots): startDue(nowMs: nowMs, sendSlots: sendSlots, &effects)
        case .attemptFinished(let report): finish(report, &effects)
        case .manualRetry(let record, let prior): effects.append(.retryAnswer(deliveryID: deliveryID(record.offset), queueManual(record, prior, &effects)))
        case .replay(let offset):
            cancelInFlight(live: true, manual: false, &effects)
            live = [:]
            nextOffset = offset
            skipSettledBelow = 0
            committedCursor = offset
            effects.append(.commitCursor(offset, durable: true))
        case .eventsUnavailable(let offset, let earliest):
            let resume = earliest.map { "; replay from offset \($0) to continue after the gap" } ?? ""
            stop(.paused, reason: "events_unavailable: event \(offset) is no longer held by the log or the archive\(resume)",
                 byEngine: true, &effects)
        case .remove:
            removed = true
            cancelInFlight(live: true, manual: true, &effects)
            live = [:]
            manual = [:]
            return effects
        }
        let cursor = cursor
        if cursor != committedCursor {
            committedCursor = cursor
            effects.append(.commitCursor(cursor, durable: false))
        }
        return effects
    }

    private func deliveryID(_ offset: UInt64) -> String { DeliveryID.make(webhookID: subscription.id, offset: offset) }

    private var organizationForEvents: String { subscription.organizationID == "*" ? "platform" : subscription.organizationID }

    private func operational(_ type: String, _ members: [(String, JSONValue)]) -> LaneEffect {
        .publish(OperationalEvent(type: type, organizationID: organizationForEvents,
                                  data: .object([(Subscription.routingField, .string(subscription.id))] + members)))
    }

    private mutating func configure(_ new: Subscription, _ effects: inout [LaneEffect]) {
        let oldState = subscription.state
        if new.rateLimitPerSecond != subscription.rateLimitPerSecond {
            rate = new.rateLimitPerSecond.map { limit in rate?.resized(to: limit) ?? RateWindow(limit: limit) }
        }
        subscription = new
        subscription.state = oldState
        guard new.state != oldState else { return }
        if new.state == .enabled {
            enable(&effects)
        } else {
            stop(new.state, reason: "set to \(new.state.rawValue) through the API", byEngine: false, &effects)
        }
    }

    private mutating func enable(_ effects: inout [LaneEffect]) {
        subscription.state = .enabled
        for offset in live.keys {
            live[offset]?.phase = .due(atMs: .min)
            live[offset]?.seriesCount = 0
        }
        effects.append(operational("webhook.enabled", []))
    }

    /// Pauses or disables: every attempt in flight is cancelled, live deliveries are held (the cursor stays),
    /// manual retries end (their deliveries stay failed).
    private mutating func stop(_ state: Subscription.State, reason: String, byEngine: Bool, _ effects: inout [LaneEffect]) {
        guard subscription.state != state else { return }
        subscription.state = state
        if byEngine { effects.append(.setState(state, reason: reason)) }
        cancelInFlight(live: true, manual: true, &effects)
        for offset in live.keys { live[offset]?.phase = .held }
        for delivery in manual.values.sorted(by: { $0.record.offset < $1.record.offset }) {
            effects.append(.history(update(delivery, .failed, nextAttemptAtMs: nil, attempt: nil, finalFailure: false)))
        }
        manual = [:]
        effects.append(operational(state == .paused ? "webhook.paused" : "webhook.disabled", [("reason", .string(reason))]))
    }

    private func cancelInFlight(live includeLive: Bool, manual includeManual: Bool, _ effects: inout [LaneEffect]) {
        var cancelled: [UInt64] = []
        if includeLive { for delivery in live.values { if case .inFlight(let id) = delivery.phase { cancelled.append(id) } } }
        if includeManual { for delivery in manual.values { if case .inFlight(let id) = delivery.phase { cancelled.append(id) } } }
        for id in cancelled.sorted() { effects.append(.cancel(attemptID: id)) }
    }

    private mutating func accept(_ record: EventRecord, prior: PriorDelivery?) {
        guard subscription.state == .enabled, live.count < window, record.offset >= nextOffset else { return }
        nextOffset = record.offset + 1
        guard subscription.wants(record) else { return }
        let id = deliveryID(record.offset)
        if let manualRetry = manual.removeValue(forKey: id) {
            // The window reached a delivery that is being retried by hand: the retry becomes the live delivery.
            live[record.offset] = manualRetry
            return
        }
        if record.offset < skipSettledBelow, let prior,
           prior.status == .succeeded || (prior.status == .failed && !subscription.ordered) { return }
        let due = prior?.status == .pending ? (prior?.nextAttemptAtMs ?? .min) : .min
        live[record.offset] = Delivery(record: record, deliveryID: id, attemptCount: prior?.attemptCount ?? 0, seriesCount: 0,
                                       phase: .due(atMs: due))
    }

    private mutating func queueManual(_ record: EventRecord, _ prior: PriorDelivery, _ effects: inout [LaneEffect]) -> RetryAnswer {
        let id = deliveryID(record.offset)
        guard subscription.state == .enabled else { return .notEnabled }
        guard manual[id] == nil, live[record.offset] == nil else { return .inProgress }
        let delivery = Delivery(record: record, deliveryID: id, attemptCount: max(0, prior.attemptCount), seriesCount: 0,
                                phase: .due(atMs: .min))
        manual[id] = delivery
        effects.append(.history(update(delivery, .pending, nextAttemptAtMs: nil, attempt: nil, finalFailure: false)))
        return .accepted
    }

    private mutating func startDue(nowMs: Int64, sendSlots: Int, _ effects: inout [LaneEffect]) {
        guard subscription.state == .enabled else { return }
        enum Key { case live(UInt64), manual(String) }
        var due: [(Key, Int64, UInt64)] = []
        for (offset, delivery) in live { if case .due(let at) = delivery.phase { due.append((.live(offset), at, offset)) } }
        for (id, delivery) in manual { if case .due(let at) = delivery.phase { due.append((.manual(id), at, delivery.record.offset)) } }
        // Oldest first, so an ordered webhook's single delivery and the cursor's head go out before the rest.
        due.sort { $0.2 < $1.2 }
        var slots = sendSlots
        var inFlight = inFlightCount
        var wake: Int64?
        for (key, at, _) in due {
            guard at <= nowMs else {
                wake = min(wake ?? at, at)
                continue
            }
            guard inFlight < max(1, subscription.maxInFlight), slots > 0 else { continue }
            if let rate {
                let allowed = rate.nextAllowedMs(atOrAfter: nowMs)
                if allowed > nowMs {
                    wake = min(wake ?? allowed, allowed)
                    continue
                }
            }
            let attemptID = nextAttemptID
            nextAttemptID += 1
            var delivery: Delivery
            switch key {
            case .live(let offset): delivery = live[offset]!
            case .manual(let id): delivery = manual[id]!
            }
            delivery.attemptCount += 1
            delivery.seriesCount += 1
            delivery.phase = .inFlight(attemptID: attemptID)
            switch key {
            case .live(let offset): live[offset] = delivery
            case .manual(let id): manual[id] = delivery
            }
            rate?.record(nowMs)
            slots -= 1
            inFlight += 1
            effects.append(.send(LaneAttempt(attemptID: attemptID, deliveryID: delivery.deliveryID, record: delivery.record,
                                             attempt: delivery.attemptCount, isManual: { if case .manual = key { true } else { false } }())))
        }
        if let wake { effects.append(.wake(atMs: wake)) }
    }

    private func update(_ delivery: Delivery, _ status: DeliveryRecord.Status, nextAttemptAtMs: Int64?, attempt: DeliveryAttempt?,
                        finalFailure: Bool) -> DeliveryUpdate {
        DeliveryUpdate(deliveryID: delivery.deliveryID, offset: delivery.record.offset, eventID: delivery.record.eventID,
                       eventType: delivery.record.type, status: status, nextAttemptAtMs: nextAttemptAtMs, attempt: attempt,
                       finalFailure: finalFailure)
    }

    private mutating func finish(_ report: AttemptReport, _ effects: inout [LaneEffect]) {
        let target = report.attemptID
        var isManual = false
        var found: Delivery?
        if let (offset, delivery) = live.first(where: { $0.value.phase == .inFlight(attemptID: target) }) {
            found = delivery
            live.removeValue(forKey: offset)
        } else if let (id, delivery) = manual.first(where: { $0.value.phase == .inFlight(attemptID: target) }) {
            found = delivery
            isManual = true
            manual.removeValue(forKey: id)
        }
        // An attempt that was cancelled (pause, disable, replay, delete) or is unknown changes nothing.
        guard var delivery = found else { return }
        let now = report.nowMs
        let result = report.result
        delivery.lastStatusCode = result.statusCode
        let attempt = DeliveryAttempt(attempt: delivery.attemptCount, startedAtMs: report.startedAtMs, durationMs: result.durationMs,
                                      statusCode: result.statusCode,
                                      responseBody: DeliveryAttempt.keptText(result.bodyPrefix),
                                      error: result.error)
        let outcome = AttemptOutcome(result, nowMs: now)
        if outcome == .acknowledged {
            effects.append(.history(update(delivery, .succeeded, nextAttemptAtMs: nil, attempt: attempt, finalFailure: false)))
            consecutiveFailures = 0
            failingSinceMs = nil
            if failingAnnounced {
                failingAnnounced = false
                effects.append(operational("webhook.recovered", []))
            }
            return
        }
        consecutiveFailures += 1
        if failingSinceMs == nil { failingSinceMs = now }
        let put = { (lane: inout Lane, delivery: Delivery) in
            if isManual { lane.manual[delivery.deliveryID] = delivery } else { lane.live[delivery.record.offset] = delivery }
        }
        var announceFailing: LaneEffect?
        if consecutiveFailures >= Self.failingThreshold, !failingAnnounced {
            failingAnnounced = true
            announceFailing = operational("webhook.failing", [("consecutive_failures", .integer(consecutiveFailures)),
                                                              ("last_status_code", result.statusCode.map { .integer($0) } ?? .null)])
        }
        switch outcome {
        case .gone:
            effects.append(.history(update(delivery, .failed, nextAttemptAtMs: nil, attempt: attempt, finalFailure: true)))
            if let announceFailing { effects.append(announceFailing) }
            if !isManual && subscription.ordered {
                // Held, not skipped: the cursor stays at this event and enabling the webhook sends it first.
                delivery.phase = .held
                put(&self, delivery)
            }
            stop(.disabled, reason: "the endpoint answered 410 Gone", byEngine: true, &effects)
            return
        case .throttled, .failed, .acknowledged:
            var retryAfterMs: Int64?
            if case .throttled(let requested) = outcome { retryAfterMs = requested }
            if let delay = subscription.retry.delayMs(afterAttempt: delivery.seriesCount, retryAfterMs: retryAfterMs, random: report.random) {
                let (dueAt, overflow) = now.addingReportingOverflow(delay)
                delivery.phase = .due(atMs: overflow ? .max : dueAt)
                put(&self, delivery)
                effects.append(.history(update(delivery, .pending, nextAttemptAtMs: overflow ? .max : dueAt, attempt: attempt, finalFailure: false)))
                if let announceFailing { effects.append(announceFailing) }
                effects.append(.wake(atMs: overflow ? .max : dueAt))
            } else {
                effects.append(.history(update(delivery, .failed, nextAttemptAtMs: nil, attempt: attempt, finalFailure: true)))
                if let announceFailing { effects.append(announceFailing) }
                effects.append(operational("delivery.exhausted", [
                    ("delivery_id", .string(delivery.deliveryID)), ("event_id", .string(delivery.record.eventID)),
                    ("offset", .integer(delivery.record.offset)), ("attempts", .integer(delivery.attemptCount)),
                    ("last_status_code", result.statusCode.map { .integer($0) } ?? .null),
                ]))
                if !isManual && subscription.ordered {
                    delivery.phase = .held
                    put(&self, delivery)
                    stop(.paused, reason: "delivery \(delivery.deliveryID) exhausted its retries; enable the webhook to continue in order",
                         byEngine: true, &effects)
                }
            }
        }
        if subscription.state == .enabled, let since = failingSinceMs, now.subtractingReportingOverflow(since).partialValue >= autoDisableMs,
           now >= since {
            stop(.disabled, reason: "failing continuously since \(Timestamp.format(ms: since))", byEngine: true, &effects)
        }
    }
}

extension Lane.Phase {
    var isInFlight: Bool { if case .inFlight = self { true } else { false } }
}
