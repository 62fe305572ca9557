import EventLog
import Synchronization
import Testing
@testable import Delivery

/// Without a lane the dispatcher does not hear of durable groups (no turn of its loop per group commit); a
/// lane added later still gets every event from its start offset on, and the events appended after it.
@Suite struct DispatcherFollowTests {
    @Test(.timeLimit(.minutes(1)))
    func aLaneAddedAfterAppendsWithoutLanesGetsEveryEventFromItsStart() async throws {
        let harness = try DispatcherHarness("follow")
        defer { harness.close() }
        let transport = DispatcherHarness.CountingTransport()
        let dispatcher = try await harness.startDispatcher(try DispatcherHarness.configuration(transport), subscriptions: [])
        defer { dispatcher.stop() }
        #expect(try await DispatcherHarness.wait(seconds: 10) { !dispatcher.followsLog.load(ordering: .relaxed) },
                "the dispatcher loaded its (no) lanes within 10 s")
        // Groups while no lane exists: the log calls its observers in the order they were added, so once this
        // one has seen the five groups, the dispatcher's has been called for each of them too.
        let groupsSeen = Atomic<Int>(0)
        let counter = try harness.log.addAppendObserver { _ in groupsSeen.add(1, ordering: .relaxed) }
        defer { harness.log.removeAppendObserver(counter) }
        let wakeUpsBefore = dispatcher.observerWakeUps.load(ordering: .relaxed)
        for start in stride(from: 0, to: 50, by: 10) { try await harness.appendUserLogins(start..<(start + 10)) }
        #expect(try await DispatcherHarness.wait(seconds: 10) { groupsSeen.load(ordering: .relaxed) >= 5 }, "the five groups were durable within 10 s")
        let wakeUpsWithoutLanes = dispatcher.observerWakeUps.load(ordering: .relaxed) - wakeUpsBefore
        #expect(wakeUpsWithoutLanes == 0, "no lane: durable groups wake nobody")

        // A lane starting at offset 30, added now, then more groups.
        var subscription = LaneDriver.subscription(id: "wh_late", maxInFlight: 16)
        subscription.startOffset = 30
        dispatcher.apply(subscription, id: subscription.id)
        for start in stride(from: 50, to: 80, by: 10) { try await harness.appendUserLogins(start..<(start + 10)) }
        #expect(try await DispatcherHarness.wait(seconds: 30) { (dispatcher.progress("wh_late")?.cursor ?? 0) >= 80 }, "the lane reached the head")
        #expect(transport.count == 50 && transport.posts.load(ordering: .relaxed) == 50, "offsets 30..<80, each once")

        // One more group after the lane caught up: the observer wakes the loop, the event goes out.
        let wakeUpsCaughtUp = dispatcher.observerWakeUps.load(ordering: .relaxed)
        try await harness.appendUserLogins(80..<81)
        #expect(try await DispatcherHarness.wait(seconds: 30) { (dispatcher.progress("wh_late")?.cursor ?? 0) >= 81 }, "delivered within 30 s")
        #expect(dispatcher.observerWakeUps.load(ordering: .relaxed) > wakeUpsCaughtUp, "a lane follows the log: the group woke the loop")
        #expect(transport.posts.load(ordering: .relaxed) == 51)
    }
}
