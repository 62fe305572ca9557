import ArgusTestSupport
import Testing
@testable import HTTPServer

/// The request parser on its own: valid requests, every refusal, chunked bodies, limits.
@Suite struct HTTPParserTests {
    /// What feeding some bytes produced.
    struct Outcome {
        var requests: [HTTPParser.Request] = []
        var continues = 0
        var error: HTTPParseError?
        var leftover: [UInt8] = []
    }

    /// Feeds `bytes` in pieces of `pieceBytes` the way a connection does (unconsumed bytes stay
    /// and get more appended) and collects what happened.
    static func feed(_ bytes: [UInt8], pieceBytes: Int = Int.max, headMax: Int = 16 * 1024,
                     bodyMax: @escaping @Sendable (String, String) -> Int = { _, _ in 1 << 20 }) -> Outcome {
        var parser = HTTPParser(headSizeBytesMax: headMax, bodySizeBytesMax: bodyMax)
        var outcome = Outcome()
        var buffer: [UInt8] = []
        var position = 0
        while position < bytes.count {
            let end = pieceBytes >= bytes.count - position ? bytes.count : position + pieceBytes
            buffer += bytes[position..<end]
            position = end
            parsing: while true {
                let step = buffer.withUnsafeBufferPointer { parser.parse($0) }
                buffer.removeFirst(step.consumed)
                switch step.event {
                case .needMore: break parsing
                case .continueExpected: outcome.continues += 1
                case .complete(let request): outcome.requests.append(request)
                case .failure(let error):
                    outcome.error = error
                    return outcome
                }
            }
        }
        outcome.leftover = buffer
        return outcome
    }

    static func feed(_ text: String, pieceBytes: Int = Int.max, headMax: Int = 16 * 1024) -> Outcome {
        feed(Array(text.utf8), pieceBytes: pieceBytes, headMax: headMax)
    }

    @Test func parsesASimpleGet() throws {
        let outcome = Self.feed("GET /v1/a%20b/c?x=1&y=two+words&x=%2F&flag HTTP/1.1\r\nHost: example\r\nX-Thing:  padded value \t\r\nx-thing: second\r\n\r\n")
        #expect(outcome.error == nil)
        let request = try #require(outcome.requests.first)
        #expect(request.head.method == "GET")
        #expect(request.head.target == "/v1/a%20b/c?x=1&y=two+words&x=%2F&flag")
        #expect(request.head.path == "/v1/a b/c")
        #expect(request.head.query.map { "\($0.0)=\($0.1)" } == ["x=1", "y=two words", "x=/", "flag="])
        #expect(request.head.headers["host"] == "example")
        #expect(request.head.headers["X-THING"] == "padded value")
        #expect(request.head.headers.values(for: "x-thing") == ["padded value", "second"])
        #expect(request.head.versionMinor == 1)
        #expect(request.head.keepAlive)
        #expect(request.body.isEmpty)
    }

    @Test func readsAContentLengthBodyAndStopsThere() throws {
        let outcome = Self.feed("POST /e HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET")
        let request = try #require(outcome.requests.first)
        #expect(String(decoding: request.body, as: UTF8.self) == "hello")
        #expect(outcome.leftover == Array("GET".utf8))
    }

    @Test func acceptsRepeatedIdenticalContentLengths() throws {
        let outcome = Self.feed("POST / HTTP/1.1\r\nContent-Length: 3, 3\r\nContent-Length: 3\r\n\r\nabc")
        #expect(outcome.error == nil)
        #expect(outcome.requests.first?.body == Array("abc".utf8))
    }

    /// `Content-Length` lists, scanned as bytes: elements trimmed, all must agree, leading zeros allowed,
    /// an empty element refused; more than 18 digits is too long (413), also beside a shorter value (400).
    @Test func readsContentLengthListsElementByElement() throws {
        for value in ["3", " 3 ", "3\t", "3,3", "3 ,\t3", "3\t, 3", "003, 3", "3, 3, 3"] {
            let outcome = Self.feed("POST / HTTP/1.1\r\nContent-Length: \(value)\r\n\r\nabc")
            #expect(outcome.error == nil && outcome.requests.first?.body == Array("abc".utf8), "\(value)")
        }
        let refused: [(String, Int)] = [("3,", 400), (",3", 400), ("3,,3", 400), ("3, 4", 400), ("3,x", 400), ("3,\t", 400),
                                        ("1234567890123456789", 413), ("0001234567890123456789", 413),
                                        ("1234567890123456789, 3", 400), ("3, 1234567890123456789", 400)]
        for (value, status) in refused {
            let outcome = Self.feed("POST / HTTP/1.1\r\nContent-Length: \(value)\r\n\r\nabc")
            #expect(outcome.error?.status == status, "\(value)")
        }
        let eighteenDigits = Self.feed(Array("POST / HTTP/1.1\r\nContent-Length: 999999999999999999\r\n\r\n".utf8), bodyMax: { _, _ in .max })
        #expect(eighteenDigits.error == nil && eighteenDigits.requests.isEmpty, "18 digits is a length (the body is awaited)")
    }

    /// A common field value (given as a shared literal, not copied) reads like any other.
    @Test func commonFieldValuesReadAsSent() throws {
        let outcome = Self.feed("POST / HTTP/1.1\r\nContent-Type: application/json\r\nAccept: application/jsonl\r\n"
            + "X-One: application/jso\r\nX-Two:  application/json \r\nContent-Length: 0\r\n\r\n")
        let headers = try #require(outcome.requests.first?.head.headers)
        #expect(headers["content-type"] == "application/json")
        #expect(headers["accept"] == "application/jsonl")
        #expect(headers["x-one"] == "application/jso")
        #expect(headers["x-two"] == "application/json")
    }

    /// Fields repeated from the connection's previous request are taken from it (all, some, none): each
    /// request still reads exactly the fields it sent, in order.
    @Test func fieldsRepeatedFromThePreviousRequestReadAsSent() throws {
        let token = "Bearer " + String(repeating: "t", count: 40)
        let heads: [[(String, String)]] = [
            [("Host", "a"), ("Authorization", token), ("Content-Type", "application/json")],
            [("Host", "a"), ("Authorization", token), ("Content-Type", "application/json")],  // all repeat
            [("Host", "a"), ("Authorization", token + "x"), ("Content-Type", "application/json")],  // one differs
            [("Host", "a"), ("Authorization", token + "x")],  // fewer
            [("Host", "a"), ("Authorization", token + "x"), ("X-More", "1"), ("X-Most", "2")],  // more
            [("host", "a"), ("Authorization", token + "x"), ("X-More", "1"), ("X-Most", "2")],  // a name's case differs
            [("Authorization", token + "x"), ("host", "a")],  // the same fields in another order
            [],
            [("X-Bytes", "caf\u{E9}"), ("X-Same", "v")],
            [("X-Bytes", "caf\u{E9}"), ("X-Same", "v")],
        ]
        var text = ""
        for fields in heads {
            text += "GET / HTTP/1.1\r\n" + fields.map { "\($0.0): \($0.1)\r\n" }.joined() + "\r\n"
        }
        let outcome = Self.feed(text)
        #expect(outcome.error == nil)
        #expect(outcome.requests.count == heads.count)
        for (request, fields) in zip(outcome.requests, heads) {
            let read = request.head.headers.map { [$0.name, $0.value] }
            #expect(read == fields.map { [$0.0, $0.1] })
        }
        // Bytes that are not UTF-8 are repaired alike whether the field repeats or not.
        let invalid = Array("GET / HTTP/1.1\r\nX-Raw: a".utf8) + [0xFF] + Array("b\r\n\r\n".utf8)
        let twice = Self.feed(invalid + invalid)
        #expect(twice.requests.count == 2)
        #expect(twice.requests.map { $0.head.headers["x-raw"] } == ["a\u{FFFD}b", "a\u{FFFD}b"])
    }

    /// Only a head of at most 64 fields is kept for the next request to reuse: thousands of tiny fields
    /// (4 bytes each on the wire, far more as strings) are not held while the connection idles.
    @Test(arguments: [HTTPParser.reusedFieldCountMax, HTTPParser.reusedFieldCountMax + 1, 3_000])
    func theFieldsKeptForReuseAreBounded(fieldCount: Int) {
        var parser = HTTPParser(headSizeBytesMax: 16 * 1024, bodySizeBytesMax: { _, _ in 0 })
        let head = Array(("GET / HTTP/1.1\r\n" + String(repeating: "a:\r\n", count: fieldCount) + "\r\n").utf8)
        let step = head.withUnsafeBufferPointer { parser.parse($0) }
        #expect(step.consumed == head.count)
        #expect(parser.previousHeaders.count == (fieldCount <= HTTPParser.reusedFieldCountMax ? fieldCount : 0))
    }

    @Test func parsesTwoPipelinedRequestsFromOneBuffer() {
        let outcome = Self.feed(
            "GET /one HTTP/1.1\r\nHost: a\r\n\r\nPOST /two HTTP/1.1\r\nContent-Length: 2\r\n\r\nhiGET /three HTTP/1.1\r\n\r\n")
        #expect(outcome.requests.map(\.head.path) == ["/one", "/two", "/three"])
        #expect(outcome.requests[1].body == Array("hi".utf8))
    }

    @Test func givesTheSameResultFedOneByteAtATime() {
        let text = "\r\nPOST /x?q=1 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "4;name=value\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nTrailer: t\r\n\r\n"
            + "GET /next HTTP/1.1\r\nContent-Length: 0\r\n\r\n"
        let whole = Self.feed(text)
        let bytewise = Self.feed(text, pieceBytes: 1)
        #expect(whole.error == nil && bytewise.error == nil)
        #expect(whole.requests.count == 2)
        #expect(bytewise.requests.count == 2)
        #expect(String(decoding: whole.requests[0].body, as: UTF8.self) == "Wikipedia in\r\n\r\nchunks.")
        #expect(whole.requests[0].body == bytewise.requests[0].body)
        #expect(bytewise.requests[1].head.path == "/next")
    }

    @Test func decodesChunkedBodiesWithUppercaseHexAndNoTrailers() throws {
        let outcome = Self.feed("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\nA\r\n0123456789\r\n1 \r\nx\r\n0\r\n\r\n")
        #expect(outcome.error == nil)
        #expect(String(decoding: try #require(outcome.requests.first).body, as: UTF8.self) == "0123456789x")
    }

    @Test func ignoresEmptyLinesBeforeTheRequestLine() {
        #expect(Self.feed("\r\n\r\nGET / HTTP/1.1\r\n\r\n").requests.count == 1)
    }

    @Test func acceptsAbsoluteFormTargets() throws {
        let outcome = Self.feed("GET http://example.com:8080/a/b?c=d HTTP/1.1\r\n\r\n")
        let head = try #require(outcome.requests.first).head
        #expect(head.path == "/a/b")
        #expect(head.query.first?.1 == "d")
    }

    @Test func decidesKeepAliveByVersionAndConnectionHeader() {
        #expect(Self.feed("GET / HTTP/1.1\r\n\r\n").requests.first?.head.keepAlive == true)
        #expect(Self.feed("GET / HTTP/1.1\r\nConnection: Close\r\n\r\n").requests.first?.head.keepAlive == false)
        #expect(Self.feed("GET / HTTP/1.0\r\n\r\n").requests.first?.head.keepAlive == false)
        #expect(Self.feed("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").requests.first?.head.keepAlive == true)
        #expect(Self.feed("GET / HTTP/1.1\r\nConnection: upgrade, close\r\n\r\n").requests.first?.head.keepAlive == false)
    }

    @Test func signalsExpectContinueOnlyWhenTheBodyHasNotArrived() {
        let head = "PUT /u HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n"
        let waiting = Self.feed(head)
        #expect(waiting.continues == 1)
        #expect(waiting.requests.isEmpty)
        let eager = Self.feed(head + "abc")
        #expect(eager.continues == 0)
        #expect(eager.requests.first?.body == Array("abc".utf8))
        let staged = Self.feed(Array((head + "abc").utf8), pieceBytes: head.utf8.count)
        #expect(staged.continues == 1)
        #expect(staged.requests.count == 1)
    }

    @Test func acceptsAHeadExactlyAtTheLimitAndRefusesOneByteMore() {
        let base = "GET / HTTP/1.1\r\nX: \r\n\r\n"
        let limit = 200
        let fitting = base.replacingOccurrences(of: "X: ", with: "X: " + String(repeating: "a", count: limit - base.utf8.count))
        #expect(fitting.utf8.count == limit)
        #expect(Self.feed(fitting, headMax: limit).requests.count == 1)
        let over = fitting.replacingOccurrences(of: "X: ", with: "X: a")
        #expect(Self.feed(over, headMax: limit).error?.status == 431)
        #expect(Self.feed(over, pieceBytes: 7, headMax: limit).error?.status == 431)
        // Refused as soon as the limit is reached, without waiting for the end of the head.
        let endless = "GET / HTTP/1.1\r\nX: " + String(repeating: "b", count: limit)
        #expect(Self.feed(endless, headMax: limit).error?.code == "header_too_large")
    }

    @Test func refusesBodiesOverTheLimitPerMethodAndPath() {
        let limit: @Sendable (String, String) -> Int = { method, path in
            method == "POST" && path == "/big" ? 100 : 10
        }
        let small = Array("POST /small HTTP/1.1\r\nContent-Length: 11\r\n\r\n".utf8)
        #expect(Self.feed(small, bodyMax: limit).error?.code == "body_too_large")
        let big = Array(("POST /big HTTP/1.1\r\nContent-Length: 11\r\n\r\n" + String(repeating: "z", count: 11)).utf8)
        #expect(Self.feed(big, bodyMax: limit).requests.first?.body.count == 11)
        let chunked = Array(("POST /small HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "6\r\nabcdef\r\n6\r\nghijkl\r\n0\r\n\r\n").utf8)
        let outcome = Self.feed(chunked, bodyMax: limit)
        #expect(outcome.error?.status == 413)
        #expect(outcome.requests.isEmpty)
        let huge = Array("POST /big HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n".utf8)
        #expect(Self.feed(huge, bodyMax: limit).error?.status == 413)
        let hugeChunk = Array("POST /big HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFF\r\n".utf8)
        #expect(Self.feed(hugeChunk, bodyMax: limit).error?.status == 413)
    }

    static let malformed: [(String, Int, String)] = [
        ("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400, "obs-fold"),
        ("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400, "space before colon"),
        ("GET / HTTP/1.1\r\nHo st: a\r\n\r\n", 400, "space in name"),
        ("GET / HTTP/1.1\r\n: a\r\n\r\n", 400, "empty name"),
        ("GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400, "no colon"),
        ("GET / HTTP/1.1\r\nX: a\u{01}b\r\n\r\n", 400, "control in value"),
        ("GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", 400, "bare CR in value"),
        ("GET / HTTP/1.1\r\nX: a\u{7F}\r\n\r\n", 400, "DEL in value"),
        ("GET / HTTP/1.1\nHost: a\n\n", 400, "bare LF"),
        ("GET / HTTP/1.1\r\nHost: a\n\r\n", 400, "bare LF in header"),
        ("GET  / HTTP/1.1\r\n\r\n", 400, "double space"),
        ("GET /\r\n\r\n", 400, "no version"),
        ("GET / http/1.1\r\n\r\n", 400, "lowercase version"),
        ("GET / HTTP/1.1 \r\n\r\n", 400, "trailing space"),
        ("GET / HTTP/11\r\n\r\n", 400, "malformed version"),
        ("GET / HTTP/2.0\r\n\r\n", 505, "HTTP/2"),
        ("G(T / HTTP/1.1\r\n\r\n", 400, "bad method byte"),
        ("GET /a\u{7F} HTTP/1.1\r\n\r\n", 400, "bad target byte"),
        ("\u{0}GET / HTTP/1.1\r\n\r\n", 400, "NUL first"),
        ("GET /%zz HTTP/1.1\r\n\r\n", 400, "bad escape"),
        ("GET /%FF HTTP/1.1\r\n\r\n", 400, "escape is not UTF-8"),
        ("GET relative HTTP/1.1\r\n\r\n", 400, "relative target"),
        ("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400, "differing CL"),
        ("POST / HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\n", 400, "differing CL list"),
        ("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, "negative CL"),
        ("POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n", 400, "signed CL"),
        ("POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400, "non-numeric CL"),
        ("POST / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n", 400, "hex CL"),
        ("POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", 400, "empty CL"),
        ("POST / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n", 400, "CL with space"),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400, "TE and CL"),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 400, "chunked not final"),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400, "chunked not last"),
        ("POST / HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n", 400, "empty TE"),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501, "unsupported coding"),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", 501, "split TE"),
        ("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 411, "TE on HTTP/1.0"),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400, "bad chunk size"),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", 400, "empty chunk size"),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3x\r\n", 400, "junk after size"),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc", 400, "bare LF after size"),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n", 400, "no CRLF after data"),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;\u{01}\r\n", 400, "control in extension"),
    ]

    @Test(arguments: malformed)
    func refusesMalformedRequests(_ text: String, _ status: Int, _ label: String) {
        let outcome = Self.feed(text)
        #expect(outcome.error?.status == status, "\(label)")
        #expect(outcome.requests.isEmpty, "\(label)")
        let bytewise = Self.feed(text, pieceBytes: 1)
        #expect(bytewise.error?.status == status, "\(label), fed byte by byte")
    }

    @Test func errorCodesAreMachineReadable() {
        #expect(Self.feed("GET / HTTP/1.1\r\nX : y\r\n\r\n").error?.code == "bad_request")
        #expect(Self.feed("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n").error?.code == "length_required")
        #expect(Self.feed("POST / HTTP/1.1\r\nTransfer-Encoding: br, chunked\r\n\r\n").error?.code == "not_implemented")
    }

    @Test func staysFailedAfterAnError() {
        var parser = HTTPParser(headSizeBytesMax: 1024, bodySizeBytesMax: { _, _ in 10 })
        let bad = Array("BAD\r\n\r\nGET / HTTP/1.1\r\n\r\n".utf8)
        let first = bad.withUnsafeBufferPointer { parser.parse($0) }
        guard case .failure = first.event else {
            Issue.record("expected a failure")
            return
        }
        let second = bad.withUnsafeBufferPointer { parser.parse($0) }
        guard case .needMore = second.event else {
            Issue.record("expected nothing more")
            return
        }
    }

    /// Mutated requests fed in random pieces never crash the parser, and the piece sizes never
    /// change the outcome.
    @Test func survivesMutatedInputFedInRandomPieces() {
        let seeds = [
            "GET /a?b=c HTTP/1.1\r\nHost: h\r\nX: y\r\n\r\n",
            "POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
            "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;e=1\r\nhello\r\n0\r\nT: 1\r\n\r\n",
        ].map { Array($0.utf8) }
        let alphabet = Array("\r\n :;,0123456789aAfF-/%?=&\t".utf8) + [0, 0x7F, 0xFF]
        var generator = SeededGenerator(seed: 42)
        for round in 0..<3000 {
            var bytes = seeds[round % seeds.count]
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let position = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes[position] = alphabet.randomElement(using: &generator) ?? 0
                case 1: bytes.insert(alphabet.randomElement(using: &generator) ?? 0, at: position)
                default: bytes.remove(at: position)
                }
            }
            let whole = Self.feed(bytes, headMax: 64, bodyMax: { _, _ in 8 })
            let pieces = Self.feed(bytes, pieceBytes: Int.random(in: 1...9, using: &generator), headMax: 64,
                                   bodyMax: { _, _ in 8 })
            #expect(whole.requests.count == pieces.requests.count, "\(String(decoding: bytes, as: UTF8.self).debugDescription)")
            #expect(whole.error?.status == pieces.error?.status, "\(String(decoding: bytes, as: UTF8.self).debugDescription)")
            #expect(zip(whole.requests, pieces.requests).allSatisfy { $0.body == $1.body })
        }
    }
}
