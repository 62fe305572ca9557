import Testing
@testable import NATS

/// The parser as a pure value: whole, split and malformed input, and every limit.
@Suite struct NATSParserTests {
    private func operations(_ text: String, limits: NATSParser.Limits = NATSParser.Limits()) throws -> [NATSServerOperation] {
        var parser = NATSParser(limits: limits)
        parser.append(Array(text.utf8))
        var result: [NATSServerOperation] = []
        while let operation = try parser.next() { result.append(operation) }
        return result
    }

    private func failure(_ text: String, limits: NATSParser.Limits = NATSParser.Limits()) -> NATSProtocolError? {
        do {
            _ = try operations(text, limits: limits)
            return nil
        } catch let error as NATSProtocolError {
            return error
        } catch {
            return nil
        }
    }

    @Test func parsesMessagesWithAndWithoutReplyAndControlLines() throws {
        let parsed = try operations("PING\r\nMSG foo.bar 7 5\r\nhello\r\nMSG a 2 _INBOX.x.1 0\r\n\r\n+OK\r\nPONG\r\n-ERR 'Unknown Protocol Operation'\r\n")
        #expect(parsed == [
            .ping,
            .message(NATSMessage(subject: "foo.bar", subscriptionID: 7, payload: Array("hello".utf8))),
            .message(NATSMessage(subject: "a", subscriptionID: 2, replyTo: "_INBOX.x.1", payload: [])),
            .ok, .pong, .error("Unknown Protocol Operation"),
        ])
    }

    @Test func parsesHeadersAndStatusLines() throws {
        let headers = "NATS/1.0\r\nNats-Msg-Id: m-1\r\nKV-Operation:DEL\r\n\r\n"
        let text = "HMSG s 3 r.1 \(headers.utf8.count) \(headers.utf8.count + 2)\r\n\(headers)hi\r\n"
        let parsed = try operations(text + "HMSG _INBOX.a.1 1 16 16\r\nNATS/1.0 503\r\n\r\n\r\nHMSG i 1 28 28\r\nNATS/1.0 404 No Messages\r\n\r\n\r\n")
        guard parsed.count == 3, case .message(let first) = parsed[0], case .message(let second) = parsed[1], case .message(let third) = parsed[2] else {
            Issue.record("expected three messages, got \(parsed)")
            return
        }
        #expect(first.payload == Array("hi".utf8))
        #expect(first.replyTo == "r.1")
        #expect(first.headers?["Nats-Msg-Id"] == "m-1")
        #expect(first.headers?["KV-Operation"] == "DEL")
        #expect(first.statusCode == nil)
        #expect(second.statusCode == 503 && second.payload.isEmpty)
        #expect(third.statusCode == 404 && third.headers?.statusDescription == "No Messages")
    }

    @Test func anOperationSplitAcrossReadsComesOutWhole() throws {
        let text = "INFO {\"server_id\":\"X\",\"max_payload\":2048,\"headers\":true,\"jetstream\":true,\"connect_urls\":[\"10.0.0.2:4222\"]}\r\n"
            + "HMSG s 3 24 29\r\nNATS/1.0\r\nA: b\r\nC: d\r\n\r\nhello\r\nMSG t 4 3\r\n\r\n\r\r\nPING\r\n"
        let whole = try operations(text)
        #expect(whole.count == 4)
        if case .info(let info) = whole.first {
            #expect(info.payloadBytesMax == 2048 && info.hasJetStream && info.supportsHeaders && info.connectURLs == ["10.0.0.2:4222"])
        } else {
            Issue.record("expected INFO first")
        }
        if case .message(let message) = whole[2] { #expect(message.payload == [13, 10, 13]) }
        for chunkSize in [1, 2, 3, 7, 64] {
            var parser = NATSParser()
            var split: [NATSServerOperation] = []
            let bytes = Array(text.utf8)
            var index = 0
            while index < bytes.count {
                parser.append(bytes[index..<min(bytes.count, index + chunkSize)])
                index += chunkSize
                while let operation = try parser.next() { split.append(operation) }
            }
            #expect(split == whole, "chunks of \(chunkSize) bytes")
            #expect(parser.bufferedByteCount == 0)
        }
    }

    @Test func aLineArrivingSlowlyIsScannedOnce() throws {
        // A 64 KiB INFO line in 64-byte reads: each read's search resumes where the last stopped
        // (from the line's start every time it would examine about 32 MiB).
        let line = Array(("INFO {\"max_payload\":1024,\"x\":\"" + String(repeating: "a", count: 65_400) + "\"}\r\nPING\r\n").utf8)
        var parser = NATSParser()
        var parsed: [NATSServerOperation] = []
        var index = 0
        while index < line.count {
            parser.append(line[index..<min(line.count, index + 64)])
            index += 64
            while let operation = try parser.next() { parsed.append(operation) }
        }
        #expect(parsed.count == 2 && parsed.last == .ping)
        #expect(parser.scannedByteCount <= line.count, "scanned \(parser.scannedByteCount) bytes for \(line.count)")
    }

    @Test func refusesAnOversizedPayloadBeforeItArrives() {
        var limits = NATSParser.Limits()
        limits.payloadBytesMax = 10
        #expect(failure("MSG foo 1 11\r\n", limits: limits)?.kind == .payloadTooLarge)
        #expect(failure("MSG foo 1 10\r\n0123456789\r\n", limits: limits) == nil)
        #expect(failure("MSG foo 1 99999999999\r\n")?.kind == .malformed)
    }

    @Test func refusesALineWithoutCRLFWithinTheLimit() throws {
        var limits = NATSParser.Limits()
        limits.lineBytesMax = 32
        var parser = NATSParser(limits: limits)
        parser.append(Array("MSG ".utf8) + Array(repeating: UInt8(ascii: "a"), count: 20))
        #expect(try parser.next() == nil)
        parser.append(Array(repeating: UInt8(ascii: "a"), count: 20))
        #expect(throws: NATSProtocolError.self) { try parser.next() }
        #expect(failure("INFO {" + String(repeating: " ", count: 40) + "}\r\n", limits: limits)?.kind == .lineTooLong)
    }

    @Test func refusesMalformedOperations() {
        #expect(failure("MSG foo 1\r\n")?.kind == .malformed)
        #expect(failure("MSG foo x 5\r\nhello\r\n")?.kind == .malformed)
        #expect(failure("MSG foo 1 -5\r\n")?.kind == .malformed)
        #expect(failure("MSG a b c d e\r\n")?.kind == .malformed)
        #expect(failure("MSG foo 1 5\r\nhelloXX")?.kind == .malformed)
        #expect(failure("FOO bar\r\n")?.kind == .unknownOperation)
        #expect(failure("HMSG s 1 20 10\r\n")?.kind == .malformed)
        #expect(failure("HMSG s 1 12 12\r\nHTTP/1.1\r\n\r\n\r\n")?.kind == .malformed)
        #expect(failure("HMSG s 1 15 15\r\nNATS/1.0\r\nA\r\n\r\n\r\n")?.kind == .malformed)
        #expect(failure("HMSG s 1 16 16\r\nNATS/1.0 5x3\r\n\r\n\r\n")?.kind == .malformed)
        #expect(failure("INFO not-json\r\n")?.kind == .malformed)
        #expect(failure("INFO {\"max_payload\":0}\r\n")?.kind == .malformed)
        #expect(failure("INFO [1]\r\n")?.kind == .malformed)
    }

    @Test func enforcesTheHeaderLimits() {
        var limits = NATSParser.Limits()
        limits.headerCountMax = 2
        let three = "NATS/1.0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"
        #expect(failure("HMSG s 1 \(three.utf8.count) \(three.utf8.count)\r\n\(three)\r\n", limits: limits)?.kind == .headersTooLarge)
        let two = "NATS/1.0\r\nA: 1\r\nB: 2\r\n\r\n"
        #expect(failure("HMSG s 1 \(two.utf8.count) \(two.utf8.count)\r\n\(two)\r\n", limits: limits) == nil)
        limits.headerBytesMax = 16
        #expect(failure("HMSG s 1 \(two.utf8.count) \(two.utf8.count)\r\n", limits: limits)?.kind == .headersTooLarge)
    }

    @Test func headersRoundTripAndRefuseUnsendableFields() throws {
        var headers = NATSHeaders()
        headers.append("Nats-Msg-Id", "abc")
        headers.append("Nats-Expected-Last-Subject-Sequence", "0")
        let encoded = try headers.encoded()
        #expect(try NATSParser.headers(ArraySlice(encoded), countMax: 8) == headers)
        var bad = NATSHeaders()
        bad.append("A:B", "c")
        #expect(throws: NATSError.self) { try bad.encoded() }
        var injected = NATSHeaders()
        injected.append("A", "c\r\nB: d")
        #expect(throws: NATSError.self) { try injected.encoded() }
    }

    @Test func framesPublishesAndRefusesBadSubjectsAndOversizedPayloads() throws {
        #expect(try NATSFrame.publish(subject: "a.b", replyTo: nil, headers: nil, payload: Array("hi".utf8), payloadBytesMax: 10)
            == Array("PUB a.b 2\r\nhi\r\n".utf8))
        var headers = NATSHeaders()
        headers.append("K", "v")
        #expect(try NATSFrame.publish(subject: "a", replyTo: "r", headers: headers, payload: Array("x".utf8), payloadBytesMax: 100)
            == Array("HPUB a r 18 19\r\nNATS/1.0\r\nK: v\r\n\r\nx\r\n".utf8))
        #expect(throws: NATSError.payloadTooLarge(bytes: 11, bytesMax: 10)) {
            try NATSFrame.publish(subject: "a", replyTo: nil, headers: nil, payload: Array(repeating: 0, count: 11), payloadBytesMax: 10)
        }
        for subject in ["", "a b", "a\r\nPUB x 1", "a\tb"] {
            #expect(throws: NATSError.self) { try NATSFrame.publish(subject: subject, replyTo: nil, headers: nil, payload: [], payloadBytesMax: 10) }
        }
    }

    @Test func parsesServerListsAndRefusesBadOnes() throws {
        #expect(try NATSServerAddress.parseList("nats://127.0.0.1:4222,nats://h2:5000, h3") == [
            NATSServerAddress(host: "127.0.0.1", port: 4222), NATSServerAddress(host: "h2", port: 5000), NATSServerAddress(host: "h3", port: 4222),
        ])
        #expect(try NATSServerAddress.parseList("nats://[::1]:4223") == [NATSServerAddress(host: "::1", port: 4223)])
        for bad in ["", "http://h:1", "nats://user:pw@h:1", "nats://h:0", "nats://h:65536", "nats://h:x", "nats://h:1/path", "nats://h:1,,nats://g:2"] {
            #expect(throws: NATSError.self, "\(bad)") { try NATSServerAddress.parseList(bad) }
        }
        #expect(throws: NATSError.self) { try NATSServerAddress.parseList(Array(repeating: "h:1", count: 65).joined(separator: ",")) }
    }

    @Test func readsStreamSequencesFromAckSubjectsAndValidatesKeys() throws {
        #expect(JetStream.streamSequence(ackSubject: "$JS.ACK.S.C.1.42.7.1700000000.3") == 42)
        #expect(JetStream.streamSequence(ackSubject: "$JS.ACK.dom.acc.S.C.1.43.7.1700000000.3.rnd") == 43)
        #expect(JetStream.streamSequence(ackSubject: "_INBOX.x") == nil)
        // A sequence of 0 (offsets are sequence - 1), negative or beyond UInt64 from a server is refused.
        for bad in ["0", "-1", "18446744073709551616", "x"] {
            #expect(JetStream.streamSequence(ackSubject: "$JS.ACK.S.C.1.\(bad).7.1700000000.3") == nil, "\(bad)")
        }
        try KeyValueBucket.validate(key: "webhooks/wh_1.lease=a-b_c")
        for bad in ["", ".a", "a.", "a..b", "a b", "a*", "a>"] {
            #expect(throws: JetStreamError.self, "\(bad)") { try KeyValueBucket.validate(key: bad) }
        }
    }
}
