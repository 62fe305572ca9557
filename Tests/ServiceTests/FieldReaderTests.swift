import JSON
import Testing
@testable import Service

/// `FieldReader`'s record of which members were read: a bit per member for the first 64, a list after.
@Suite struct FieldReaderTests {
    static func object(memberCount: Int) -> JSONValue {
        .object((0..<memberCount).map { ("m\($0)", .string("v\($0)")) })
    }

    static func unknownField(_ reader: FieldReader) -> String? {
        do {
            try reader.rejectUnknown()
            return nil
        } catch {
            return error.code == "unknown_field" ? error.message : "another error: \(error.code)"
        }
    }

    @Test func everyMemberReadMeansNoUnknownField() throws {
        for count in [0, 1, 63, 64, 65, 130] {
            var reader = try FieldReader(Self.object(memberCount: count))
            for index in 0..<count { #expect(try reader.string("m\(index)") == "v\(index)") }
            #expect(try reader.string("absent") == nil)
            #expect(Self.unknownField(reader) == nil, "\(count) members")
        }
    }

    /// The first member left unread is named, before and after the 64th member.
    @Test func theFirstUnreadMemberIsNamed() throws {
        for unread in [0, 5, 63, 64, 65, 129] {
            var reader = try FieldReader(Self.object(memberCount: 130))
            for index in 0..<130 where index != unread { _ = reader.any("m\(index)") }
            #expect(Self.unknownField(reader) == #"body has an unknown field "m\#(unread)""#, "member \(unread) unread")
        }
        var fresh = try FieldReader(Self.object(memberCount: 70))
        _ = fresh.any("m0")
        #expect(Self.unknownField(fresh) == #"body has an unknown field "m1""#)
    }
}
