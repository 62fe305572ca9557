import EventLog
import Foundation
import HTTPClient
import Synchronization
import Testing
import WebhookSigning
@testable import Delivery

/// The set-up the Dispatcher* tests share: a temporary directory holding the log (`log/`), the cursors
/// (`cursors/`) and the history (`deliveries/`), `user.login` events appended on demand, a dispatcher
/// whose target guard resolves every host to one public address, and bounded waits for conditions.
/// `close()` (deferred right after `init`) closes the log and removes the directory.
struct DispatcherHarness {
    /// The temporary directory, removed by `close()`.
    let directory: String
    /// The log in `directory/log`.
    let log: EventLog

    /// A fresh directory named after `name` with a log in it (`options`: the log's, such as small segments).
    init(_ name: String, options: EventLogOptions = EventLogOptions()) throws {
        directory = NSTemporaryDirectory() + "argus-\(name)-\(UUID().uuidString.prefix(8))"
        log = try EventLog(directory: directory + "/log", options: options)
    }

    /// Closes the log and removes the directory.
    func close() {
        log.close()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The cursors in `directory/cursors`.
    func cursors() throws -> CursorStore { try CursorStore(directory: directory + "/cursors") }

    /// Appends `user.login` events of org_a numbered `numbers` (ids `evt_<n>`, data `{}`) in one batch.
    func appendUserLogins(_ numbers: Range<Int>) async throws {
        _ = try await log.append(batch: numbers.map { number in
            NewEvent(organizationID: "org_a", type: "user.login", eventID: "evt_\(number)", data: Array("{}".utf8))
        })
    }

    /// A configuration delivering through `transport`, every host resolving to a public address.
    static func configuration(_ transport: any DeliveryTransport) throws -> Dispatcher.Configuration {
        let publicAddress = try #require(IPAddress("93.184.216.34"))
        return Dispatcher.Configuration(transport: transport, targetGuard: TargetGuard(resolver: { _ in [publicAddress] }))
    }

    /// A dispatcher over this log, started with `subscriptions` (stop it with `stop()`). Cursors: `cursors()`
    /// unless given; the history: `directory/deliveries` unless given.
    func startDispatcher(_ configuration: Dispatcher.Configuration, history: DeliveryHistory? = nil, cursors: CursorStore? = nil,
                         source: (any EventSource)? = nil,
                         subscriptions: [Subscription] = [LaneDriver.subscription(id: "wh_1")]) async throws -> Dispatcher {
        let dispatcher = Dispatcher(log: log, source: source, cursors: try cursors ?? self.cursors(),
                                    history: try history ?? DeliveryHistory(directory: directory + "/deliveries"),
                                    configuration: configuration)
        try await dispatcher.start(subscriptions)
        return dispatcher
    }

    /// Waits until `condition` holds, polling every 5 ms for at most `seconds`; returns whether it held.
    @discardableResult
    static func wait(seconds: Int, until condition: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while !condition(), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        return condition()
    }

    /// Acknowledges every delivery without a request, counting the deliveries (by `webhook-id`) it was sent
    /// and its posts (repeats included).
    final class CountingTransport: DeliveryTransport {
        let offsets = Mutex<Set<String>>([])
        let posts = Atomic<Int>(0)

        func post(url: URL, headers: [HeaderField], body: [UInt8], timeoutSeconds: Double) async -> TransportResult {
            let id = headers.first { $0.name.lowercased() == "webhook-id" }?.value ?? "?"
            posts.add(1, ordering: .relaxed)
            offsets.withLock { _ = $0.insert(id) }
            return TransportResult(statusCode: 204, durationMs: 0)
        }

        var count: Int { offsets.withLock { $0.count } }
    }
}
