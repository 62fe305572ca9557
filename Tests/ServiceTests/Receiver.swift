import Foundation
import HTTPServer
import JSON
import Synchronization
import Testing
import WebhookSigning

/// The receivers a test started; the `.stopsReceivers` trait stops them, awaited, when the test ends on
/// any path (a thrown error or a failed `#require` included).
final class ReceiverScope: Sendable {
    @TaskLocal static var current: ReceiverScope?
    private let receivers = Mutex<[Receiver]>([])

    func add(_ receiver: Receiver) { receivers.withLock { $0.append(receiver) } }

    func stopAll() async {
        for receiver in receivers.withLock({ list in defer { list = [] }; return list }) { await receiver.stop() }
    }
}

/// Stops every `Receiver` a test started once the test ends (see `ReceiverScope`).
struct StopsReceivers: TestTrait, SuiteTrait, TestScoping {
    var isRecursive: Bool { true }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        let scope = ReceiverScope()
        try await ReceiverScope.$current.withValue(scope) {
            do {
                try await function()
            } catch {
                await scope.stopAll()
                throw error
            }
            await scope.stopAll()
        }
    }
}

extension Trait where Self == StopsReceivers {
    /// Every `Receiver` started by a test of this suite is stopped, awaited, when the test ends.
    static var stopsReceivers: Self { Self() }
}

/// A webhook endpoint on 127.0.0.1 (or another loopback `host`) that records every request and answers as `behaviour` says.
final class Receiver: Sendable {
    struct Delivery: Sendable {
        var path: String
        var headers: HTTPHeaders
        var body: [UInt8]
        var json: JSONValue? { try? JSONParser.parse(body) }
        var offset: Int64? { json?["offset"]?.int64Value }
        var deliveryID: String? { headers["webhook-id"] }
    }

    private struct Handler: HTTPHandler {
        let receiver: Receiver
        func handle(_ request: HTTPRequest) async -> HTTPResponse {
            let number = receiver.requests.withLock { requests in
                requests.append(Delivery(path: request.path, headers: request.headers, body: request.body))
                return requests.count
            }
            return await receiver.behaviour(request, number)
        }
    }

    let requests = Mutex<[Delivery]>([])
    let behaviour: @Sendable (HTTPRequest, Int) async -> HTTPResponse
    private let server: Mutex<HTTPServer?> = Mutex(nil)
    private(set) nonisolated(unsafe) var port = 0

    /// Starts a receiver; the test's `.stopsReceivers` scope stops it when the test ends.
    /// - Throws: when the test has no `.stopsReceivers` trait (its receiver would never be stopped), or
    ///   when the server cannot start.
    init(host: String = "127.0.0.1",
         behaviour: @escaping @Sendable (HTTPRequest, Int) async -> HTTPResponse = { _, _ in HTTPResponse(status: 204) }) throws {
        guard let scope = ReceiverScope.current else {
            struct MissingScope: Error, CustomStringConvertible {
                var description: String { "a Receiver needs the .stopsReceivers trait on its suite, which stops it when the test ends" }
            }
            throw MissingScope()
        }
        self.behaviour = behaviour
        var configuration = HTTPServerConfiguration()
        configuration.host = host
        configuration.port = 0
        let server = HTTPServer(configuration: configuration, handler: Handler(receiver: self))
        port = try server.start()
        self.server.withLock { $0 = server }
        scope.add(self)
    }

    var url: String { "http://127.0.0.1:\(port)/hook" }

    func stop() async { await server.withLock { $0 }?.shutdown(graceSeconds: 1) }

    var received: [Delivery] { requests.withLock { $0 } }

    /// Waits until `condition` holds for the received requests, up to `seconds`.
    func wait(seconds: Double = 30, until condition: ([Delivery]) -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition(received) { return true }
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
        return condition(received)
    }
}
