import Crypto
import Testing
@testable import EventLog

@Suite struct FormatTests {
    /// Payload digests made two events at a time equal SHA-256 of each event's names and data, for an odd
    /// and an even number of events of unequal sizes.
    @Test func payloadDigestsEqualEachEventsOwnDigest() {
        for count in [0, 1, 2, 5] {
            let events = (0..<count).map { number in
                NewEvent(organizationID: "org_\(number)", type: "user.created", eventID: "evt_\(number)",
                         data: Array(String(repeating: "z", count: number * 300).utf8))
            }
            let expected = events.flatMap { event in
                SHA256.hash(Array(event.organizationID.utf8) + Array(event.type.utf8) + Array(event.eventID.utf8) + event.data)
            }
            #expect(RecordFrame.payloadDigests(of: events) == expected, "\(count) events")
        }
    }

    @Test func timestampsFormatAsRFC3339UTC() {
        #expect(Timestamp.format(ms: 0) == "1970-01-01T00:00:00.000+00:00")
        #expect(Timestamp.format(ms: 1_780_653_600_123) == "2026-06-05T10:00:00.123+00:00")
        #expect(Timestamp.format(ms: 951_782_400_000) == "2000-02-29T00:00:00.000+00:00")
    }

    @Test func timestampsParseWithOffsetsAndFractions() {
        #expect(Timestamp.parse("2026-06-05T10:00:00.123+00:00") == 1_780_653_600_123)
        #expect(Timestamp.parse("2026-06-05T10:00:00Z") == 1_780_653_600_000)
        #expect(Timestamp.parse("2026-06-05T12:00:00+02:00") == 1_780_653_600_000)
        #expect(Timestamp.parse("2026-06-05T10:00:00.1234567Z") == 1_780_653_600_123)
        #expect(Timestamp.parse("2026-06-05T10:00:00.5Z") == 1_780_653_600_500)
        for bad in ["", "2026-06-05", "2026-13-05T10:00:00Z", "2026-06-05T10:00:00", "2026-06-05T10:00:00.Z",
                    "2026-06-05T10:00:00+0200", "2026-06-05T25:00:00Z", "2026-06-05T10:00:00Zjunk"] {
            #expect(Timestamp.parse(bad) == nil, "\(bad)")
        }
        for ms: Int64 in [0, 1, 999, 86_399_999, 1_780_653_600_123, 4_102_444_800_000] {
            #expect(Timestamp.parse(Timestamp.format(ms: ms)) == ms)
        }
    }

    @Test func eventTypesAndFilters() {
        #expect(EventType.isWellFormed("user.created"))
        #expect(!EventType.isWellFormed("User.created") && !EventType.isWellFormed("user") && !EventType.isWellFormed("a.b.c"))
        #expect(![".created", "user.", "", ".", "user..created", "user.créé", "user.created "].contains(where: EventType.isWellFormed))
        #expect(EventType.isValidFilter("*") && EventType.isValidFilter("security.*") && EventType.isValidFilter("mfa.enabled"))
        #expect(!EventType.isValidFilter("*.created") && !EventType.isValidFilter("sec*"))
        #expect(EventType.matches("security.account_locked", pattern: "security.*"))
        #expect(!EventType.matches("securityx.account_locked", pattern: "security.*"))
        #expect(EventType.matches("user.login", pattern: "*"))
        #expect(EventType.catalog.count == 34 && EventType.catalog.allSatisfy(EventType.isWellFormed))
    }

    @Test func envelopeIsValidJSONInContractOrder() throws {
        let event = NewEvent(organizationID: "org_\"42", type: "security.account_locked", eventID: "evt_1",
                             data: Array(#"{"a":[1,2]}"#.utf8))
        let record = EventRecord(event, offset: 7, timestampMs: 1_780_653_600_000, chainHash: [])
        let text = String(decoding: record.envelope(), as: UTF8.self)
        #expect(text == #"{"id":"evt_1","type":"security.account_locked","timestamp":"2026-06-05T10:00:00.000+00:00","organization_id":"org_\"42","offset":7,"data":{"a":[1,2]}}"#)
        let empty = EventRecord(NewEvent(organizationID: "o", type: "a.b", eventID: "e", data: []), offset: 0, timestampMs: 0, chainHash: [])
        #expect(String(decoding: empty.envelope(), as: UTF8.self).hasSuffix(#","offset":0,"data":null}"#))
    }

    @Test func eventIDsAreULIDsThatSortByTime() throws {
        let early = try EventID.make(timestampMs: 1_000)
        let late = try EventID.make(timestampMs: 2_000)
        #expect(early.hasPrefix("evt_") && early.count == 30)
        #expect(early < late)
        #expect(try EventID.make(timestampMs: 1_000) != early)
    }
}
