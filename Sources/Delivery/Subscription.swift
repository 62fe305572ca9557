import EventLog
import JSON
import WebhookSigning

/// What the delivery engine needs to know of a webhook.
public struct Subscription: Sendable, Equatable {
    /// Delivery state of a subscription.
    public enum State: String, Sendable {
        case enabled, disabled, paused
    }

    public var id: String
    /// Owning organization, or `*` for every organization.
    public var organizationID: String
    public var url: String
    public var eventTypes: [String]
    public var ordered: Bool
    public var maxInFlight: Int
    public var retry: RetrySchedule
    public var state: State
    /// Where delivery starts when the subscription has no cursor yet.
    public var startOffset: UInt64
    public var secrets: SecretRing
    /// Attempts (retries included) allowed in any one-second window, 1...10,000; nil: unlimited.
    public var rateLimitPerSecond: Int?

    public init(id: String, organizationID: String, url: String, eventTypes: [String], ordered: Bool, maxInFlight: Int,
                retry: RetrySchedule, state: State, startOffset: UInt64, secrets: SecretRing, rateLimitPerSecond: Int? = nil) {
        self.id = id
        self.organizationID = organizationID
        self.url = url
        self.eventTypes = eventTypes
        self.ordered = ordered
        self.maxInFlight = maxInFlight
        self.retry = retry
        self.state = state
        self.startOffset = startOffset
        self.secrets = secrets
        self.rateLimitPerSecond = rateLimitPerSecond.map { min(max($0, 1), 10_000) }
    }

    /// The member of an event's data that names the webhook it is about: routes `webhook.test` (to that
    /// webhook only) and operational events (never to that webhook). Written by the service and the lanes.
    public static let routingField = "webhook_id"

    /// True when `record` goes to this subscription. `webhook.test` events go only to the webhook they name;
    /// operational events (`webhook.*`, `delivery.*`) never go to the webhook they are about (no feedback loops).
    public func wants(_ record: EventRecord) -> Bool {
        guard organizationID == "*" || organizationID == record.organizationID else { return false }
        if record.type == "webhook.test" { return names(record) }
        guard eventTypes.contains(where: { EventType.matches(record.type, pattern: $0) }) else { return false }
        if record.type.hasPrefix("webhook.") || record.type.hasPrefix("delivery.") { return !names(record) }
        return true
    }

    /// True when the event's data names this webhook in its `routingField` member (parsed, not searched:
    /// a string that merely contains the id elsewhere does not route).
    private func names(_ record: EventRecord) -> Bool {
        (try? JSONParser.parse(record.data))?[Self.routingField]?.stringValue == id
    }
}
