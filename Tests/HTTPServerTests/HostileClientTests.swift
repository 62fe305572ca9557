import Foundation
import Glibc
import Synchronization
import Testing
@testable import HTTPServer

/// Clients that try to hold the server: stray empty lines, trickled heads, thousands of held
/// connections, bodies sent before the server agreed to read them.
@Suite(.timeLimit(.minutes(3))) struct HostileClientTests {
    @Test func atMostTwoEmptyLinesMayPrecedeARequestLine() async throws {
        try await withServer { port in
            try await blocking {
                let tolerated = try TestClient(port: port)
                #expect(try tolerated.exchange("\r\n\r\n" + get("/ok")).status == 200)
                let refused = try TestClient(port: port)
                let response = try refused.exchange("\r\n\r\n\r\n" + get("/no"))
                #expect(response.status == 400)
                #expect(response.errorCode == "bad_request")
                #expect(refused.isClosedByServer())
            }
        }
    }

    @Test(.timeLimit(.minutes(1))) func aLoneEmptyLineStartsTheHeadDeadline() async throws {
        // The idle timeout is long: only the head deadline can end this connection.
        try await withServer({ $0.headTimeoutSeconds = 0.3; $0.idleTimeoutSeconds = 600 }) { port in
            try await blocking {
                let client = try TestClient(port: port, timeoutSeconds: 20)
                try client.send("\r\n")
                let response = try client.readResponse()
                #expect(response.status == 408)
                #expect(response.errorCode == "request_timeout")
                #expect(client.isClosedByServer())
            }
        }
    }

    @Test(.timeLimit(.minutes(1))) func tricklingAHeadDoesNotExtendItsDeadline() async throws {
        // The whole-request timeout and the idle timeout are long: only the head deadline applies.
        try await withServer({ $0.headTimeoutSeconds = 0.5; $0.requestTimeoutSeconds = 600; $0.idleTimeoutSeconds = 600 }) { port in
            try await blocking {
                let client = try TestClient(port: port, timeoutSeconds: 20)
                try client.send("GET /slow HTTP/1.1\r\n")
                var answered: TestResponse?
                // One header line every 50 ms, for at most 20 s, until the server answers.
                for line in 0..<400 where answered == nil {
                    if (try? client.send("X-Line-\(line): v\r\n")) == nil { break }
                    var descriptor = pollfd(fd: client.descriptor, events: Int16(POLLIN), revents: 0)
                    if poll(&descriptor, 1, 50) > 0 { answered = try client.readResponse() }
                }
                let response = try #require(answered, "the server answered the trickled head")
                #expect(response.status == 408)
                #expect(response.errorCode == "request_timeout")
            }
        }
    }

    @Test func continueIsSentOnlyAfterTheHandlerAcceptedTheHead() async throws {
        let bodiesRead = Atomic<Int>(0)
        var router = Router()
        router.add("POST", "/upload", continueCheck: { request in
            try? await Task.sleep(for: .milliseconds(50))  // a slow check must still come first
            return request.headers["Authorization"] == "Bearer good"
                ? nil : .error(401, code: "invalid_token", message: "no")
        }) { request in
            bodiesRead.add(1, ordering: .sequentiallyConsistent)
            return .text(200, "got \(request.body.count)")
        }
        try await withServer(handler: router) { port in
            try await blocking {
                let head = "POST /upload HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n"

                let accepted = try TestClient(port: port)
                try accepted.send(head + "Authorization: Bearer good\r\n\r\n")
                #expect(try accepted.readResponse().status == 100)
                try accepted.send("data")
                #expect(try accepted.readResponse().text == "got 4")

                let refused = try TestClient(port: port)
                try refused.send(head + "Authorization: Bearer bad\r\n\r\n")
                let refusal = try refused.readResponse()
                #expect(refusal.status == 401, "the refusal comes first, without 100 Continue")
                #expect(refusal.errorCode == "invalid_token")
                #expect(refusal.header("Connection") == "close")
                try? refused.send("data")
                #expect(refused.isClosedByServer())

                let unknown = try TestClient(port: port)
                try unknown.send("POST /nowhere HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
                #expect(try unknown.readResponse().status == 404)

                let wrongMethod = try TestClient(port: port)
                try wrongMethod.send("PUT /upload HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
                #expect(try wrongMethod.readResponse().status == 405)
            }
        }
        #expect(bodiesRead.load(ordering: .sequentiallyConsistent) == 1)
    }

    @Test func aFullTableClosesTheLongestIdleConnectionAndNeverABusyOne() async throws {
        let release = Atomic<Bool>(false)
        let entered = Atomic<Int>(0)
        let handler = ClosureHandler { request in
            guard request.path == "/hold" else { return .text(200, request.path) }
            entered.add(1, ordering: .sequentiallyConsistent)
            for _ in 0..<1000 where !release.load(ordering: .sequentiallyConsistent) {
                try? await Task.sleep(for: .milliseconds(10))
            }
            return .text(200, "held")
        }
        try await withServer({ $0.connectionCountMax = 3 }, handler: handler) { port in
            try await blocking {
                let busy = try TestClient(port: port)
                try busy.send(get("/hold"))
                for _ in 0..<1000 where entered.load(ordering: .sequentiallyConsistent) < 1 { usleep(10_000) }
                let oldestIdle = try TestClient(port: port)
                #expect(try oldestIdle.exchange(get("/a")).status == 200)
                let newerIdle = try TestClient(port: port)
                #expect(try newerIdle.exchange(get("/b")).status == 200)

                let newcomer = try TestClient(port: port)
                #expect(try newcomer.exchange(get("/c")).status == 200)
                #expect(oldestIdle.isClosedByServer(), "the longest-idle connection made room")
                #expect(try newerIdle.exchange(get("/b2")).status == 200)
                release.store(true, ordering: .sequentiallyConsistent)
                #expect(try busy.readResponse().text == "held", "a connection with a request in progress is never evicted")
            }
        }
    }

    /// Thousands of held connections (partial heads and silent ones) against a table of 1,000:
    /// every new client is still answered.
    @Test(.timeLimit(.minutes(2))) func slowlorisCannotLockOutNewClients() async throws {
        let tricklingCount = 2000
        let silentCount = 1100
        let tableSize = 1000
        try await withDescriptorLimit(atLeast: tricklingCount + silentCount + tableSize + 512) {
            try await withServer({ $0.connectionCountMax = tableSize }) { port in
                try await blocking {
                    var held: [TestClient] = []
                    held.reserveCapacity(tricklingCount + silentCount)
                    for number in 0..<(tricklingCount + silentCount) {
                        let client = try TestClient(port: port, timeoutSeconds: 20)
                        // A send to a connection the server already evicted may fail: that is the point.
                        if number < tricklingCount { try? client.send("GET /held HTTP/1.1\r\nHost: t\r\nX-Slow: ") }
                        held.append(client)
                    }
                    for (number, client) in held.prefix(tricklingCount).enumerated() where number % 10 == 0 {
                        try? client.send("a")
                    }
                    for probe in 0..<6 {
                        let client = try TestClient(port: port, timeoutSeconds: 20)
                        let response = try client.exchange(get("/probe/\(probe)"))
                        #expect(response.status == 200, "probe \(probe) was answered")
                    }
                    withExtendedLifetime(held) {}
                }
            }
        }
    }
}

/// Runs `body` with the soft `RLIMIT_NOFILE` at least `count` (up to the hard limit), and puts the
/// previous soft limit back afterwards, so the rest of the suite runs with the limit it had.
func withDescriptorLimit(atLeast count: Int, _ body: () async throws -> Void) async throws {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { throw TestFailure("getrlimit: errno \(errno)") }
    let previous = limit
    if limit.rlim_cur < rlim_t(count) {
        guard limit.rlim_max >= rlim_t(count) else {
            throw TestFailure("this test needs \(count) descriptors; the hard RLIMIT_NOFILE is \(limit.rlim_max)")
        }
        limit.rlim_cur = rlim_t(count)
        guard setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { throw TestFailure("setrlimit: errno \(errno)") }
    }
    defer {
        var restored = previous
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &restored)
    }
    try await body()
}
