import EventLog
import JSON

/// What a lane asks its executor to do. The executor performs them in the order given.
public enum LaneEffect: Sendable {
    /// POST `attempt` with the webhook's URL and secrets as they are now.
    case send(LaneAttempt)
    /// Abandon the attempt `attemptID` (its answer, if any, is ignored).
    case cancel(attemptID: UInt64)
    /// Store a change of a delivery in the history.
    case history(DeliveryUpdate)
    /// Store the webhook's cursor (`durable`: before answering the API, as for a replay).
    case commitCursor(UInt64, durable: Bool)
    /// Store the webhook's new status, chosen by the engine (410, exhaustion of an ordered webhook, auto-disable).
    case setState(Subscription.State, reason: String)
    /// Append an operational event to the log.
    case publish(OperationalEvent)
    /// Send a `.tick` no later than this time, in ms since 1970.
    case wake(atMs: Int64)
    /// The answer to a `.manualRetry`.
    case retryAnswer(deliveryID: String, RetryAnswer)
}

/// How a lane answered a manual retry.
public enum RetryAnswer: Sendable, Equatable {
    case accepted
    /// Another attempt series of this delivery is under way (409 `retry_in_progress`).
    case inProgress
    /// The webhook is paused or disabled (409 `webhook_not_enabled`).
    case notEnabled
}

/// One POST the lane wants made.
public struct LaneAttempt: Sendable {
    package var attemptID: UInt64
    public var deliveryID: String
    public var record: EventRecord
    /// 1-based attempt number of the delivery (`x-argus-attempt`).
    public var attempt: Int
    /// True for a manual retry (outside the cursor's window).
    package var isManual: Bool
}

/// A change of one delivery for the history.
public struct DeliveryUpdate: Sendable, Equatable {
    public var deliveryID: String
    public var offset: UInt64
    public var eventID: String
    public var eventType: String
    public var status: DeliveryRecord.Status
    package var nextAttemptAtMs: Int64?
    /// The attempt that just ended, nil when only the status changed.
    public var attempt: DeliveryAttempt?
    /// True when this change ends the delivery as failed (counted once in the statistics).
    package var finalFailure: Bool
}

/// An event the service publishes about a webhook (`webhook.failing`, `webhook.recovered`, `webhook.paused`,
/// `webhook.disabled`, `webhook.enabled`, `delivery.exhausted`).
public struct OperationalEvent: Sendable, Equatable {
    public var type: String
    /// The webhook's organization, `platform` for `*` webhooks.
    public var organizationID: String
    public var data: JSONValue
}
