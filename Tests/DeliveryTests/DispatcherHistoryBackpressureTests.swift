import EventLog
import Foundation
import Testing
@testable import Delivery

/// The dispatcher never waits for the history's writer: while the history's queue is full it takes no new
/// deliveries (and still answers), and it goes on once the writer has caught up.
@Suite struct DispatcherHistoryBackpressureTests {
    @Test(.timeLimit(.minutes(1)))
    func aFullHistoryQueueStopsNewDeliveriesWithoutBlockingAndTheyResumeOnceWritten() async throws {
        let harness = try DispatcherHarness("backpressure")
        defer { harness.close() }
        let eventCount = 40
        try await harness.appendUserLogins(0..<eventCount)
        let transport = DispatcherHarness.CountingTransport()
        let history = try DeliveryHistory(directory: harness.directory + "/deliveries", pendingChangeCountMax: 6)
        let writer = DeliveryHistoryTests.HeldWriter()
        writer.install(on: history)
        defer { writer.release() }
        // A window far larger than the queue: only the history's room holds the lane back.
        let dispatcher = try await harness.startDispatcher(try DispatcherHarness.configuration(transport), history: history,
                                                           subscriptions: [LaneDriver.subscription(id: "wh_1", maxInFlight: 64)])
        defer { dispatcher.stop() }

        try await DispatcherHarness.wait(seconds: 20) { dispatcher.lanesWaitingForHistory > 0 }
        #expect(dispatcher.lanesWaitingForHistory == 1, "the lane waits for room in the history's queue")
        // A manual retry is answered (an unknown delivery by the history lookup, before the loop).
        #expect(await dispatcher.retryDelivery("no_such_delivery", webhookID: "wh_1") == .notFound)
        try await DispatcherHarness.wait(seconds: 20) { transport.count > 0 }
        let started = transport.count
        #expect(started >= 1 && started <= 6, "only the deliveries the queue had room for started: \(started)")

        writer.release()
        try await DispatcherHarness.wait(seconds: 30) { history.statistics(webhookID: "wh_1").succeeded >= eventCount }
        #expect(transport.count == eventCount, "every event went out once the writer caught up")
        #expect(history.statistics(webhookID: "wh_1").succeeded == eventCount)
        #expect(dispatcher.lanesWaitingForHistory == 0)
    }
}
