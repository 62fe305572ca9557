import Delivery
import EventLog
import Foundation
import JSON
import WebhookSigning

/// A webhook subscription.
public struct Webhook: Sendable, Equatable {
    /// `wh_` and 24 hex digits: the creation time in milliseconds, then random bytes (`WebhookStore.makeID`).
    public var id: String
    /// Owning organization, or `*` for a platform-wide subscription (platform:admin only).
    public var organizationID: String
    /// Where deliveries are POSTed (`https://`, or `http://` where `serve --allow-http` allows it).
    public var url: String
    /// Free text, at most `ServiceLimits.Webhooks.descriptionSizeBytesMax` bytes.
    public var description: String
    /// Event types or patterns delivered (`EventType.matches`), at most `ServiceLimits.Webhooks.eventTypeFilterCountMax`.
    public var eventTypes: [String]
    /// One delivery at a time, in offset order (`maxInFlight` is then 1).
    package var ordered: Bool
    /// Deliveries in flight at once.
    public var maxInFlight: Int
    /// Retry schedule: the engine's own type (`maxRetries` retries, exponential backoff with jitter).
    package var retry: RetrySchedule
    /// Delivery state: the engine's own type, so the two can never disagree.
    public var status: Subscription.State
    /// Why the webhook is disabled (by the API or after continuous failure); nil while enabled.
    package var statusReason: String?
    /// Attempts (retries included) per one-second window, 1...10,000; nil: unlimited.
    package var rateLimitPerSecond: Int?
    /// Offset the subscription started from.
    public var startOffset: UInt64
    /// The current signing secret and the retired ones still valid.
    public var secrets: SecretRing
    /// Creation and last change, in Unix milliseconds.
    package var createdAtMs: Int64
    package var updatedAtMs: Int64

    /// A new enabled webhook with a fresh secret (for tools and benchmarks that bypass the API; the API
    /// validates its input first).
    public static func make(id: String, organizationID: String, url: String, eventTypes: [String], ordered: Bool = false,
                            maxInFlight: Int, retry: RetrySchedule = RetrySchedule(), startOffset: UInt64, nowMs: Int64) throws -> Webhook {
        Webhook(id: id, organizationID: organizationID, url: url, description: "", eventTypes: eventTypes, ordered: ordered,
                maxInFlight: maxInFlight, retry: retry, status: .enabled, statusReason: nil, startOffset: startOffset,
                secrets: SecretRing(current: try WebhookSecret.generate()), createdAtMs: nowMs, updatedAtMs: nowMs)
    }

    /// The delivery engine's view of this webhook.
    package var subscription: Subscription {
        Subscription(id: id, organizationID: organizationID, url: url, eventTypes: eventTypes, ordered: ordered,
                     maxInFlight: ordered ? 1 : maxInFlight,
                     retry: retry, state: status, startOffset: startOffset, secrets: secrets, rateLimitPerSecond: rateLimitPerSecond)
    }


    /// The public representation; `includeSecret` only for create and rotate-secret (HMAC only:
    /// an Ed25519 webhook shows its `public_key` instead, always; its private key never leaves).
    func json(includeSecret: Bool = false) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("id", .string(id)), ("organization_id", .string(organizationID)), ("url", .string(url)),
            ("description", .string(description)), ("event_types", .array(eventTypes.map(JSONValue.string))),
            ("ordered", .bool(ordered)), ("max_in_flight", .integer(maxInFlight)),
            ("retry", .object([("max_retries", .integer(retry.maxRetries)), ("initial_delay_ms", .integer(retry.initialDelayMs)),
                               ("max_delay_ms", .integer(retry.maxDelayMs))])),
            ("rate_limit_per_second", rateLimitPerSecond.map { .integer($0) } ?? .null),
            ("status", .string(status.rawValue)), ("status_reason", statusReason.map(JSONValue.string) ?? .null),
            ("start_offset", .integer(startOffset)),
            ("created_at", .string(Timestamp.format(ms: createdAtMs))), ("updated_at", .string(Timestamp.format(ms: updatedAtMs))),
        ]
        members.append(("signature", .string(secrets.current.scheme.rawValue)))
        if let publicKey = secrets.current.publicKeyText {
            members.append(("public_key", .string(publicKey)))
        } else if includeSecret {
            members.append(("secret", .string(secrets.current.encoded)))
        }
        return .object(members)
    }

}

/// The stored form (`webhooks/<id>.json`).
extension Webhook {
    /// The stored form: the public fields plus every secret of the ring.
    var storedJSON: JSONValue {
        guard case .object(var members) = json() else { return .null }
        members.append(("secret", .string(secrets.current.encoded)))
        members.append(("previous_secrets", .array(secrets.previous.map { retired in
            .object([("secret", .string(retired.secret.encoded)), ("expires_at_unix", .integer(retired.expiresAtUnixSeconds))])
        })))
        members.append(("created_at_ms", .integer(createdAtMs)))
        members.append(("updated_at_ms", .integer(updatedAtMs)))
        return .object(members)
    }

    init?(stored json: JSONValue) {
        guard let id = json["id"]?.stringValue, let organizationID = json["organization_id"]?.stringValue,
              let url = json["url"]?.stringValue, let types = json["event_types"]?.arrayValue?.compactMap(\.stringValue),
              let ordered = json["ordered"]?.boolValue, let maxInFlight = json["max_in_flight"]?.int64Value,
              let retry = json["retry"], let maxRetries = retry["max_retries"]?.int64Value,
              let initial = retry["initial_delay_ms"]?.int64Value, let maximum = retry["max_delay_ms"]?.int64Value,
              maxRetries >= 0, initial > 0, maximum >= initial,
              let statusText = json["status"]?.stringValue, let status = Subscription.State(rawValue: statusText),
              let start = json["start_offset"]?.int64Value, let secretText = json["secret"]?.stringValue,
              let current = try? WebhookSecret(parsing: secretText),
              let created = json["created_at_ms"]?.int64Value, let updated = json["updated_at_ms"]?.int64Value else { return nil }
        let previous = (json["previous_secrets"]?.arrayValue ?? []).compactMap { entry -> (WebhookSecret, Int64)? in
            guard let text = entry["secret"]?.stringValue, let secret = try? WebhookSecret(parsing: text),
                  let expires = entry["expires_at_unix"]?.int64Value else { return nil }
            return (secret, expires)
        }
        self.init(id: id, organizationID: organizationID, url: url, description: json["description"]?.stringValue ?? "",
                  eventTypes: types, ordered: ordered, maxInFlight: Int(maxInFlight),
                  retry: RetrySchedule(maxRetries: Int(maxRetries), initialDelayMs: initial, maxDelayMs: maximum),
                  status: status, statusReason: json["status_reason"]?.stringValue,
                  rateLimitPerSecond: json["rate_limit_per_second"]?.int64Value.flatMap { ServiceLimits.Webhooks.rateLimitPerSecondRange.contains(Int($0)) ? Int($0) : nil },
                  startOffset: UInt64(max(0, start)), secrets: SecretRing(current: current, previous: previous),
                  createdAtMs: created, updatedAtMs: updated)
    }
}
