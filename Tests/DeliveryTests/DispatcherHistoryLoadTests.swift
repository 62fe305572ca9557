import EventLog
import Foundation
import HTTPClient
import JSON
import Synchronization
import Testing
import WebhookSigning
@testable import Delivery

/// A webhook's history index that cannot be read holds its lane back (nothing is taken as "never delivered"),
/// the failure is logged once, and the dispatcher loads it again until it can: what had succeeded is not sent again.
@Suite struct DispatcherHistoryLoadTests {
    @Test(.timeLimit(.minutes(1)))
    func aHistoryThatCannotBeReadHoldsTheLaneBackUntilItCanAndNothingSucceededGoesOutAgain() async throws {
        let harness = try DispatcherHarness("history-load")
        defer { harness.close() }
        let directory = harness.directory
        let eventCount = 10
        try await harness.appendUserLogins(0..<eventCount)
        let events = try harness.log.readBlocking(from: 0, countMax: eventCount)
        let succeeded = events.prefix(5)
        // The first five went out before (the cursor, never committed, is behind them).
        do {
            let history = try DeliveryHistory(directory: directory + "/deliveries")
            for event in succeeded {
                history.record(DeliveryRecord(deliveryID: DeliveryID.make(webhookID: "wh_1", offset: event.offset), webhookID: "wh_1",
                                              offset: event.offset, eventID: event.eventID, eventType: event.type, status: .succeeded,
                                              attempts: [DeliveryAttempt(attempt: 1, startedAtMs: 1_000, durationMs: 1, statusCode: 204,
                                                                         responseBody: "", error: nil)],
                                              nextAttemptAtMs: nil), countingAttempt: (true, 1_000))
            }
        }
        // The journal cannot be read (EISDIR, as EIO or EMFILE would).
        let journal = directory + "/deliveries/wh_1.journal"
        try FileManager.default.moveItem(atPath: journal, toPath: directory + "/aside")
        try FileManager.default.createDirectory(atPath: journal, withIntermediateDirectories: false)

        let lines = Mutex<[String]>([])
        let transport = DispatcherHarness.CountingTransport()
        var configuration = try DispatcherHarness.configuration(transport)
        configuration.logger = Logger(minimumLevel: .info) { line in lines.withLock { $0.append(line) } }
        let history = try DeliveryHistory(directory: directory + "/deliveries")
        let dispatcher = try await harness.startDispatcher(configuration, history: history)
        defer { dispatcher.stop() }
        func logged(_ message: String) -> Int { lines.withLock { $0.filter { $0.contains(message) }.count } }

        // The first load fails; the lane sends nothing meanwhile.
        try await DispatcherHarness.wait(seconds: 20) { history.loadCount > 0 || logged("delivery history load failed") > 0 }
        #expect(logged("delivery history load failed") == 1, "waited for the first failed load to be logged")
        #expect(history.cachedSummary(DeliveryID.make(webhookID: "wh_1", offset: events[0].offset), webhookID: "wh_1") == .notLoaded)
        #expect(transport.count == 0, "no delivery is taken while the history cannot say what went out")
        #expect(dispatcher.progress("wh_1")?.cursor == events[0].offset)

        // The disk recovers: the lane goes on from where the history says, without sending the five again.
        try FileManager.default.removeItem(atPath: journal)
        try FileManager.default.moveItem(atPath: directory + "/aside", toPath: journal)
        try await DispatcherHarness.wait(seconds: 30) { dispatcher.progress("wh_1")?.cursor == UInt64(eventCount) + events[0].offset }
        #expect(dispatcher.progress("wh_1")?.cursor == UInt64(eventCount) + events[0].offset, "waited for the lane to reach the head")
        let sent = transport.offsets.withLock { $0 }
        #expect(sent == Set(events.suffix(5).map { DeliveryID.make(webhookID: "wh_1", offset: $0.offset) }))
        #expect(logged("delivery history load failed") == 1, "logged once for the run of failures")
        #expect(logged("delivery history loads again") == 1)
    }

    /// A lane whose index was loaded but whose next pump took nothing (no room in the history's queue) keeps the
    /// index pinned: other webhooks' changes cannot evict it meanwhile, and it is not loaded a second time.
    @Test(.timeLimit(.minutes(1)))
    func anIndexLoadedForAPumpThatTookNothingStaysPinnedUntilTheLaneUsedIt() async throws {
        let harness = try DispatcherHarness("history-pin")
        defer { harness.close() }
        let directory = harness.directory
        let eventCount = 6
        try await harness.appendUserLogins(0..<eventCount)
        // wh_1 has a journal, so opening leaves its index out of memory.
        do {
            let history = try DeliveryHistory(directory: directory + "/deliveries")
            history.record(DeliveryHistoryTests.record("wh_1", 1_000, body: "old"))
        }
        let history = try DeliveryHistory(directory: directory + "/deliveries", memoryBytesMax: 1, pendingChangeCountMax: 4)
        // The load of wh_1's index waits on its file lock until the queue is full.
        let entered = Atomic<Bool>(false)
        let releaseFiles = DispatchSemaphore(value: 0)
        Thread {
            history.index.withFiles("wh_1") {
                entered.store(true, ordering: .releasing)
                releaseFiles.wait()
            }
        }.start()
        try await DispatcherHarness.wait(seconds: 20) { entered.load(ordering: .acquiring) }
        let writer = DeliveryHistoryTests.HeldWriter()
        writer.install(on: history)
        defer { writer.release() }
        let transport = DispatcherHarness.CountingTransport()
        let dispatcher = try await harness.startDispatcher(try DispatcherHarness.configuration(transport), history: history)
        defer { dispatcher.stop() }
        try await DispatcherHarness.wait(seconds: 20) { dispatcher.historyLoadsUnderWay > 0 }
        #expect(dispatcher.historyLoadsUnderWay == 1, "waited for the lane to load its index")
        // The queue fills up (the writer is held) while the load waits.
        for number in 0..<4 { history.record(DeliveryHistoryTests.record("wh_x", number, body: "x")) }
        history.endTurn()
        #expect(history.roomForChanges <= 0)
        releaseFiles.signal()
        try await DispatcherHarness.wait(seconds: 20) { dispatcher.lanesWaitingForHistory > 0 && dispatcher.historyLoadsUnderWay == 0 }
        #expect(dispatcher.lanesWaitingForHistory == 1, "the pump after the load found no room")
        #expect(history.loadCount == 1)
        // Another webhook's change would evict every index not pinned (a budget of one byte).
        history.record(DeliveryHistoryTests.record("wh_y", 0, body: "y"))
        let first = DeliveryID.make(webhookID: "wh_1", offset: 0)
        #expect(history.cachedSummary(first, webhookID: "wh_1") != .notLoaded, "the lane's loaded index stays until it used it")

        writer.release()
        try await DispatcherHarness.wait(seconds: 30) { history.statistics(webhookID: "wh_1").succeeded >= eventCount }
        #expect(transport.count == eventCount, "every event went out once the writer caught up")
        #expect(history.loadCount == 1, "the index was loaded once")
        #expect(history.index.state.withLock { $0.books["wh_1"]?.pins } == 0, "the pin is let go once used")
    }
}
