import Testing
@testable import JSON

@Suite struct JSONTests {
    @Test func parsesAndReencodesCompactly() throws {
        let text = #" { "a" : [1, -2.5e3, true, false, null, "x\"y\u00e9\ud83d\ude00"], "b": {} , "n": 12345678901234567890 } "#
        let value = try JSONParser.parse(Array(text.utf8))
        #expect(value["a"]?.arrayValue?.count == 6)
        #expect(value["n"] == .number("12345678901234567890"))
        #expect(value.text == #"{"a":[1,-2.5e3,true,false,null,"x\"yé😀"],"b":{},"n":12345678901234567890}"#)
        #expect(try JSONParser.parse(value.encoded()) == value)
    }

    @Test(arguments: ["", " ", "{", "}", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "01", "1.", ".5", "-", "1e", "+1", "tru", "nul",
                      "\"abc", "\"\\x\"", "\"\\ud800\"", "\"a\u{01}b\"", "{\"a\":1}{", "[1] 2", "{\"a\":1,\"a\":2}", "'a'", "NaN",
                      "{1:2}", "\"\\u12g4\""])
    func rejectsMalformed(text: String) {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(Array(text.utf8)) }
    }

    @Test func rejectsInvalidUTF8AndDeepNesting() {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse([0x22, 0xFF, 0x22]) }
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(Array(deep.utf8)) }
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect((try? JSONParser.parse(Array(ok.utf8))) != nil)
    }

    /// Plain runs are copied whole when encoding and parsing; escapes anywhere in a long string, at
    /// either end or next to each other, still round-trip exactly.
    @Test func longStringsWithEscapesAnywhereRoundTrip() throws {
        let specials = ["\"", "\\", "\n", "\r", "\t", "\u{01}", "\u{1f}", "é", "😀", "/"]
        let plain = String(repeating: "abcdefgh", count: 130)
        var samples = [plain, "", "\"\"", "\\\u{00}"]
        for special in specials {
            samples += [special + plain, plain + special, plain + special + special + plain, special]
        }
        for sample in samples {
            let encoded = JSONValue.string(sample).encoded()
            #expect(try JSONParser.parse(encoded) == .string(sample), "\(sample.prefix(8))")
        }
        #expect(JSONValue.string("x" + "\u{7f}\u{1f}").text == #""x\#u{7f}\u001f""#)
        // A control character after a long plain run is refused at its own position.
        let raw = Array(("\"" + plain).utf8) + [0x01, 0x22]
        #expect(throws: JSONParser.Failure(position: raw.count - 2, reason: "control character in string")) {
            try JSONParser.parse(raw)
        }
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(Array(("\"" + plain).utf8)) }
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(Array("\"ab".utf8) + [0xC3, 0x22]) }
    }

    @Test func escapesControlCharactersWhenEncoding() {
        #expect(JSONValue.string("a\u{01}\n\"\\").text == #""a\u0001\n\"\\""#)
    }
}
