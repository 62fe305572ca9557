import Testing
@testable import HTTPClient

/// Every receiver answer the HTTP client can meet, fed to the reader whole and one byte at a time.
@Suite struct HTTPResponseReaderTests {
    /// Feeds `text` in pieces of `step` bytes; returns the reader and the error, if any.
    static func read(_ text: String, step: Int = .max, prefix: Int = 4096, bodyMax: Int = 64 << 10,
                     close: Bool = false) -> (reader: HTTPResponseReader, error: HTTPResponseReader.Malformed?) {
        var reader = HTTPResponseReader(bodyPrefixSizeBytesMax: prefix, bodySizeBytesMax: bodyMax)
        let bytes = Array(text.utf8)
        var index = 0
        do {
            while index < bytes.count, !reader.isComplete {
                let end = min(bytes.count, index + step)
                let used = try bytes[index..<end].withUnsafeBytes { try reader.consume($0) }
                index += max(used, end - index)
            }
        } catch {
            return (reader, error as? HTTPResponseReader.Malformed ?? HTTPResponseReader.Malformed(reason: "\(error)"))
        }
        if close { _ = reader.finishAtClose() }
        return (reader, nil)
    }

    @Test(arguments: [1, 3, 1000])
    func contentLengthBodyIsReadWholeAndTheConnectionKept(step: Int) {
        let (reader, error) = Self.read("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nRetry-After: 7\r\n\r\nhello", step: step)
        #expect(error == nil)
        #expect(reader.isComplete)
        #expect(reader.statusCode == 200)
        #expect(reader.bodyPrefix == Array("hello".utf8))
        #expect(reader.retryAfter == "7")
        #expect(reader.keepsConnection)
    }

    @Test(arguments: [1, 2, 1000])
    func chunkedBodyWithExtensionsAndTrailersIsDecoded(step: Int) {
        let text = "HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n"
        let (reader, error) = Self.read(text, step: step)
        #expect(error == nil)
        #expect(reader.isComplete)
        #expect(reader.statusCode == 500)
        #expect(reader.bodyPrefix == Array("abc0123456789".utf8))
        #expect(reader.keepsConnection)
    }

    @Test func aBodyWithoutLengthEndsAtCloseAndTheConnectionIsNotKept() {
        let open = Self.read("HTTP/1.1 200 OK\r\n\r\npartial body")
        #expect(!open.reader.isComplete, "without a length the body is complete only at the close")
        let closed = Self.read("HTTP/1.1 200 OK\r\n\r\npartial body", close: true)
        #expect(closed.reader.isComplete)
        #expect(closed.reader.bodyPrefix == Array("partial body".utf8))
        #expect(!closed.reader.keepsConnection)
    }

    @Test func noBodyStatusesCompleteAtTheHead() {
        for status in [204, 304] {
            let (reader, _) = Self.read("HTTP/1.1 \(status) X\r\nContent-Length: 10\r\n\r\n")
            #expect(reader.isComplete)
            #expect(reader.statusCode == status)
            #expect(reader.bodyPrefix.isEmpty)
        }
    }

    @Test func informationalAnswersAreSkippedAnd101IsRefused() {
        let (reader, error) = Self.read("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
        #expect(error == nil)
        #expect(reader.statusCode == 201)
        #expect(reader.isComplete)
        #expect(Self.read("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n").error != nil)
    }

    @Test func connectionCloseAndHTTP10AreNotKept() {
        #expect(!Self.read("HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n").reader.keepsConnection)
        #expect(!Self.read("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").reader.keepsConnection)
        // Both framings: chunked wins and the connection is closed after (RFC 9112 §6.3).
        let both = Self.read("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n").reader
        #expect(both.isComplete)
        #expect(!both.keepsConnection)
    }

    @Test func theBodyPrefixIsCappedAndALongBodyStopsTheReadEarly() {
        let body = String(repeating: "x", count: 10_000)
        let kept = Self.read("HTTP/1.1 500 E\r\nContent-Length: 10000\r\n\r\n" + body, step: 333)
        #expect(kept.reader.bodyPrefix.count == 4096)
        #expect(kept.reader.bodyBytes == 10_000)
        #expect(kept.reader.keepsConnection, "a body under the read limit is drained and the connection kept")
        let stopped = Self.read("HTTP/1.1 500 E\r\nContent-Length: 10000000\r\n\r\n" + body, bodyMax: 8192)
        #expect(stopped.reader.isComplete)
        #expect(stopped.reader.stoppedEarly)
        #expect(stopped.reader.statusCode == 500)
        #expect(!stopped.reader.keepsConnection)
    }

    @Test(arguments: [
        "HTTP/1.1 2000 OK\r\n\r\n",
        "HTTP/2 200 OK\r\n\r\n",
        "HTTP/1.1 abc OK\r\n\r\n",
        "garbage\r\n\r\n",
        "HTTP/1.1 200 OK\r\nNoColonHere\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFF\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n",
    ])
    func malformedAnswersAreErrorsNeverTraps(_ text: String) {
        #expect(Self.read(text).error != nil, "\(text.debugDescription)")
        #expect(Self.read(text, step: 1).error != nil, "\(text.debugDescription)")
    }

    @Test func headsAndChunkLinesAreBounded() {
        let hugeHeader = "HTTP/1.1 200 OK\r\nX: " + String(repeating: "a", count: 20_000) + "\r\n\r\n"
        #expect(Self.read(hugeHeader).error?.reason.contains("head over") == true)
        let manyHeaders = "HTTP/1.1 200 OK\r\n" + String(repeating: "A: b\r\n", count: 101) + "\r\n"
        #expect(Self.read(manyHeaders).error?.reason.contains("headers") == true)
        let longChunkLine = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;" + String(repeating: "e", count: 2000) + "\r\n"
        #expect(Self.read(longChunkLine).error?.reason.contains("chunk line") == true)
    }
}

/// What the reader keeps of the head when asked, and what a HEAD answer's framing means.
@Suite struct HTTPResponseReaderHeadTests {
    @Test func headerFieldsAreKeptOnlyWhenAskedInOrderWithLowerCaseNames() throws {
        let text = "HTTP/1.1 200 OK\r\nX-Amz-Checksum-Sha256: abc=\r\nContent-Length: 2\r\nX-A:  spaced  \r\n\r\nok"
        var keeping = HTTPResponseReader(bodyPrefixSizeBytesMax: 16, bodySizeBytesMax: 16, keepsHeaders: true)
        try Array(text.utf8).withUnsafeBytes { _ = try keeping.consume($0) }
        #expect(keeping.isComplete)
        #expect(keeping.headers.map(\.name) == ["x-amz-checksum-sha256", "content-length", "x-a"])
        #expect(keeping.header("x-a") == "spaced")
        var plain = HTTPResponseReader(bodyPrefixSizeBytesMax: 16, bodySizeBytesMax: 16)
        try Array(text.utf8).withUnsafeBytes { _ = try plain.consume($0) }
        #expect(plain.headers.isEmpty && plain.bodyPrefix == Array("ok".utf8))
    }

    @Test func aHeadAnswerIsCompleteAtItsBlankLineWhateverItsFramingSays() throws {
        for framing in ["Content-Length: 500", "Transfer-Encoding: chunked", ""] {
            let text = "HTTP/1.1 200 OK\r\n" + (framing.isEmpty ? "" : framing + "\r\n") + "\r\n"
            var reader = HTTPResponseReader(bodyPrefixSizeBytesMax: 16, bodySizeBytesMax: 16, expectsNoBody: true)
            try Array(text.utf8).withUnsafeBytes { _ = try reader.consume($0) }
            #expect(reader.isComplete, "\(framing)")
            #expect(reader.bodyBytes == 0)
        }
    }
}
