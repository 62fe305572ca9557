import Foundation
import HTTPServer
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import HTTPClient

/// The shared client against our own HTTPServer on 127.0.0.1: whole bodies larger than a socket buffer,
/// kept-alive connections, HEAD answers, header fields, and the limits that keep a connection out of the pool.
@Suite(.timeLimit(.minutes(1))) struct HTTPClientTests {
    /// Records each request and answers by method: `HEAD` with a Content-Length and no body, `GET` with
    /// `bodySizeBytes` bytes, anything else 200 with the SHA-free size of what arrived in a header.
    final class Peer: Sendable {
        struct Seen: Sendable {
            var method: String
            var target: String
            var host: String
            var bodyCount: Int
            var custom: String?
        }

        private struct Handler: HTTPHandler {
            let peer: Peer
            func handle(_ request: HTTPRequest) async -> HTTPResponse {
                peer.seen.withLock {
                    $0.append(Seen(method: request.method, target: request.target, host: request.headers["host"] ?? "",
                                   bodyCount: request.body.count, custom: request.headers["x-custom"]))
                }
                switch request.method {
                case "HEAD":
                    return HTTPResponse(status: 200, headers: ["Content-Length": "12345", "X-Amz-Checksum-Sha256": "abc="])
                case "GET":
                    return HTTPResponse(status: 200, headers: ["Content-Type": "application/octet-stream"],
                                        body: [UInt8](repeating: 0x61, count: peer.getBodySizeBytes))
                default:
                    return HTTPResponse(status: 200, headers: ["X-Received-Bytes": "\(request.body.count)", "X-Twice": "one"],
                                        body: Array("ok".utf8))
                }
            }
        }

        let getBodySizeBytes: Int
        let seen = Mutex<[Seen]>([])
        private let server: Mutex<HTTPServer?> = Mutex(nil)
        private let boundPort = Mutex(0)
        var port: Int { boundPort.withLock { $0 } }

        init(getBodySizeBytes: Int = 100) throws {
            self.getBodySizeBytes = getBodySizeBytes
            var configuration = HTTPServerConfiguration()
            configuration.host = "127.0.0.1"
            configuration.port = 0
            configuration.bodySizeBytesMax = { _, _ in 16 << 20 }
            let server = HTTPServer(configuration: configuration, handler: Handler(peer: self))
            let bound = try server.start()
            self.server.withLock { $0 = server }
            boundPort.withLock { $0 = bound }
        }

        var requests: [Seen] { seen.withLock { $0 } }

        func request(_ method: String, _ target: String, headers: [(name: String, value: String)] = [],
                     body: [UInt8] = []) -> HTTPClient.Request {
            HTTPClient.Request(method: method, host: "127.0.0.1", port: port, hostHeader: "127.0.0.1:\(port)", target: target,
                               headers: headers, body: .bytes(body))
        }

        func stop() async { await server.withLock { $0 }?.shutdown(graceSeconds: 1) }
    }

    static func reader(method: String = "GET", bodyMax: Int = 1 << 20) -> HTTPResponseReader {
        HTTPResponseReader(bodyPrefixSizeBytesMax: bodyMax, bodySizeBytesMax: bodyMax, keepsHeaders: true,
                           expectsNoBody: method == "HEAD")
    }

    @Test func anEightMebibyteBodyArrivesWholeAndTheNextRequestReusesTheConnection() async throws {
        let peer = try Peer()
        let client = HTTPClient()
        let body = (0..<(8 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let first = await client.send(peer.request("PUT", "/bucket/a%20b?x=1", headers: [("x-custom", "value 1")], body: body),
                                      reader: Self.reader(), timeoutSeconds: 30)
        #expect(first.failure == nil)
        #expect(first.response.statusCode == 200)
        #expect(first.response.header("x-received-bytes") == "\(8 << 20)")
        #expect(first.response.bodyPrefix == Array("ok".utf8))
        #expect(!first.reusedConnection)
        #expect(client.idleConnectionCount == 1)
        let second = await client.send(peer.request("PUT", "/bucket/empty"), reader: Self.reader(), timeoutSeconds: 30)
        #expect(second.failure == nil && second.reusedConnection)
        #expect(second.response.header("x-received-bytes") == "0")
        let seen = peer.requests
        #expect(seen.map(\.bodyCount) == [8 << 20, 0])
        #expect(seen.first?.target == "/bucket/a%20b?x=1")
        #expect(seen.first?.host == "127.0.0.1:\(peer.port)")
        #expect(seen.first?.custom == "value 1")
        await peer.stop()
    }

    @Test func aHeadAnswerWithAContentLengthHasNoBodyAndKeepsTheConnectionInStep() async throws {
        // A scripted peer on one connection: a HEAD answer that announces 12,345 bytes it does not send (as S3
        // does), then a GET answer. Were the announced length read as a body, the GET's answer would be eaten
        // as the HEAD's body and the client would wait until the deadline.
        let peer = try ScriptedPeer(answers: [
            "HTTP/1.1 200 OK\r\nContent-Length: 12345\r\nX-Amz-Checksum-Sha256: abc=\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        ])
        let client = HTTPClient()
        let request = { (method: String) in
            HTTPClient.Request(method: method, host: "127.0.0.1", port: peer.port, hostHeader: "127.0.0.1", target: "/object",
                               headers: [], body: .bytes([]))
        }
        let head = await client.send(request("HEAD"), reader: Self.reader(method: "HEAD"), timeoutSeconds: 10)
        #expect(head.failure == nil)
        #expect(head.response.header("content-length") == "12345")
        #expect(head.response.header("x-amz-checksum-sha256") == "abc=")
        #expect(head.response.bodyPrefix.isEmpty)
        let get = await client.send(request("GET"), reader: Self.reader(), timeoutSeconds: 10)
        #expect(get.failure == nil && get.reusedConnection)
        #expect(get.response.bodyPrefix == Array("hello".utf8))
        #expect(peer.finish() == 2, "both requests on the one connection")
    }

    @Test func aBodyLargerThanTheReadersLimitStopsTheReadAndTheConnectionIsNotKept() async throws {
        let peer = try Peer(getBodySizeBytes: 256 << 10)
        let client = HTTPClient()
        let outcome = await client.send(peer.request("GET", "/big"), reader: Self.reader(bodyMax: 64 << 10), timeoutSeconds: 10)
        #expect(outcome.failure == nil)
        #expect(outcome.response.stoppedEarly)
        #expect(outcome.response.bodyPrefix.count == 64 << 10)
        #expect(client.idleConnectionCount == 0, "a connection with unread bytes is never reused")
        await peer.stop()
    }

    @Test func aSlowButSteadyAnswerOutlivesTheIdleLimitAndTheTotalLimitStillHolds() async throws {
        // 40 bytes, 50 ms apart: about 2 s in all, never more than 50 ms without a byte.
        let answer = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
        let steady = try ScriptedPeer(answers: [answer], delivery: .drip(gapMilliseconds: 50))
        let request = { (port: Int) in
            HTTPClient.Request(method: "GET", host: "127.0.0.1", port: port, hostHeader: "127.0.0.1", target: "/", headers: [], body: .bytes([]))
        }
        let outcome = await HTTPClient().send(request(steady.port), reader: Self.reader(), timeoutSeconds: 60, idleTimeoutSeconds: 1)
        #expect(outcome.failure == nil)
        #expect(outcome.response.bodyPrefix == Array("abc".utf8))
        _ = steady.finish()
        // The same answer against a total limit of 0.5 s: it is cut at the total, whatever the idle limit.
        let cut = try ScriptedPeer(answers: [answer], delivery: .drip(gapMilliseconds: 50))
        let late = await HTTPClient().send(request(cut.port), reader: Self.reader(), timeoutSeconds: 0.5, idleTimeoutSeconds: 30)
        #expect(late.failure == .timedOut)
        _ = cut.finish()
    }

    @Test func aPeerThatStallsFailsAtTheIdleLimitLongBeforeTheTotal() async throws {
        // A byte every 5 s: without the idle limit this would run to the one-hour total, past the suite's
        // one-minute time limit, and fail it.
        let stalling = try ScriptedPeer(answers: ["HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"],
                                        delivery: .drip(gapMilliseconds: 5000))
        let request = HTTPClient.Request(method: "GET", host: "127.0.0.1", port: stalling.port, hostHeader: "127.0.0.1", target: "/",
                                         headers: [], body: .bytes([]))
        let outcome = await HTTPClient().send(request, reader: Self.reader(), timeoutSeconds: 3600, idleTimeoutSeconds: 0.5)
        #expect(outcome.failure == .timedOut)
        _ = stalling.finish()  // the peer's next send fails on the closed connection and its thread ends
    }

    @Test func aResetIsNotAnEndABodyReadUntilTheCloseFailsInsteadOfBeingTakenAsComplete() async throws {
        let peer = try ScriptedPeer(answers: ["HTTP/1.1 200 OK\r\n\r\npartial body"], delivery: .thenReset)
        let request = HTTPClient.Request(method: "GET", host: "127.0.0.1", port: peer.port, hostHeader: "127.0.0.1", target: "/",
                                         headers: [], body: .bytes([]))
        let outcome = await HTTPClient().send(request, reader: Self.reader(), timeoutSeconds: 10)
        guard case .closed(let detail) = outcome.failure else {
            Issue.record("a reset was taken as the end of the body: \(String(describing: outcome.failure))")
            return
        }
        #expect(detail.contains("reset"), "\(detail)")
        _ = peer.finish()
    }

    @Test func aRequestWhoseHeadWouldBreakIsRefusedBeforeAnyByteIsSent() async throws {
        let peer = try Peer()
        let client = HTTPClient()
        for request in [peer.request("PUT", "/a", headers: [("x-custom", "a\r\nx-injected: 1")]),
                        peer.request("PUT", "/a b"),
                        peer.request("PUT", "/a", headers: [("bad name", "v")]),
                        peer.request("GET\r\n", "/a")] {
            let outcome = await client.send(request, reader: Self.reader(), timeoutSeconds: 5)
            guard case .invalidRequest = outcome.failure else {
                Issue.record("sent: \(request.method) \(request.target) \(request.headers)")
                continue
            }
        }
        #expect(peer.requests.isEmpty)
        await peer.stop()
    }

    @Test func theHeadCarriesHostAndLengthOnceAndDropsTheCallersFramingFields() throws {
        let request = HTTPClient.Request(method: "PUT", host: "::1", port: 9000, hostHeader: "[::1]:9000", target: "/b/k",
                                         headers: [("Host", "evil"), ("Content-Length", "1"), ("Transfer-Encoding", "chunked"),
                                                   ("Connection", "close"), ("x-amz-date", "20261129T000000Z")],
                                         body: .bytes(Array("abc".utf8)))
        let head = String(decoding: try #require(request.head), as: UTF8.self)
        #expect(head == "PUT /b/k HTTP/1.1\r\nHost: [::1]:9000\r\nContent-Length: 3\r\nx-amz-date: 20261129T000000Z\r\n\r\n")
        let get = HTTPClient.Request(method: "GET", host: "h", port: 80, hostHeader: "h", target: "/", headers: [], body: .bytes([]))
        #expect(String(decoding: try #require(get.head), as: UTF8.self) == "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        let url = try #require(HTTPClient.Request(method: "POST", url: URL(string: "http://[::1]:8080/p?q=1")!, headers: [], body: .bytes([])))
        #expect(url.host == "::1" && url.port == 8080 && url.hostHeader == "[::1]:8080" && url.target == "/p?q=1")
        #expect(HTTPClient.Request(method: "POST", url: URL(string: "https://example.com/")!, headers: [], body: .bytes([])) == nil)
    }

    @Test func aPeerThatRefusesTheConnectionIsANetworkFailure() async throws {
        // A port bound but not listening: connecting is refused, and no other test can take the port meanwhile.
        let reserved = ScriptedPeer.boundNotListening()
        defer { close(reserved.descriptor) }
        let client = HTTPClient()
        let request = HTTPClient.Request(method: "GET", host: "127.0.0.1", port: reserved.port, hostHeader: "127.0.0.1", target: "/",
                                         headers: [], body: .bytes([]))
        let outcome = await client.send(request, reader: Self.reader(), timeoutSeconds: 5)
        guard case .network(let detail) = outcome.failure else {
            Issue.record("expected a network failure, got \(String(describing: outcome.failure))")
            return
        }
        #expect(detail.contains("connect") && detail.contains("refused"), "\(detail)")
    }
}
