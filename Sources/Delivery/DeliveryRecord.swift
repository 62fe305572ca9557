import JSON

/// One attempt to deliver one event to one webhook.
public struct DeliveryAttempt: Sendable, Equatable {
    /// 1-based attempt number within the delivery.
    public var attempt: Int
    package var startedAtMs: Int64
    public var durationMs: Double
    /// The HTTP status, nil when no response arrived.
    public var statusCode: Int?
    /// First 4 KiB of the response body (see `keptText(_:)`).
    package var responseBody: String
    public var error: String?

    var json: JSONValue {
        .object([
            ("attempt", .integer(attempt)), ("started_at_ms", .integer(startedAtMs)),
            ("duration_ms", .number(String(format: "%.1f", durationMs))),
            ("status_code", statusCode.map { JSONValue.integer($0) } ?? .null),
            ("response_body", .string(responseBody)), ("error", error.map(JSONValue.string) ?? .null),
        ])
    }

    /// The text kept of a response body: at most `DeliveryLimits.Attempts.responseBodySizeBytesMax` bytes of UTF-8, cut at a
    /// character boundary (a character the cut splits is dropped, not replaced) and never grown past the limit by
    /// the replacement characters of invalid bytes.
    static func keptText(_ body: some Collection<UInt8>) -> String {
        let limit = DeliveryLimits.Attempts.responseBodySizeBytesMax
        var bytes = Array(body.prefix(limit))
        // A multi-byte sequence the cut split: drop its lead byte and continuation bytes.
        if bytes.count == limit, let lead = bytes.indices.suffix(4).last(where: { bytes[$0] & 0xC0 != 0x80 }) {
            let first = bytes[lead]
            let length = first >= 0xF0 ? 4 : first >= 0xE0 ? 3 : first >= 0xC0 ? 2 : 1
            if bytes.count - lead < length { bytes.removeSubrange(lead...) }
        }
        let text = String(decoding: bytes, as: UTF8.self)
        guard text.utf8.count > limit else { return text }
        var kept = String.UnicodeScalarView()
        var size = 0
        for scalar in text.unicodeScalars {
            size += UTF8.width(scalar)
            if size > limit { break }
            kept.append(scalar)
        }
        return String(kept)
    }
}

extension DeliveryAttempt {
    /// An attempt as stored in the history; nil when a required member is missing.
    init?(json: JSONValue) {
        guard let attempt = json["attempt"]?.int64Value, let started = json["started_at_ms"]?.int64Value,
              case .number(let duration)? = json["duration_ms"] else { return nil }
        self.init(attempt: Int(attempt), startedAtMs: started, durationMs: Double(duration) ?? 0,
                  statusCode: json["status_code"]?.int64Value.map(Int.init),
                  responseBody: json["response_body"]?.stringValue ?? "", error: json["error"]?.stringValue)
    }
}

/// The delivery of one event to one webhook, across its attempts.
public struct DeliveryRecord: Sendable, Equatable {
    public enum Status: String, Sendable {
        /// In flight or waiting for a retry.
        case pending
        case succeeded
        /// Retries exhausted (or the endpoint answered 410); retryable by hand.
        case failed
    }

    public var deliveryID: String
    public var webhookID: String
    public var offset: UInt64
    public var eventID: String
    public var eventType: String
    public var status: Status
    public var attempts: [DeliveryAttempt]
    /// When the next attempt is due, in ms since 1970; nil unless pending a retry.
    package var nextAttemptAtMs: Int64?

    /// The public JSON form.
    public var json: JSONValue {
        .object([
            ("id", .string(deliveryID)), ("webhook_id", .string(webhookID)), ("offset", .integer(offset)),
            ("event_id", .string(eventID)), ("event_type", .string(eventType)), ("status", .string(status.rawValue)),
            ("attempt_count", .integer(attempts.count)),
            ("next_attempt_at", nextAttemptAtMs.map { JSONValue.string(EventLogTime.format($0)) } ?? .null),
            ("attempts", .array(attempts.map { attempt in
                guard case .object(var members) = attempt.json else { return attempt.json }
                members.append(("started_at", .string(EventLogTime.format(attempt.startedAtMs))))
                return .object(members)
            })),
        ])
    }

    var storedJSON: JSONValue {
        .object([
            ("id", .string(deliveryID)), ("webhook_id", .string(webhookID)), ("offset", .integer(offset)),
            ("event_id", .string(eventID)), ("event_type", .string(eventType)), ("status", .string(status.rawValue)),
            ("next_attempt_at_ms", nextAttemptAtMs.map { JSONValue.integer($0) } ?? .null),
            ("attempts", .array(attempts.map(\.json))),
        ])
    }
}

extension DeliveryRecord {
    /// A record as stored in the history (`storedJSON`); nil when a required member is missing.
    init?(stored json: JSONValue) {
        guard let id = json["id"]?.stringValue, let webhook = json["webhook_id"]?.stringValue,
              let offset = json["offset"]?.int64Value, let eventID = json["event_id"]?.stringValue,
              let type = json["event_type"]?.stringValue, let statusText = json["status"]?.stringValue,
              let status = Status(rawValue: statusText) else { return nil }
        self.init(deliveryID: id, webhookID: webhook, offset: UInt64(clamping: offset), eventID: eventID, eventType: type, status: status,
                  attempts: (json["attempts"]?.arrayValue ?? []).compactMap(DeliveryAttempt.init(json:)),
                  nextAttemptAtMs: json["next_attempt_at_ms"]?.int64Value)
    }
}

import EventLog
import Foundation

/// RFC 3339 formatting of history times.
enum EventLogTime {
    static func format(_ ms: Int64) -> String { Timestamp.format(ms: ms) }
}
