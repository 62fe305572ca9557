import Delivery
import Foundation
import Testing
import WebhookSigning

/// Both production transports against receivers that drop connections: one attempt, one POST, and a
/// connection closed without a complete response fails the attempt at once.
@Suite(.serialized) struct TransportConnectionTests {
    enum Kind: String, CustomStringConvertible, CaseIterable {
        case httpClient, urlSession, urlSessionPerRequest
        var description: String { rawValue }
    }

    /// Reuses an idle connection for up to 60 s (not the default 4 s), so a loaded machine's pause
    /// between two attempts cannot turn "the kept connection carried the next request" into a new one.
    static let httpClient: HTTPClientTransport = {
        var configuration = HTTPClientTransport.Configuration()
        configuration.client.idleSecondsMax = 60
        return HTTPClientTransport(configuration: configuration)
    }()

    static func post(_ url: String, attempt: Int, via kind: Kind, timeoutSeconds: Double = 15) async -> TransportResult {
        let transport: any DeliveryTransport = switch kind {
        case .httpClient: httpClient
        case .urlSession: URLSessionTransport.shared
        case .urlSessionPerRequest: URLSessionTransport.sessionPerRequest
        }
        return await transport.post(url: URL(string: url)!,
                                    headers: [HeaderField(name: "x-argus-attempt", value: "\(attempt)"),
                                              HeaderField(name: "content-type", value: "application/json")],
                                    body: Array(#"{"n":\#(attempt)}"#.utf8), timeoutSeconds: timeoutSeconds)
    }

    @Test(.timeLimit(.minutes(1)), arguments: Kind.allCases, [DroppingReceiver.Action.closeAfterBody, .closeBeforeBody, .closeMidResponse])
    func aDropFailsTheAttemptOnceWithConnectionClosed(_ kind: Kind, _ drop: DroppingReceiver.Action) async throws {
        let receiver = try DroppingReceiver { number in number == 2 ? drop : .respond(204) }
        defer { receiver.stop() }
        #expect(await Self.post(receiver.url, attempt: 1, via: kind).statusCode == 204)
        // A 60 s deadline: were the drop seen only at the deadline, the test's 1-minute limit would fail it.
        let second = await Self.post(receiver.url, attempt: 2, via: kind, timeoutSeconds: 60)
        #expect(second.statusCode == nil)
        #expect(second.failure == .connectionClosed)
        #expect(second.error?.hasPrefix("connection_closed: the receiver closed the connection") == true, "\(second.error ?? "")")
        #expect(await Self.post(receiver.url, attempt: 3, via: kind).statusCode == 204)
        let requests = receiver.requests
        #expect(requests.compactMap(\.attempt) == [1, 2, 3], "one POST per attempt")
        #expect(requests.filter { $0.action.readsBody }.allSatisfy { $0.complete }, "no request without its body")
        if kind == .httpClient {
            // The first exchange's connection was kept and carried the second request.
            #expect(requests.map(\.connection) == [1, 1, 2], "\(requests.map(\.connection))")
        }
    }

    @Test(.timeLimit(.minutes(1)), arguments: Kind.allCases)
    func aReceiverThatKeepsConnectionsOpenAnywayGetsNoSecondCompleteCopy(_ kind: Kind) async throws {
        let receiver = try DroppingReceiver(honoursClose: false) { number in number == 2 ? .closeAfterBody : .respond(204) }
        defer { receiver.stop() }
        #expect(await Self.post(receiver.url, attempt: 1, via: kind).statusCode == 204)
        let second = await Self.post(receiver.url, attempt: 2, via: kind, timeoutSeconds: 60)
        #expect(second.failure == .connectionClosed, "\(second.error ?? "")")
        #expect(await Self.post(receiver.url, attempt: 3, via: kind).statusCode == 204)
        // libcurl may start a resend on a new connection; it is cancelled before its body: at most a head arrives.
        let complete = receiver.requests.filter { $0.complete }
        #expect(complete.compactMap(\.attempt) == [1, 2, 3], "one complete POST per attempt")
        if kind != .urlSession {
            #expect(receiver.requests.count == 3, "no resend is ever started, not even a head")
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func keptAliveConnectionsCarryManyAttempts() async throws {
        let transport = HTTPClientTransport()
        let receiver = try DroppingReceiver { _ in .respond(204) }
        defer { receiver.stop() }
        for attempt in 1...20 {
            let result = await transport.post(url: URL(string: receiver.url)!, headers: [HeaderField(name: "x-argus-attempt", value: "\(attempt)")],
                                              body: Array("{}".utf8), timeoutSeconds: 10)
            #expect(result.statusCode == 204, "\(result.error ?? "")")
        }
        #expect(receiver.connectionCount == 1, "20 sequential attempts on one kept-alive connection")
        #expect(transport.idleConnectionCount == 1)
    }

    @Test(.timeLimit(.minutes(1)))
    func anIdleConnectionTheReceiverClosedIsNotUsedForTheNextAttempt() async throws {
        // The receiver answers with `Connection: close` semantics ignored, then closes the idle connection
        // after its answer (closeMidResponse would fail; here: respond, then the receiver drops idle sockets).
        let transport = HTTPClientTransport()
        let receiver = try DroppingReceiver { _ in .respond(204) }
        defer { receiver.stop() }
        let url = URL(string: receiver.url)!
        #expect(await transport.post(url: url, headers: [], body: [], timeoutSeconds: 10).statusCode == 204)
        receiver.closeIdleConnections()
        // Wait (bounded) until the FIN reached us: the pooled connection is then readable at EOF.
        let deadline = ContinuousClock.now + .seconds(10)
        while receiver.openConnectionCount > 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        try await Task.sleep(for: .milliseconds(50))
        let second = await transport.post(url: url, headers: [], body: [], timeoutSeconds: 10)
        #expect(second.statusCode == 204, "a connection the receiver closed while idle is never used: \(second.error ?? "")")
        #expect(receiver.connectionCount == 2)
    }

    @Test(.timeLimit(.minutes(1)))
    func aReceiverThatNeverAnswersTimesOutAtTheDeadlineNotLater() async throws {
        let silent = try SilentListener()
        defer { silent.stop() }
        let started = ContinuousClock.now
        let result = await HTTPClientTransport().post(url: URL(string: silent.url)!, headers: [], body: Array("{}".utf8), timeoutSeconds: 1)
        #expect(result.failure == .timedOut, "\(result.error ?? "")")
        #expect(result.error?.hasPrefix("timed_out: no complete response within 1 s") == true, "\(result.error ?? "")")
        // Bounded by the deadline, not by the receiver (coarse: tells "at the deadline" from "never").
        #expect(ContinuousClock.now - started < .seconds(20))
    }

    @Test(.timeLimit(.minutes(1)))
    func idleConnectionsAreCappedPerReceiver() async throws {
        var configuration = HTTPClientTransport.Configuration()
        configuration.client.idleConnectionsPerHostMax = 2
        let transport = HTTPClientTransport(configuration: configuration)
        // Each request is held until eight are in, so eight connections are open at once.
        let receiver = try DroppingReceiver(holdUntil: 8) { _ in .respond(204) }
        defer { receiver.stop() }
        let url = URL(string: receiver.url)!
        let statuses = await withTaskGroup(of: Int?.self) { group in
            for _ in 0..<8 { group.addTask { await transport.post(url: url, headers: [], body: [], timeoutSeconds: 20).statusCode } }
            return await group.reduce(into: [Int?]()) { $0.append($1) }
        }
        #expect(statuses == Array(repeating: 204, count: 8))
        #expect(receiver.connectionCount == 8)
        #expect(transport.idleConnectionCount == 2, "at most idleConnectionsPerHostMax kept: \(transport.idleConnectionCount)")
    }
}
