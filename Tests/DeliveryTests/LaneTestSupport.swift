import EventLog
import JSON
import WebhookSigning
@testable import Delivery

/// A lane driven by hand: a fake log, a fake clock (`nowMs`), and helpers that feed records and answer attempts.
struct LaneDriver {
    var lane: Lane
    var nowMs: Int64 = 1_780_000_000_000
    var log: [EventRecord]
    /// Every effect so far, in order.
    var effects: [LaneEffect] = []

    static func subscription(id: String = "wh_1", organization: String = "org_a", types: [String] = ["user.*"], ordered: Bool = false,
                             maxInFlight: Int = 4, maxRetries: Int = 2, initialDelayMs: Int64 = 1_000, maxDelayMs: Int64 = 10_000,
                             rateLimitPerSecond: Int? = nil, state: Subscription.State = .enabled) -> Subscription {
        Subscription(id: id, organizationID: organization, url: "https://hooks.example/\(id)", eventTypes: types, ordered: ordered,
                     maxInFlight: ordered ? 1 : maxInFlight,
                     retry: RetrySchedule(maxRetries: maxRetries, initialDelayMs: initialDelayMs, maxDelayMs: maxDelayMs),
                     state: state, startOffset: 0, secrets: SecretRing(current: try! WebhookSecret(keyBytes: Array(repeating: 7, count: 32))),
                     rateLimitPerSecond: rateLimitPerSecond)
    }

    static func record(_ offset: UInt64, type: String = "user.login", organization: String = "org_a", data: String = "{}") -> EventRecord {
        EventRecord(NewEvent(organizationID: organization, type: type, eventID: "evt_\(offset)", data: Array(data.utf8)),
                    offset: offset, timestampMs: 1_000, chainHash: [])
    }

    init(_ subscription: Subscription = LaneDriver.subscription(), events: Int = 10, cursor: UInt64 = 0,
         consecutiveFailures: Int = 0, autoDisableMs: Int64 = 86_400_000) {
        lane = Lane(subscription: subscription, cursor: cursor, consecutiveFailures: consecutiveFailures, autoDisableMs: autoDisableMs)
        log = (0..<UInt64(events)).map { Self.record($0) }
    }

    /// Applies `event`, remembers and returns its effects.
    @discardableResult
    mutating func handle(_ event: LaneEvent) -> [LaneEffect] {
        let produced = lane.handle(event)
        effects += produced
        return produced
    }

    /// Feeds the records the lane wants from the fake log (with `prior` history), then ticks.
    @discardableResult
    mutating func pump(slots: Int = 1_000, prior: (UInt64) -> PriorDelivery? = { _ in nil }) -> [LaneEffect] {
        var produced: [LaneEffect] = []
        while let wanted = lane.wantedOffset, wanted < UInt64(log.count) {
            produced += handle(.record(log[Int(wanted)], prior: prior(wanted)))
        }
        produced += handle(.tick(nowMs: nowMs, sendSlots: slots))
        return produced
    }

    /// Answers attempt `attempt` with `status` (nil: a network error) and `retryAfter`.
    @discardableResult
    mutating func answer(_ attempt: LaneAttempt, status: Int?, retryAfter: String? = nil, body: String = "", random: Double = 0.5) -> [LaneEffect] {
        let result = TransportResult(statusCode: status, bodyPrefix: Array(body.utf8), error: status == nil ? "connection reset" : nil,
                                     retryAfter: retryAfter, durationMs: 3)
        return handle(.attemptFinished(AttemptReport(attemptID: attempt.attemptID, startedAtMs: nowMs, nowMs: nowMs, result: result, random: random)))
    }
}

extension [LaneEffect] {
    var sends: [LaneAttempt] { compactMap { if case .send(let attempt) = $0 { attempt } else { nil } } }
    var cancels: [UInt64] { compactMap { if case .cancel(let id) = $0 { id } else { nil } } }
    var histories: [DeliveryUpdate] { compactMap { if case .history(let update) = $0 { update } else { nil } } }
    var cursors: [UInt64] { compactMap { if case .commitCursor(let offset, _) = $0 { offset } else { nil } } }
    var states: [Subscription.State] { compactMap { if case .setState(let state, _) = $0 { state } else { nil } } }
    var published: [OperationalEvent] { compactMap { if case .publish(let event) = $0 { event } else { nil } } }
    var publishedTypes: [String] { published.map(\.type) }
    var wakes: [Int64] { compactMap { if case .wake(let at) = $0 { at } else { nil } } }
    var answers: [RetryAnswer] { compactMap { if case .retryAnswer(_, let answer) = $0 { answer } else { nil } } }
}
