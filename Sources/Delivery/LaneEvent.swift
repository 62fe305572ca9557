import EventLog

/// Everything that can happen to a lane. Time only ever arrives inside events (`nowMs`), so the lane is a pure
/// value that tests drive with a fake clock.
public enum LaneEvent: Sendable {
    /// The webhook was changed through the API (URL, secrets, filters, window, throttle, status).
    case configure(Subscription)
    /// The log record at `Lane.wantedOffset` (read back from the archive when retention removed it locally),
    /// with what the history knows of its delivery (to skip settled ones after a restart).
    case record(EventRecord, prior: PriorDelivery?)
    /// Time passed: starts the attempts that are due, within `sendSlots` of the global in-flight cap.
    case tick(nowMs: Int64, sendSlots: Int)
    /// An attempt the lane started has an answer (any answer: see `AttemptOutcome`).
    case attemptFinished(AttemptReport)
    /// `POST .../deliveries/{id}/retry` for the failed delivery of `record`; answered by `LaneEffect.retryAnswer`.
    case manualRetry(EventRecord, prior: PriorDelivery)
    /// Moves the lane back to `fromOffset`: in-flight live attempts are cancelled, events go out again.
    case replay(fromOffset: UInt64)
    /// The webhook was deleted: every attempt is cancelled.
    case remove
    /// No store (the log or the archive) holds the event at `offset` any more: the lane pauses rather than
    /// skip it; `earliestAvailableOffset` is where a replay can continue.
    case eventsUnavailable(offset: UInt64, earliestAvailableOffset: UInt64?)
}

/// What the delivery history knows of one delivery.
public struct PriorDelivery: Sendable, Equatable {
    /// Where the delivery stands (succeeded, failed, pending).
    public var status: DeliveryRecord.Status
    /// Attempts already made (the next one is numbered `attemptCount + 1`).
    package var attemptCount: Int
    /// When a pending retry was due, in ms since 1970.
    package var nextAttemptAtMs: Int64?
}

/// The end of one attempt, as the executor saw it.
public struct AttemptReport: Sendable {
    /// The id from `LaneEffect.send`.
    package var attemptID: UInt64
    package var startedAtMs: Int64
    /// When the answer was handled, in ms since 1970.
    public var nowMs: Int64
    public var result: TransportResult
    /// Jitter draw in [0, 1) for the next retry's delay.
    public var random: Double

    public init(attemptID: UInt64, startedAtMs: Int64, nowMs: Int64, result: TransportResult, random: Double) {
        self.attemptID = attemptID
        self.startedAtMs = startedAtMs
        self.nowMs = nowMs
        self.result = result
        self.random = random
    }
}
