import JSON
import SystemIO

extension DeliveryHistory {
    /// One record of a webhook's journal. Two kinds:
    /// - a delivery's full record (`DeliveryRecord.storedJSON`, no `kind` member: the only kind journals held
    ///   before change records, so every older journal reads as it did);
    /// - a change of one delivery (`"kind":"change"`): its status, next attempt time and the attempt that ended
    ///   (response body included), with the delivery's offset, event id and type so that a change without an
    ///   earlier record starts one. Appending a change never needs the delivery's earlier record.
    /// A delivery is its latest full record with the changes after it applied in order (`folding`); a
    /// compaction writes that as one full record.
    enum StoredRecord {
        case full(DeliveryRecord)
        case change(DeliveryUpdate)
    }

    /// The `kind` of a change record.
    static let changeKind = "change"

    /// A change record's bytes.
    static func changeRecord(_ update: DeliveryUpdate) -> [UInt8] {
        JSONValue.object([
            ("kind", .string(changeKind)), ("id", .string(update.deliveryID)), ("offset", .integer(update.offset)),
            ("event_id", .string(update.eventID)), ("event_type", .string(update.eventType)),
            ("status", .string(update.status.rawValue)),
            ("next_attempt_at_ms", update.nextAttemptAtMs.map { JSONValue.integer($0) } ?? .null),
            ("attempt", update.attempt?.json ?? .null),
        ]).encoded()
    }

    /// The record a journal body holds; nil for one that does not parse (skipped, as before).
    static func storedRecord(_ body: [UInt8]) -> StoredRecord? {
        guard let json = try? JSONParser.parse(body) else { return nil }
        guard let kind = json["kind"]?.stringValue else { return DeliveryRecord(stored: json).map(StoredRecord.full) }
        guard kind == changeKind, let id = json["id"]?.stringValue, let offset = json["offset"]?.int64Value,
              let eventID = json["event_id"]?.stringValue, let type = json["event_type"]?.stringValue,
              let status = json["status"]?.stringValue.flatMap(DeliveryRecord.Status.init(rawValue:)) else { return nil }
        let attempt = json["attempt"].flatMap { $0 == .null ? nil : DeliveryAttempt(json: $0) }
        return .change(DeliveryUpdate(deliveryID: id, offset: UInt64(clamping: offset), eventID: eventID, eventType: type, status: status,
                                      nextAttemptAtMs: json["next_attempt_at_ms"]?.int64Value, attempt: attempt, finalFailure: false))
    }

    /// `record` (nil: the delivery has no earlier record) with a stored change applied: its status and next
    /// attempt time; its attempt replaces the same attempt (number and start) or is appended, at most
    /// `attemptsPerDeliveryMax` kept. Applying a change twice gives the same record (a compaction may have
    /// folded it already).
    static func folding(_ change: DeliveryUpdate, into record: DeliveryRecord?, webhookID: String) -> DeliveryRecord {
        var folded = record ?? DeliveryRecord(deliveryID: change.deliveryID, webhookID: webhookID, offset: change.offset,
                                              eventID: change.eventID, eventType: change.eventType, status: .pending,
                                              attempts: [], nextAttemptAtMs: nil)
        folded.status = change.status
        folded.nextAttemptAtMs = change.nextAttemptAtMs
        if let attempt = change.attempt {
            if let same = folded.attempts.firstIndex(where: { $0.attempt == attempt.attempt && $0.startedAtMs == attempt.startedAtMs }) {
                folded.attempts[same] = attempt
            } else {
                folded.attempts.append(attempt)
                if folded.attempts.count > DeliveryLimits.Attempts.countPerDeliveryMax {
                    folded.attempts.removeFirst(folded.attempts.count - DeliveryLimits.Attempts.countPerDeliveryMax)
                }
            }
        }
        return folded
    }

    /// The delivery the journal records `bodies` make (a full record, then changes, in order); nil when none
    /// parses.
    static func folded(_ bodies: [[UInt8]], webhookID: String) -> DeliveryRecord? {
        var record: DeliveryRecord?
        for body in bodies {
            switch storedRecord(body) {
            case .full(let full)?: record = full
            case .change(let change)?: record = folding(change, into: record, webhookID: webhookID)
            case nil: continue
            }
        }
        return record
    }

    /// `record` within `sizeBytesMax` encoded (the oldest attempts' response bodies left out while it is over),
    /// and its encoding. A delivery read from several records is fitted the same way, so it reads the same
    /// before and after a compaction folds them.
    static func fitted(_ record: DeliveryRecord, sizeBytesMax: Int) -> (record: DeliveryRecord, encoded: [UInt8]) {
        var fitted = record
        var body = fitted.storedJSON.encoded()
        var next = 0
        while body.count > sizeBytesMax && next < fitted.attempts.count {
            if !fitted.attempts[next].responseBody.isEmpty {
                fitted.attempts[next].responseBody = ""
                body = fitted.storedJSON.encoded()
            }
            next += 1
        }
        return (fitted, body)
    }

    /// Records kept per delivery to rebuild it (its latest full record and the changes since): at most this
    /// many, the oldest dropped beyond (a change holds at most one attempt, and a delivery keeps
    /// `attemptsPerDeliveryMax`; the rest covers changes of status alone).
    static var sourceCountMax: Int { 2 * DeliveryLimits.Attempts.countPerDeliveryMax + 1 }

    /// `sources` with `location` appended, the oldest dropped beyond `sourceCountMax`.
    static func appending(_ location: Journal.Location, to sources: [Journal.Location]) -> [Journal.Location] {
        var sources = sources
        sources.append(location)
        if sources.count > sourceCountMax { sources.removeFirst(sources.count - sourceCountMax) }
        return sources
    }
}
