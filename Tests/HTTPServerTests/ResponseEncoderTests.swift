import Testing
@testable import HTTPServer

/// The response head as bytes: the server's own fields, dropped handler fields, body rules.
@Suite struct ResponseEncoderTests {
    static func encoded(_ response: HTTPResponse, requestID: String = "req-1", close: Bool = false,
                        keepAliveHeader: Bool = false, omitBody: Bool = false) -> String {
        var output = ByteQueue()
        output.append("earlier|")
        ResponseEncoder.encode(response, into: &output, requestID: requestID, close: close, keepAliveHeader: keepAliveHeader,
                               omitBody: omitBody, date: "Mon, 30 Nov 2026 10:00:00 GMT")
        return output.withUnconsumedBytes { String(decoding: $0, as: UTF8.self) }
    }

    @Test func writesTheStatusLineHeadersAndBody() {
        #expect(Self.encoded(.json(201, Array(#"{"a":1}"#.utf8))) == "earlier|HTTP/1.1 201 Created\r\n"
            + "Content-Type: application/json\r\nX-Request-Id: req-1\r\nDate: Mon, 30 Nov 2026 10:00:00 GMT\r\n"
            + "Content-Length: 7\r\n\r\n{\"a\":1}")
        #expect(Self.encoded(HTTPResponse(status: 299), close: true) == "earlier|HTTP/1.1 299 Status\r\n"
            + "X-Request-Id: req-1\r\nDate: Mon, 30 Nov 2026 10:00:00 GMT\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        #expect(Self.encoded(HTTPResponse(status: 200, body: [0x41]), keepAliveHeader: true) == "earlier|HTTP/1.1 200 OK\r\n"
            + "X-Request-Id: req-1\r\nDate: Mon, 30 Nov 2026 10:00:00 GMT\r\nContent-Length: 1\r\nConnection: keep-alive\r\n\r\nA")
    }

    /// The framing fields are the server's: a handler's are dropped, its own id and date are kept, and a
    /// field that could break the framing is left out.
    @Test func replacesFramingFieldsAndDropsUnsafeOnes() {
        let headers: HTTPHeaders = ["content-length": "99", "Transfer-Encoding": "chunked", "CONNECTION": "close",
                                    "X-Request-Id": "mine", "date": "then", "Bad Name": "x", "X-Split": "a\r\nInjected: 1",
                                    "": "empty", "X-Fine": "ok\tvalue"]
        #expect(Self.encoded(HTTPResponse(status: 202, headers: headers, body: [1, 2, 3])) == "earlier|HTTP/1.1 202 Accepted\r\n"
            + "X-Request-Id: mine\r\ndate: then\r\nX-Fine: ok\tvalue\r\nContent-Length: 3\r\n\r\n\u{1}\u{2}\u{3}")
    }

    @Test func statusesWithoutBodiesAndOutOfRangeStatuses() {
        let body: [UInt8] = Array("body".utf8)
        let date = "Date: Mon, 30 Nov 2026 10:00:00 GMT\r\n"
        #expect(Self.encoded(HTTPResponse(status: 204, body: body)) == "earlier|HTTP/1.1 204 No Content\r\nX-Request-Id: req-1\r\n" + date + "\r\n")
        #expect(Self.encoded(HTTPResponse(status: 304, body: body))
            == "earlier|HTTP/1.1 304 Not Modified\r\nX-Request-Id: req-1\r\n" + date + "Content-Length: 0\r\n\r\n")
        #expect(Self.encoded(HTTPResponse(status: 200, body: body), omitBody: true)
            == "earlier|HTTP/1.1 200 OK\r\nX-Request-Id: req-1\r\n" + date + "Content-Length: 4\r\n\r\n")
        #expect(Self.encoded(HTTPResponse(status: 42)).hasPrefix("earlier|HTTP/1.1 500 Internal Server Error\r\n"))
        #expect(Self.encoded(HTTPResponse(status: 1000)).hasPrefix("earlier|HTTP/1.1 500 Internal Server Error\r\n"))
        #expect(Self.encoded(HTTPResponse(status: 999)).hasPrefix("earlier|HTTP/1.1 999 Status\r\n"))
    }

    /// Long values and many fields (the head's room is computed before it is written).
    @Test func writesLongHeads() {
        var headers = HTTPHeaders()
        for index in 0..<100 { headers.add("X-Field-\(index)", String(repeating: "v", count: index * 50)) }
        let requestID = String(repeating: "r", count: 128)
        let text = Self.encoded(HTTPResponse(status: 200, headers: headers, body: Array(repeating: 0x7A, count: 5000)), requestID: requestID)
        var expected = "earlier|HTTP/1.1 200 OK\r\n"
        for index in 0..<100 { expected += "X-Field-\(index): " + String(repeating: "v", count: index * 50) + "\r\n" }
        expected += "X-Request-Id: \(requestID)\r\nDate: Mon, 30 Nov 2026 10:00:00 GMT\r\nContent-Length: 5000\r\n\r\n"
        expected += String(repeating: "z", count: 5000)
        #expect(text == expected)
    }
}
