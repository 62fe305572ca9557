import Foundation
import Glibc
import Synchronization
import SystemIO
import Testing
@testable import HTTPServer

/// The server over real sockets on 127.0.0.1 (port 0), driven byte-exactly by `TestClient`.
@Suite(.timeLimit(.minutes(3))) struct HTTPServerTests {
    @Test func servesManySequentialRequestsOnOneKeepAliveConnection() async throws {
        try await withServer { port in
            try await blocking {
                let client = try TestClient(port: port)
                var ids = Set<String>()
                for number in 0..<200 {
                    let response = try client.exchange(get("/n/\(number)"))
                    #expect(response.status == 200)
                    #expect(response.text == "GET /n/\(number) 0")
                    #expect(response.header("Content-Length") == String(response.body.count))
                    #expect(response.header("Date")?.hasSuffix(" GMT") == true)
                    #expect(response.header("Connection") == nil)
                    ids.insert(response.header("X-Request-Id") ?? "")
                }
                #expect(ids.count == 200)
            }
        }
    }

    @Test func answersPipelinedRequestsInOrderEvenWhenLaterOnesFinishFirst() async throws {
        let handler = ClosureHandler { request in
            let delayMilliseconds = ["/slow": 300, "/medium": 100].first { $0.key == request.path }?.value ?? 0
            try? await Task.sleep(for: .milliseconds(delayMilliseconds))
            return .text(200, request.path)
        }
        try await withServer(handler: handler) { port in
            try await blocking {
                let client = try TestClient(port: port)
                try client.send(get("/slow") + post("/medium", "abc") + get("/fast"))
                let bodies = try (0..<3).map { _ in try client.readResponse().text }
                #expect(bodies == ["/slow", "/medium", "/fast"])
                #expect(try client.exchange(get("/after")).text == "/after")
            }
        }
    }

    /// Answers a request only at the end of the I/O loop's turn that started it (as the log's deferred
    /// wake does), noting the loop's turn at each call: a server that never calls `turnEnded`, or calls it
    /// before the turn's requests start, fails the test below.
    final class TurnEndHandler: HTTPHandler {
        let held = Mutex<[(path: String, turn: Int, respond: @Sendable (HTTPResponse) -> Void)]>([])
        /// (path, turn it started in, turn its `turnEnded` came in).
        let answered = Mutex<[(String, Int, Int)]>([])
        let server = Mutex<HTTPServer?>(nil)
        var turn: Int { server.withLock { $0 }?.ioTurnCount ?? -1 }
        func handle(_ request: HTTPRequest) async -> HTTPResponse { .text(500, "not inline") }
        func start(_ request: HTTPRequest, in tasks: RequestTasks, respond: @escaping @Sendable (HTTPResponse) -> Void) {
            let turn = turn
            held.withLock { $0.append((request.path, turn, respond)) }
        }
        func turnEnded() {
            let turn = turn
            for entry in held.withLock({ held in defer { held = [] }; return held }) {
                answered.withLock { $0.append((entry.path, entry.turn, turn)) }
                entry.respond(.text(200, "held " + entry.path))
            }
        }
    }

    @Test func theHandlerHearsTheEndOfEachTurnAfterItsRequestsStarted() async throws {
        let handler = TurnEndHandler()
        var configuration = HTTPServerConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        let server = HTTPServer(configuration: configuration, handler: handler)
        handler.server.withLock { $0 = server }
        let port = try server.start()
        defer { handler.server.withLock { $0 = nil } }
        try await blocking {
            let client = try TestClient(port: port)
            #expect(try client.exchange(get("/one")).text == "held /one")
            try client.send(get("/two") + get("/three"))
            #expect(try client.readResponse().text == "held /two")
            #expect(try client.readResponse().text == "held /three")
        }
        await server.shutdown(graceSeconds: 1)
        let answered = handler.answered.withLock { $0 }
        #expect(answered.map(\.0) == ["/one", "/two", "/three"])
        for (path, startedTurn, endedTurn) in answered {
            #expect(startedTurn > 0 && endedTurn == startedTurn, "\(path) started in turn \(startedTurn), its turn ended in \(endedTurn)")
        }
    }

    @Test func pipelinesBeyondTheUnansweredLimitWithoutLosingRequests() async throws {
        try await withServer({ $0.pipelinedRequestCountMax = 2 }) { port in
            try await blocking {
                let client = try TestClient(port: port)
                try client.send((0..<50).map { get("/p/\($0)") }.joined())
                for number in 0..<50 {
                    #expect(try client.readResponse().text == "GET /p/\(number) 0")
                }
            }
        }
    }

    @Test func oversizedHeadGets431AndTheConnectionCloses() async throws {
        try await withServer({ $0.headSizeBytesMax = 1024 }) { port in
            try await blocking {
                let client = try TestClient(port: port)
                let response = try client.exchange(get("/", "X-Big: \(String(repeating: "h", count: 2000))\r\n"))
                #expect(response.status == 431)
                #expect(response.errorCode == "header_too_large")
                #expect(response.header("Connection") == "close")
                #expect(client.isClosedByServer())
            }
        }
    }

    @Test func oversizedContentLengthGets413BeforeTheBodyIsSent() async throws {
        try await withServer { port in
            try await blocking {
                let client = try TestClient(port: port)
                try client.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: \((1 << 20) + 1)\r\n\r\n")
                let response = try client.readResponse()
                #expect(response.status == 413)
                #expect(response.errorCode == "body_too_large")
                #expect(response.header("Connection") == "close")
                #expect(client.isClosedByServer())
            }
        }
    }

    @Test func aRouteWithALargerLimitAcceptsLargerBodies() async throws {
        let limits: @Sendable (String, String) -> Int = { _, path in path == "/v1/events/batch" ? 8 << 20 : 1 << 20 }
        try await withServer({ $0.bodySizeBytesMax = limits }) { port in
            try await blocking {
                let body = String(repeating: "e", count: 3 << 20)
                let client = try TestClient(port: port)
                let accepted = try client.exchange(post("/v1/events/batch", body))
                #expect(accepted.status == 200)
                #expect(accepted.header("X-Body-Count") == String(3 << 20))
                let refused = try client.exchange(post("/v1/events", body))
                #expect(refused.status == 413)
                #expect(refused.errorCode == "body_too_large")
            }
        }
    }

    @Test func decodesChunkedBodiesAndLimitsThemWhileReading() async throws {
        try await withServer({ $0.bodySizeBytesMax = { _, _ in 1000 } }) { port in
            try await blocking {
                let client = try TestClient(port: port)
                let chunked = "POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "3\r\nabc\r\n1F4;ext=1\r\n\(String(repeating: "x", count: 500))\r\n0\r\nT: v\r\n\r\n"
                let response = try client.exchange(chunked)
                #expect(response.status == 200)
                #expect(response.text == "POST /c 503")
                try client.send("POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
                for _ in 0..<3 { try client.send("190\r\n\(String(repeating: "y", count: 400))\r\n") }
                let refused = try client.readResponse()
                #expect(refused.status == 413)
                #expect(client.isClosedByServer())
            }
        }
    }

    @Test func unsupportedTransferEncodingGets501() async throws {
        try await withServer { port in
            try await blocking {
                let client = try TestClient(port: port)
                let response = try client.exchange("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n")
                #expect(response.status == 501)
                #expect(response.errorCode == "not_implemented")
            }
        }
    }

    @Test func answersExpectContinueBeforeTheBody() async throws {
        try await withServer { port in
            try await blocking {
                let client = try TestClient(port: port)
                try client.send("PUT /u HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
                let interim = try client.readResponse()
                #expect(interim.status == 100)
                try client.send("data")
                let response = try client.readResponse()
                #expect(response.status == 200)
                #expect(response.text == "PUT /u 4")
            }
        }
    }

    @Test func malformedRequestGets400AndTheServerServesTheNextConnection() async throws {
        try await withServer { port in
            try await blocking {
                for garbage in ["GET / HTTP/1.1\r\nBad Header: x\r\n\r\n", "\u{1}\u{2}\u{3}\r\n\r\n",
                                "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"] {
                    let bad = try TestClient(port: port)
                    let response = try bad.exchange(garbage)
                    #expect(response.status == 400)
                    #expect(response.errorCode == "bad_request")
                    #expect(response.header("Connection") == "close")
                    #expect(response.header("X-Request-Id") != nil)
                    #expect(bad.isClosedByServer())
                }
                let good = try TestClient(port: port)
                #expect(try good.exchange(get("/ok")).status == 200)
            }
        }
    }

    @Test func honoursConnectionCloseAndHTTP10() async throws {
        try await withServer { port in
            try await blocking {
                let closing = try TestClient(port: port)
                let response = try closing.exchange(get("/", "Connection: close\r\n"))
                #expect(response.header("Connection") == "close")
                #expect(closing.isClosedByServer())

                let old = try TestClient(port: port)
                #expect(try old.exchange("GET /old HTTP/1.0\r\n\r\n").header("Connection") == "close")
                #expect(old.isClosedByServer())

                let kept = try TestClient(port: port)
                let first = try kept.exchange("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
                #expect(first.header("Connection") == "keep-alive")
                #expect(try kept.exchange("GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").text == "GET /b 0")
            }
        }
    }

    @Test func aHalfClosedClientStillGetsItsResponses() async throws {
        try await withServer { port in
            try await blocking {
                let client = try TestClient(port: port)
                try client.send(get("/one") + get("/two"))
                shutdown(client.descriptor, Int32(SHUT_WR))
                #expect(try client.readResponse().text == "GET /one 0")
                #expect(try client.readResponse().text == "GET /two 0")
                #expect(client.isClosedByServer())
            }
        }
    }

    @Test func headResponsesCarryLengthButNoBody() async throws {
        var router = Router()
        router.add("GET", "/doc") { _ in .text(200, "twelve bytes") }
        try await withServer(handler: router) { port in
            try await blocking {
                let client = try TestClient(port: port)
                try client.send("HEAD /doc HTTP/1.1\r\nHost: t\r\n\r\n")
                let head = try client.readResponse(hasBody: false)
                #expect(head.status == 200)
                #expect(head.header("Content-Length") == "12")
                #expect(try client.exchange(get("/doc")).text == "twelve bytes")
                let missing = try client.exchange(get("/none"))
                #expect(missing.status == 404)
                #expect(missing.errorCode == "not_found")
            }
        }
    }

    @Test func halfSentRequestGets408WhileAnotherClientIsServed() async throws {
        try await withServer({ $0.headTimeoutSeconds = 0.5 }) { port in
            try await blocking {
                let slow = try TestClient(port: port)
                try slow.send("GET /slow HTTP/1.1\r\nHost: t\r\nX-Part")
                let started = Date()
                let other = try TestClient(port: port)
                #expect(try other.exchange(get("/other")).status == 200)
                let response = try slow.readResponse()
                #expect(response.status == 408)
                #expect(response.errorCode == "request_timeout")
                #expect(response.header("Connection") == "close")
                #expect(Date().timeIntervalSince(started) < 8)
                #expect(slow.isClosedByServer())
                #expect(try other.exchange(get("/again")).status == 200)
            }
        }
    }

    @Test func aBodyThatStopsArrivingGets408() async throws {
        try await withServer({ $0.requestTimeoutSeconds = 0.5 }) { port in
            try await blocking {
                let client = try TestClient(port: port)
                try client.send("POST /p HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
                #expect(try client.readResponse().status == 408)
            }
        }
    }

    @Test func idleKeepAliveConnectionsAreClosed() async throws {
        try await withServer({ $0.idleTimeoutSeconds = 0.3 }) { port in
            try await blocking {
                let client = try TestClient(port: port)
                #expect(try client.exchange(get("/")).status == 200)
                #expect(client.isClosedByServer())
                let silent = try TestClient(port: port)
                #expect(silent.isClosedByServer())
            }
        }
    }

    @Test func aThousandIdleConnectionsDoNotStopANormalClient() async throws {
        // Generous timeouts: opening 1,000 connections on a loaded machine can take longer than the
        // 10 s head timeout, which would (rightly) close the stalled ones this test uses at the end.
        let patient: (inout HTTPServerConfiguration) -> Void = { $0.headTimeoutSeconds = 120; $0.idleTimeoutSeconds = 120; $0.requestTimeoutSeconds = 120 }
        try await withDescriptorLimit(atLeast: 4096) { try await withServer(patient) { port in
            try await blocking {
                var idle: [TestClient] = []
                for _ in 0..<1000 { idle.append(try TestClient(port: port)) }
                // Half of them even start a request and stall.
                for client in idle.prefix(500) { try client.send("GET / HTTP/1.1\r\n") }
                let normal = try TestClient(port: port)
                for number in 0..<20 {
                    #expect(try normal.exchange(get("/n/\(number)")).status == 200)
                }
                // The idle ones are still open and usable.
                #expect(try idle[999].exchange(get("/last")).status == 200)
                #expect(try idle[0].exchange("Host: t\r\n\r\n").status == 200)
            }
        } }
    }

    @Test func connectionsOverTheCapAreTurnedAwayAtOnceWhenAllAreBusy() async throws {
        let release = Atomic<Bool>(false)
        let entered = Atomic<Int>(0)
        let handler = ClosureHandler { request in
            entered.add(1, ordering: .sequentiallyConsistent)
            // Bounded: the test releases it, or it gives up after 10 s.
            for _ in 0..<1000 where !release.load(ordering: .sequentiallyConsistent) {
                try? await Task.sleep(for: .milliseconds(10))
            }
            return .text(200, request.path)
        }
        try await withServer({ $0.connectionCountMax = 2 }, handler: handler) { port in
            try await blocking {
                let first = try TestClient(port: port)
                let second = try TestClient(port: port)
                try first.send(get("/1"))
                try second.send(get("/2"))
                for _ in 0..<1000 where entered.load(ordering: .sequentiallyConsistent) < 2 { usleep(10_000) }
                #expect(entered.load(ordering: .sequentiallyConsistent) == 2, "both requests reached the handler")
                let third = try TestClient(port: port)
                let bytes = try third.readUntilClosed()
                let text = String(decoding: bytes, as: UTF8.self)
                #expect(bytes.isEmpty || (text.hasPrefix("HTTP/1.1 503") && text.contains("too_many_connections")))
                release.store(true, ordering: .sequentiallyConsistent)
                #expect(try first.readResponse().status == 200)
                #expect(try second.readResponse().status == 200)
            }
        }
    }

    @Test func requestIDsAreEchoedOrGenerated() async throws {
        let handler = ClosureHandler { .text(200, $0.requestID) }
        try await withServer(handler: handler) { port in
            try await blocking {
                let client = try TestClient(port: port)
                let echoed = try client.exchange(get("/", "X-Request-Id: trace-123\r\n"))
                #expect(echoed.header("X-Request-Id") == "trace-123")
                #expect(echoed.text == "trace-123")
                let generated = try client.exchange(get("/", "X-Request-Id: not ok\r\n"))
                #expect(generated.header("X-Request-Id")?.count == 36)
                #expect(generated.text == generated.header("X-Request-Id"))
            }
        }
    }

    @Test func writesOneAccessLogLinePerResponse() async throws {
        let lines = Mutex<[String]>([])
        try await withServer({ configuration in
            configuration.accessLog = { line in lines.withLock { $0.append(line) } }
        }) { port in
            try await blocking {
                let client = try TestClient(port: port)
                _ = try client.exchange(post("/logged?q=1", "abc", "X-Request-Id: log-1\r\n"))
                _ = try client.exchange("GET / HTTP/1.1\r\nBad : x\r\n\r\n")
            }
        }
        let recorded = lines.withLock { $0 }
        #expect(recorded.count == 2)
        let first = try #require(try JSONSerialization.jsonObject(with: Data(recorded[0].utf8)) as? [String: Any])
        #expect(first["request_id"] as? String == "log-1")
        #expect(first["method"] as? String == "POST")
        #expect(first["path"] as? String == "/logged")
        #expect(first["status"] as? Int == 200)
        #expect(first["bytes"] as? Int == "POST /logged 3".utf8.count)
        #expect(first["duration_ms"] is Double || first["duration_ms"] is Int)
        #expect((first["remote"] as? String)?.hasPrefix("127.0.0.1:") == true)
        #expect((first["time"] as? String)?.hasSuffix("+00:00") == true)
        let second = try #require(try JSONSerialization.jsonObject(with: Data(recorded[1].utf8)) as? [String: Any])
        #expect(second["status"] as? Int == 400)
    }

    @Test func gracefulShutdownFinishesAnInFlightSlowHandler() async throws {
        let entered = Atomic<Bool>(false)
        let handler = ClosureHandler { request in
            entered.store(true, ordering: .sequentiallyConsistent)
            try? await Task.sleep(for: .milliseconds(700))
            return .text(200, "finished \(request.path)")
        }
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        let server = HTTPServer(configuration: configuration, handler: handler)
        let port = try server.start()
        let idle = try await blocking { try TestClient(port: port) }
        async let reply: TestResponse = blocking {
            let client = try TestClient(port: port)
            try client.send(get("/slow"))
            let response = try client.readResponse()
            #expect(client.isClosedByServer())
            return response
        }
        while !entered.load(ordering: .sequentiallyConsistent) { try await Task.sleep(for: .milliseconds(10)) }
        await server.shutdown(graceSeconds: 10)
        let response = try await reply
        #expect(response.status == 200)
        #expect(response.text == "finished /slow")
        #expect(response.header("Connection") == "close")
        #expect(try await blocking { idle.isClosedByServer() })
        await #expect(throws: TestFailure.self) { try await blocking { try TestClient(port: port) } }
        await server.shutdown()
    }

    @Test func shutdownGivesUpOnHandlersAfterTheGracePeriod() async throws {
        let handlerStarted = Atomic<Bool>(false)
        let handler = ClosureHandler { _ in
            handlerStarted.store(true, ordering: .relaxed)
            try? await Task.sleep(for: .seconds(30))
            return .text(200, "too late")
        }
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        let server = HTTPServer(configuration: configuration, handler: handler)
        let port = try server.start()
        let client = try await blocking {
            let client = try TestClient(port: port)
            try client.send(get("/forever"))
            return client
        }
        // The handler is running (bounded wait), so shutdown has one to give up on.
        for _ in 0..<500 where !handlerStarted.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(10)) }
        let handlerRan = handlerStarted.load(ordering: .relaxed)
        #expect(handlerRan, "the handler started")
        let started = Date()
        await server.shutdown(graceSeconds: 0.3)
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(try await blocking { try client.readUntilClosed().isEmpty })
    }

    /// A route's task handler (not inline) is a child of the server's task group: a handler still running when
    /// the grace period ends is cancelled, and shutdown returns only once it has ended.
    @Test(.timeLimit(.minutes(1)))
    func shutdownCancelsAndAwaitsARoutesHandlerStillRunning() async throws {
        let started = Atomic<Bool>(false)
        let ended = Atomic<Bool>(false)
        var router = Router()
        router.add("GET", "/forever") { _ in
            started.store(true, ordering: .releasing)
            try? await Task.sleep(for: .seconds(30))
            ended.store(true, ordering: .releasing)
            return .text(200, "too late")
        }
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        let server = HTTPServer(configuration: configuration, handler: router)
        let port = try server.start()
        let client = try await blocking {
            let client = try TestClient(port: port)
            try client.send(get("/forever"))
            return client
        }
        for _ in 0..<500 where !started.load(ordering: .acquiring) { try await Task.sleep(for: .milliseconds(10)) }
        let handlerRan = started.load(ordering: .acquiring)
        #expect(handlerRan, "waited for the handler to start")
        await server.shutdown(graceSeconds: 0.2)
        let handlerEnded = ended.load(ordering: .acquiring)
        #expect(handlerEnded, "shutdown cancelled the handler and waited for it")
        #expect(try await blocking { try client.readUntilClosed().isEmpty })
    }

    @Test func aClientVanishingMidResponseDoesNotHurtTheServer() async throws {
        let handler = ClosureHandler { _ in
            try? await Task.sleep(for: .milliseconds(200))
            return HTTPResponse(status: 200, body: [UInt8](repeating: 0x61, count: 4 << 20))
        }
        try await withServer(handler: handler) { port in
            try await blocking {
                for _ in 0..<3 {
                    let client = try TestClient(port: port)
                    try client.send(get("/big"))
                    var reset = linger(l_onoff: 1, l_linger: 0)
                    setsockopt(client.descriptor, SOL_SOCKET, SO_LINGER, &reset, socklen_t(MemoryLayout<linger>.size))
                }
                Thread.sleep(forTimeInterval: 0.5)
                let client = try TestClient(port: port)
                #expect(try client.exchange(get("/big")).body.count == 4 << 20)
            }
        }
    }

    @Test func aReaderThatStopsReadingIsDroppedAfterTheWriteTimeout() async throws {
        // The client stops reading only once the response exists (on a loaded machine the handler can
        // take longer than any fixed sleep), then stays silent for 4x the write timeout.
        let answered = DispatchSemaphore(value: 0)
        let handler = ClosureHandler { _ in
            defer { answered.signal() }
            return HTTPResponse(status: 200, body: [UInt8](repeating: 0x62, count: 64 << 20))
        }
        try await withServer({ $0.writeTimeoutSeconds = 0.5 }, handler: handler) { port in
            try await blocking {
                let client = try TestClient(port: port, receiveBufferBytes: 4096)
                try client.send(get("/huge"))
                guard answered.wait(timeout: .now() + 60) == .success else { throw TestFailure("the handler never answered") }
                Thread.sleep(forTimeInterval: 2)
                let received = try client.readUntilClosed()
                #expect(received.count < 64 << 20)
                let other = try TestClient(port: port)
                #expect(try other.exchange(get("/small", "")).status == 200)
            }
        }
    }

    /// True when this host can bind a socket to `::1` (some containers have no IPv6 loopback).
    static var hostHasIPv6Loopback: Bool {
        let descriptor = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_addr = in6addr_loopback
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) == 0 }
        }
    }

    /// Skipped, and reported as skipped with the reason, on a host without IPv6 loopback; where it can
    /// run, a failure to start is a failure.
    @Test(.enabled(if: hostHasIPv6Loopback, "this host cannot bind ::1 (no IPv6 loopback)"))
    func servesIPv6Loopback() async throws {
        var configuration = HTTPServerConfiguration()
        configuration.host = "::1"
        configuration.port = 0
        let server = HTTPServer(configuration: configuration, handler: echoHandler)
        let port = try server.start()
        let response = try await blocking { try TestClient(port: port, host: "::1").exchange(get("/six")) }
        #expect(response.text == "GET /six 0")
        await server.shutdown()
    }

    @Test func startFailsWithErrnoWhenThePortIsTaken() async throws {
        try await withServer { port in
            var configuration = HTTPServerConfiguration()
            configuration.port = port
            let second = HTTPServer(configuration: configuration, handler: echoHandler)
            #expect(throws: HTTPServerError.system(SystemError(call: "bind", path: "127.0.0.1:\(port)", errno: EADDRINUSE))) {
                _ = try second.start()
            }
        }
    }
}
