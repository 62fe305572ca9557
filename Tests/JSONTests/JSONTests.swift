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

    @Test func escapesControlCharactersWhenEncoding() {
        #expect(JSONValue.string("a\u{01}\n\"\\").text == #""a\u0001\n\"\\""#)
    }
}
