import Crypto
import Foundation
import HTTPServer
import JSON
import Synchronization
@testable import Service

/// A service on a temporary data directory with a controllable clock, driven through its router.
final class ServiceHarness: Sendable {
    let path: String
    let clock: TestClock
    let service: ArgusService
    let router: Router

    init(path: String? = nil, startMs: Int64 = 1_780_000_000_000,
         configure: (inout ServiceConfiguration) -> Void = { _ in }) throws {
        let path = path ?? NSTemporaryDirectory() + "argus-service-\(UUID().uuidString.prefix(8))"
        self.path = path
        let clock = TestClock(startMs)
        self.clock = clock
        service = try ServiceHarness.open(path: path, clock: clock, configure: configure)
        router = service.makeRouter()
    }

    /// A second harness on the same directory after `close()` (a restart).
    init(reopening other: ServiceHarness) throws {
        path = other.path
        let clock = TestClock(other.clock.withLock { $0 })
        self.clock = clock
        service = try ServiceHarness.open(path: path, clock: clock)
        router = service.makeRouter()
    }

    private static func open(path: String, clock: TestClock,
                             configure: (inout ServiceConfiguration) -> Void = { _ in }) throws -> ArgusService {
        var configuration = ServiceConfiguration(dataDirectory: path)
        configuration.nowMs = { clock.withLock { $0 } }
        configuration.logOptions.fsyncPolicy = .none
        configure(&configuration)
        return try ArgusService(configuration: configuration)
    }

    func advance(seconds: Int64) { clock.withLock { $0 += seconds * 1000 } }

    func close() { service.close() }

    func removeDirectory() { try? FileManager.default.removeItem(atPath: path) }

    struct Reply {
        var status: Int
        var json: JSONValue?
        var response: HTTPResponse
        var code: String? { json?["error"]?["code"]?.stringValue ?? json?["error"]?.stringValue }
    }

    func send(_ method: String, _ target: String, token: String? = nil, body: String? = nil,
              contentType: String = "application/json", headers: [(String, String)] = []) async -> Reply {
        var allHeaders = HTTPHeaders(headers)
        if let token { allHeaders.add("Authorization", "Bearer \(token)") }
        if body != nil { allHeaders.add("Content-Type", contentType) }
        let request = HTTPRequest(method: method, target: target, headers: allHeaders, body: Array((body ?? "").utf8))
        // As the server does: the route's inline handler first (publishes), else a task; then the end of
        // the I/O loop's turn (which wakes the log writer for the inline publishes).
        let tasks = RequestTasks()
        let response = await withCheckedContinuation { continuation in
            router.start(request, in: tasks) { continuation.resume(returning: $0) }
            router.turnEnded()
        }
        await tasks.shutdown()
        return Reply(status: response.status, json: try? JSONParser.parse(response.body), response: response)
    }

    /// Registers a client and returns (client id, secret).
    func client(organization: String, scopes: [String]) throws -> (String, String) {
        let (client, secret) = try service.clients.create(organizationID: organization, scopes: scopes, nowMs: clock.withLock { $0 })
        return (client.clientID, secret)
    }

    /// A token for a new client of `organization`.
    func token(organization: String, scopes: [String] = ["events:publish", "events:read", "webhooks:read", "webhooks:write"]) async throws -> String {
        let (id, secret) = try client(organization: organization, scopes: scopes)
        let reply = await send("POST", "/oauth/token", body: "grant_type=client_credentials",
                               contentType: "application/x-www-form-urlencoded",
                               headers: [("Authorization", "Basic " + Base64.encode(Array("\(id):\(secret)".utf8)))])
        guard let token = reply.json?["access_token"]?.stringValue else {
            throw APIError(reply.status, "token", "no token: \(String(decoding: reply.response.body, as: UTF8.self))")
        }
        return token
    }

    static let publicURL = "https://93.184.216.34/hooks/argus"

    func createWebhook(token: String, types: String = #"["user.*"]"#, extra: String = "") async -> Reply {
        await send("POST", "/v1/webhooks", token: token,
                   body: #"{"url":"\#(Self.publicURL)","event_types":\#(types)\#(extra)}"#)
    }
}

/// A clock tests move by hand, in milliseconds since 1970.
final class TestClock: Sendable {
    private let value: Mutex<Int64>
    init(_ startMs: Int64) { value = Mutex(startMs) }
    func withLock<R: Sendable>(_ body: (inout Int64) -> R) -> R { value.withLock { body(&$0) } }
}
