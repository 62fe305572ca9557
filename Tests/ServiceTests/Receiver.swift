import Foundation
import HTTPServer
import JSON
import Synchronization
import WebhookSigning

/// A webhook endpoint on 127.0.0.1 that records every request and answers as `behaviour` says.
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

    init(behaviour: @escaping @Sendable (HTTPRequest, Int) async -> HTTPResponse = { _, _ in HTTPResponse(status: 204) }) throws {
        self.behaviour = behaviour
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        let server = HTTPServer(configuration: configuration, handler: Handler(receiver: self))
        port = try server.start()
        self.server.withLock { $0 = server }
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
