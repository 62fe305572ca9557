import EventLog
import HTTPClient
import Foundation
import Synchronization
import Testing
import WebhookSigning
@testable import Delivery

/// Without a lane the dispatcher does not hear of durable groups (no task woken per group commit); a lane
/// added later still gets every event from its start offset on, and the events appended after it.
@Suite struct DispatcherFollowTests {
    /// Acknowledges every delivery without a request and counts them.
    final class Counting: DeliveryTransport {
        let posts = Atomic<Int>(0)
        func post(url: URL, headers: [HeaderField], body: [UInt8], timeoutSeconds: Double) async -> TransportResult {
            posts.add(1, ordering: .relaxed)
            return TransportResult(statusCode: 204, durationMs: 0)
        }
    }

    static func events(_ range: Range<Int>) -> [NewEvent] {
        range.map { NewEvent(organizationID: "org_a", type: "user.login", eventID: "evt_\($0)", data: Array("{}".utf8)) }
    }

    @Test(.timeLimit(.minutes(1)))
    func aLaneAddedAfterAppendsWithoutLanesGetsEveryEventFromItsStart() async throws {
        let directory = NSTemporaryDirectory() + "argus-follow-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = try EventLog(directory: directory + "/log")
        defer { log.close() }
        let transport = Counting()
        let publicAddress = try #require(IPAddress("93.184.216.34"))
        let configuration = Dispatcher.Configuration(transport: transport, targetGuard: TargetGuard(resolver: { _ in [publicAddress] }))
        let dispatcher = Dispatcher(log: log, cursors: try CursorStore(directory: directory + "/cursors"),
                                    history: try DeliveryHistory(directory: directory + "/deliveries"), configuration: configuration)
        try await dispatcher.start([])
        defer { dispatcher.stop() }
        // Groups while no lane exists: nobody is told (the flag the append observer reads says so).
        for start in stride(from: 0, to: 50, by: 10) { _ = try await log.append(batch: Self.events(start..<(start + 10))) }
        var deadline = ContinuousClock.now + .seconds(10)
        while dispatcher.followsLog.load(ordering: .relaxed), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        let followedWithoutLanes = dispatcher.followsLog.load(ordering: .relaxed)
        #expect(!followedWithoutLanes, "no lane: durable groups wake nobody")

        // A lane starting at offset 30, added now, then more groups.
        var subscription = LaneDriver.subscription(id: "wh_late", maxInFlight: 16)
        subscription.startOffset = 30
        dispatcher.apply(subscription, id: subscription.id)
        for start in stride(from: 50, to: 80, by: 10) { _ = try await log.append(batch: Self.events(start..<(start + 10))) }
        deadline = ContinuousClock.now + .seconds(30)
        while (dispatcher.progress("wh_late")?.cursor ?? 0) < 80, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(dispatcher.progress("wh_late")?.cursor == 80, "the lane reached the head")
        let posted = transport.posts.load(ordering: .relaxed)
        #expect(posted == 50, "offsets 30..<80, each once")
        let followedWithALane = dispatcher.followsLog.load(ordering: .relaxed)
        #expect(followedWithALane, "a lane follows the log")

        // One more group after the lane caught up: heard of, delivered.
        _ = try await log.append(batch: Self.events(80..<81))
        deadline = ContinuousClock.now + .seconds(30)
        while (dispatcher.progress("wh_late")?.cursor ?? 0) < 81, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        let postedAfter = transport.posts.load(ordering: .relaxed)
        #expect(postedAfter == 51)
    }
}
