import ArgusTestSupport
import Testing
@testable import JSON

/// `JSONParser.parse(_:keepingCanonical:)`: the kept bytes are exactly what encoding would give,
/// and it accepts and refuses exactly what `parse(_:)` does.
@Suite struct CanonicalJSONTests {
    /// Parses `{"data":<member>}` both ways.
    private func kept(_ member: String) throws -> ArraySlice<UInt8>? {
        try JSONParser.parse(Array(#"{"type":"a.b","data":\#(member)}"#.utf8), keepingCanonical: "data").raw
    }

    @Test(arguments: [
        #"{}"#, #"{"a":1}"#, #"{"user_id":"u_1","ip":"203.0.113.9","n":[1,-2.5e+3,0,true,false,null]}"#,
        #"{"s":"quote \" backslash \\ nl \n cr \r tab \t nul \u0000 bell \u0007 us \u001f"}"#,
        #"{"é":"ünïcödé ✓ 😀","nested":{"a":{"b":[{"c":[]}]}}}"#, #"[1,2]"#, #""text""#, #"12.5"#, #"null"#,
    ])
    func keepsCanonicalText(_ member: String) throws {
        let raw = try #require(try kept(member))
        #expect(Array(raw) == Array(member.utf8))
        #expect(try JSONParser.parse(Array(raw)).encoded() == Array(raw))
    }

    @Test(arguments: [
        #"{ "a":1}"#, #"{"a": 1}"#, #"{"a":1 }"#, #"{"s":"a\/b"}"#, #"{"s":"\u0041"}"#, #"{"s":"\b"}"#, #"{"s":"\f"}"#,
        #"{"s":"\u001F"}"#, #"{"s":"\u000a"}"#, #"{"s":"\u0009"}"#, #"{"s":"\u00e9"}"#, #"{"s":"\ud83d\ude00"}"#,
        #"[1, 2]"#, #"{"a":[ ]}"#,
    ])
    func parsesOtherSpellingsAsUsual(_ member: String) throws {
        #expect(try kept(member) == nil)
        let both = try JSONParser.parse(Array(#"{"data":\#(member)}"#.utf8), keepingCanonical: "data")
        #expect(both.value == (try JSONParser.parse(Array(#"{"data":\#(member)}"#.utf8))))
    }

    @Test func refusesWhatTheParserRefuses() throws {
        let deep = String(repeating: "[", count: JSONParser.depthMax) + String(repeating: "]", count: JSONParser.depthMax)
        var invalid: [[UInt8]] = [
            Array(#"{"data":{"a":1,"a":2}}"#.utf8), Array(#"{"data":{},"data":{}}"#.utf8), Array(#"{"data":01}"#.utf8),
            Array(#"{"data":{"a":1,}}"#.utf8), Array(#"{"data":"\u00zz"}"#.utf8), Array(#"{"data":tru}"#.utf8),
            Array(#"{"data":{"a":"b"} x"#.utf8), Array(#"{"data":"#.utf8) + deep.utf8 + Array("}".utf8),
        ]
        invalid.append(Array(#"{"data":{"a":""#.utf8) + [0xC3, 0x28] + Array(#""}}"#.utf8))  // invalid UTF-8
        invalid.append(Array(#"{"data":{"a":""#.utf8) + [0xED, 0xA0, 0x80] + Array(#""}}"#.utf8))  // a surrogate
        invalid.append(Array(#"{"data":{"a":""#.utf8) + [0xF4, 0x90, 0x80, 0x80] + Array(#""}}"#.utf8))  // above U+10FFFF
        invalid.append(Array(#"{"data":{"a":""#.utf8) + [0xE0, 0x80, 0xAF] + Array(#""}}"#.utf8))  // overlong
        for text in invalid {
            #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(text) }
            #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(text, keepingCanonical: "data") }
        }
    }

    @Test func keepsOnlyTheTopLevelMember() throws {
        let parsed = try JSONParser.parse(Array(#"{"data":{"data":{"x":1}},"b":2}"#.utf8), keepingCanonical: "data")
        #expect(parsed.raw.map { Array($0) } == Array(#"{"data":{"x":1}}"#.utf8))
        #expect(parsed.value == .object([("b", .number("2"))]))
        let nested = try JSONParser.parse(Array(#"[{"data":{"x":1}}]"#.utf8), keepingCanonical: "data")
        #expect(nested.raw == nil)
    }

    @Test func objectsWithManyMembersAreLeftToTheParser() throws {
        let members = (0..<CanonicalJSONScanner.objectMemberCountMax + 1).map { #""k\#($0)":\#($0)"# }
        let big = "{" + members.joined(separator: ",") + "}"
        #expect(try kept(big) == nil)
        let small = "{" + members.dropLast().joined(separator: ",") + "}"
        #expect(try kept(small) != nil)
    }

    /// Random values encode to canonical text (kept); random one-byte changes of such a text are
    /// either kept, and then round-trip exactly, or parsed the usual way with the same outcome.
    /// Long strings go eight bytes at a time: a special byte at every position of strings up to 40 bytes
    /// long (escapes, raw control bytes, DEL, valid and invalid UTF-8) is found exactly as the parser finds it.
    @Test func aSpecialByteAtAnyPositionOfALongStringAgreesWithTheParser() throws {
        let specials: [[UInt8]] = [Array(#"\""#.utf8), Array(#"\\"#.utf8), Array(#"\n"#.utf8), Array(#"\u0001"#.utf8),
                                   Array(#"\u0041"#.utf8), [0x01], [0x1F], [0x7F], [0xC3, 0xA9], [0xFF], [0xC3], [0xED, 0xA0, 0x80],
                                   [0xF0, 0x9F, 0x98, 0x80], [UInt8(ascii: "\"")]]
        for special in specials {
            for length in 0...40 {
                for position in 0...length {
                    var string = [UInt8](repeating: UInt8(ascii: "x"), count: length)
                    string.insert(contentsOf: special, at: position)
                    let text = Array(#"{"type":"a.b","data":{"s":""#.utf8) + string + Array(#""}}"#.utf8)
                    let plain = Result { () throws(JSONParser.Failure) in try JSONParser.parse(text) }
                    let keeping = Result { () throws(JSONParser.Failure) in try JSONParser.parse(text, keepingCanonical: "data") }
                    switch (plain, keeping) {
                    case (.failure, .failure):
                        continue
                    case (.success(let whole), .success(let split)):
                        if let raw = split.raw {
                            #expect(try JSONParser.parse(Array(raw)).encoded() == Array(raw), "\(special) at \(position) of \(length)")
                            guard case .object(let members) = whole else { continue }
                            #expect(members.first { $0.0 == "data" }?.1.encoded() == Array(raw))
                        } else {
                            #expect(split.value == whole)
                        }
                    default:
                        Issue.record("the two parses disagree: \(special) at \(position) of \(length)")
                    }
                }
            }
        }
    }

    @Test func randomValuesAndMutationsAgreeWithTheParser() throws {
        var generator = SeededGenerator(seed: 0x5EED_CAFE)
        let alphabet: [UInt8] = Array(#"{}[]":,\ nrtu0aA9-.eE+/"#.utf8) + [0x00, 0x01, 0x1F, 0x7F, 0xC3, 0xA9, 0xF0, 0x9F, 0x98, 0x80, 0xFF]
        for _ in 0..<3000 {
            let value = JSONValue.object([("data", randomValue(&generator, depth: 0))])
            let text = value.encoded()
            let parsed = try JSONParser.parse(text, keepingCanonical: "data")
            let raw = try #require(parsed.raw)
            #expect(try JSONParser.parse(Array(raw)).encoded() == Array(raw))
            var mutated = text
            let index = Int(generator.next() % UInt64(mutated.count))
            switch generator.next() % 3 {
            case 0: mutated[index] = alphabet[Int(generator.next() % UInt64(alphabet.count))]
            case 1: mutated.insert(alphabet[Int(generator.next() % UInt64(alphabet.count))], at: index)
            default: mutated.remove(at: index)
            }
            let plain = Result { () throws(JSONParser.Failure) in try JSONParser.parse(mutated) }
            let keeping = Result { () throws(JSONParser.Failure) in try JSONParser.parse(mutated, keepingCanonical: "data") }
            switch (plain, keeping) {
            case (.failure, .failure): continue
            case (.success(let whole), .success(let split)):
                if let raw = split.raw {
                    let rawValue = try JSONParser.parse(Array(raw))
                    #expect(rawValue.encoded() == Array(raw))
                    guard case .object(var members) = split.value, case .object(let wholeMembers) = whole else {
                        Issue.record("not an object")
                        continue
                    }
                    let position = wholeMembers.firstIndex { $0.0 == "data" } ?? 0
                    members.insert(("data", rawValue), at: min(position, members.count))
                    #expect(JSONValue.object(members) == whole)
                } else {
                    #expect(split.value == whole)
                }
            default:
                Issue.record("the two parses disagree on \(String(decoding: mutated, as: UTF8.self))")
            }
        }
    }

    private func randomValue(_ generator: inout SeededGenerator, depth: Int) -> JSONValue {
        switch generator.next() % (depth > 3 ? 4 : 6) {
        case 0: return .null
        case 1: return .bool(generator.next() % 2 == 0)
        case 2: return .number(["0", "-1", "12.5", "3e-7", "-0.25E+2"][Int(generator.next() % 5)])
        case 3:
            let scalars: [Unicode.Scalar] = ["a", "\"", "\\", "\n", "\r", "\t", "\u{0}", "\u{1F}", "/", "é", "✓", "😀", " "]
            let count = Int(generator.next() % 8)
            return .string(String(String.UnicodeScalarView((0..<count).map { _ in scalars[Int(generator.next() % UInt64(scalars.count))] })))
        case 4:
            return .array((0..<Int(generator.next() % 4)).map { _ in randomValue(&generator, depth: depth + 1) })
        default:
            let count = Int(generator.next() % 5)
            return .object((0..<count).map { index in ("k\(index)\(["", "é", "\""][Int(generator.next() % 3)])", randomValue(&generator, depth: depth + 1)) })
        }
    }
}
