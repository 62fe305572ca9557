import HTTPClient
import EventLog
import Foundation
import Synchronization
import Testing
import WebhookSigning
@testable import Delivery

/// The dispatcher never waits for the history's writer: while the history's queue is full it takes no new
/// deliveries (and still answers), and it goes on once the writer has caught up.
@Suite struct DispatcherHistoryBackpressureTests {
    /// Acknowledges every delivery without a request, counting the offsets it was sent.
    final class CountingTransport: DeliveryTransport {
        let offsets = Mutex<Set<String>>([])

        func post(url: URL, headers: [HeaderField], body: [UInt8], timeoutSeconds: Double) async -> TransportResult {
            let id = headers.first { $0.name.lowercased() == "webhook-id" }?.value ?? "?"
            offsets.withLock { _ = $0.insert(id) }
            return TransportResult(statusCode: 204, durationMs: 0)
        }

        var count: Int { offsets.withLock { $0.count } }
    }

    @Test(.timeLimit(.minutes(1)))
    func aFullHistoryQueueStopsNewDeliveriesWithoutBlockingAndTheyResumeOnceWritten() async throws {
        let directory = NSTemporaryDirectory() + "argus-backpressure-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = try EventLog(directory: directory + "/log")
        defer { log.close() }
        let eventCount = 40
        _ = try await log.append(batch: (0..<eventCount).map { number in
            NewEvent(organizationID: "org_a", type: "user.login", eventID: "evt_\(number)", data: Array("{}".utf8))
        })
        let publicAddress = try #require(IPAddress("93.184.216.34"))
        let transport = CountingTransport()
        let configuration = Dispatcher.Configuration(transport: transport, targetGuard: TargetGuard(resolver: { _ in [publicAddress] }))
        let history = try DeliveryHistory(directory: directory + "/deliveries", pendingChangeCountMax: 6)
        let writer = DeliveryHistoryTests.HeldWriter()
        writer.install(on: history)
        defer { writer.release() }
        let dispatcher = Dispatcher(log: log, cursors: try CursorStore(directory: directory + "/cursors"), history: history,
                                    configuration: configuration)
        // A window far larger than the queue: only the history's room holds the lane back.
        try await dispatcher.start([LaneDriver.subscription(id: "wh_1", maxInFlight: 64)])
        defer { dispatcher.stop() }

        var deadline = ContinuousClock.now + .seconds(20)
        while dispatcher.lanesWaitingForHistory == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(dispatcher.lanesWaitingForHistory == 1, "the lane waits for room in the history's queue")
        // A manual retry is answered (an unknown delivery by the history lookup, before the loop).
        #expect(await dispatcher.retryDelivery("no_such_delivery", webhookID: "wh_1") == .notFound)
        deadline = ContinuousClock.now + .seconds(20)
        while transport.count == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        let started = transport.count
        #expect(started >= 1 && started <= 6, "only the deliveries the queue had room for started: \(started)")

        writer.release()
        deadline = ContinuousClock.now + .seconds(30)
        while history.statistics(webhookID: "wh_1").succeeded < eventCount, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(transport.count == eventCount, "every event went out once the writer caught up")
        #expect(history.statistics(webhookID: "wh_1").succeeded == eventCount)
        #expect(dispatcher.lanesWaitingForHistory == 0)
    }
}
