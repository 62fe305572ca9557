import Crypto
import Foundation
import Testing
@testable import EventLog

@Suite struct FormatTests {
    /// The running segment digest fed frame by frame through `absorb`, each frame beside the next event's
    /// payload, equals SHA-256 of the frames end to end, and the payload digests equal SHA-256 of each
    /// event's names and data, for frames and payloads of unequal sizes (shorter, longer, none).
    @Test func framesAbsorbedBesideTheNextPayloadHashLikeSeparatePasses() {
        for count in [1, 2, 5] {
            let events = (0..<count).map { number in
                NewEvent(organizationID: "org_\(number)", type: "user.created", eventID: "evt_\(number)",
                         data: Array(String(repeating: "z", count: (number * 300) % 700).utf8))
            }
            let frames = (0..<count).map { number in [UInt8](repeating: UInt8(number), count: [5, 64, 1_000, 130, 2][number]) }
            let expectedDigests = events.flatMap { event in
                SHA256.hash(Array(event.organizationID.utf8) + Array(event.type.utf8) + Array(event.eventID.utf8) + event.data)
            }
            var digests: [UInt8] = []
            RecordFrame.appendPayloadDigest(of: events[0], to: &digests)
            var segmentDigest = SHA256()
            segmentDigest.update(Array("segment header".utf8))
            for (index, frame) in frames.enumerated() {
                frame.withUnsafeBytes { bytes in
                    RecordFrame.absorb(frame: bytes, into: &segmentDigest, withPayloadOf: index + 1 < count ? events[index + 1] : nil,
                                       to: &digests)
                }
            }
            #expect(digests == expectedDigests, "\(count) events")
            #expect(segmentDigest.finalize() == SHA256.hash(Array("segment header".utf8) + frames.joined()), "\(count) frames")
        }
    }

    /// The writer's frames, chain values, footer and segment digest equal the layout documented on
    /// `RecordFrame`, encoded here independently, for groups of one, two and three events (multi-byte
    /// UTF-8 names, empty and larger data), across a roll.
    @Test func writtenFramesFollowTheDocumentedLayout() throws {
        let directory = TemporaryDirectory()
        var options = TestSupport.options(segmentSizeBytes: EventLogLimits.segmentSizeBytesMin, fsync: .always)
        options.indexIntervalBytes = 1
        let log = try EventLog(directory: directory.path, options: options)
        let groups: [[NewEvent]] = [
            [NewEvent(organizationID: "org_1", type: "user.created", eventID: "evt_1", data: Array(#"{"a":1}"#.utf8), timestampMs: 1_000)],
            [NewEvent(organizationID: "o", type: "t.t", eventID: "e4", data: Array("[1]".utf8), timestampMs: 3_000),
             NewEvent(organizationID: "o", type: "t.t", eventID: "e5", data: Array("[2,3]".utf8), timestampMs: 3_000),
             NewEvent(organizationID: "o", type: "t.t", eventID: "e6", data: Array("{}".utf8), timestampMs: 3_001)],
            [NewEvent(organizationID: "örg_é", type: "ünïcode.type", eventID: "evt_ü", data: [], timestampMs: 2_000),
             NewEvent(organizationID: "org_2", type: "user.deleted", eventID: "evt_3",
                      data: Array(String(repeating: "y", count: 4_000).utf8), timestampMs: 2_001)],
        ]
        for group in groups { _ = try log.appendAndWait(batch: group) }
        // The first segment is full (over 4 KiB since the last group): this group rolls it and starts the second.
        let last = NewEvent(organizationID: "org_1", type: "user.created", eventID: "evt_7", data: Array("7".utf8), timestampMs: 4_000)
        _ = try log.appendAndWait(batch: [last])
        log.close()

        func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }
        var expected: [UInt8] = []
        var chain = [UInt8](repeating: 0, count: 32)
        for (offset, event) in groups.joined().enumerated() {
            let names = Array(event.organizationID.utf8) + Array(event.type.utf8) + Array(event.eventID.utf8)
            let prefix = [1, 0] + littleEndian(UInt16(event.organizationID.utf8.count)) + littleEndian(UInt16(event.type.utf8.count))
                + littleEndian(UInt16(event.eventID.utf8.count)) + littleEndian(UInt64(offset)) + littleEndian(event.timestampMs!)
            chain = SHA256.hash(chain + prefix + SHA256.hash(names + event.data))
            let body = prefix + chain + names + event.data
            let length = littleEndian(UInt32(body.count))
            expected += length + littleEndian(CRC32C.checksum(length + body)) + body
        }
        let first = [UInt8](try Data(contentsOf: URL(fileURLWithPath: directory.appending(SegmentName.log(baseOffset: 0)))))
        let headerSize = SegmentHeader.sizeBytes
        try #require(first.count > headerSize + expected.count)
        #expect(Array(first[headerSize..<(headerSize + expected.count)]) == expected)
        // The footer: record count, last offset, last chain, SHA-256 of every byte before it.
        let footerBody = [2, 0, 0, 0, 0, 0, 0, 0] + littleEndian(UInt64(6)) + littleEndian(UInt64(5)) + chain
            + SHA256.hash(first[..<(headerSize + expected.count)])
        let footerLength = littleEndian(UInt32(footerBody.count))
        #expect(Array(first[(headerSize + expected.count)...]) == footerLength + littleEndian(CRC32C.checksum(footerLength + footerBody)) + footerBody)
        // The second segment continues the chain.
        let second = [UInt8](try Data(contentsOf: URL(fileURLWithPath: directory.appending(SegmentName.log(baseOffset: 6)))))
        try #require(second.count >= SegmentHeader.sizeBytes)
        #expect(Array(second[32..<64]) == chain)
        let records = try TestSupport.readAll(directory.path)
        #expect(records.map(\.eventID) == groups.joined().map(\.eventID) + [last.eventID])
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
