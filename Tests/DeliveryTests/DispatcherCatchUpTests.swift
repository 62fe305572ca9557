import HTTPClient
import EventLog
import Foundation
import Synchronization
import Testing
import WebhookSigning
@testable import Delivery

/// The engine's bound on catch-up readers: lanes far behind the shared scan read ahead through the event
/// source, at most `catchUpReaderCountMax` at once; the others wait their turn and still reach the head.
@Suite struct DispatcherCatchUpTests {
    /// The log as an event source whose reads wait at a gate, counting how many are under way at once.
    final class GatedSource: EventSource {
        let log: EventLog
        let opened = Atomic<Bool>(false)
        let counts = Mutex<(inFlight: Int, inFlightMax: Int, calls: Int)>((0, 0, 0))

        init(log: EventLog) { self.log = log }

        var nextOffset: UInt64 { log.nextOffset }

        func read(from offset: UInt64, countMax: Int) async throws(EventSourceError) -> [EventRecord] {
            counts.withLock {
                $0.inFlight += 1
                $0.inFlightMax = max($0.inFlightMax, $0.inFlight)
                $0.calls += 1
            }
            defer { counts.withLock { $0.inFlight -= 1 } }
            while !opened.load(ordering: .relaxed), !Task.isCancelled { try? await Task.sleep(for: .milliseconds(5)) }
            return try await log.read(from: offset, countMax: countMax)
        }

        func firstOffset(atOrAfterTimeMs timestampMs: Int64) async throws(EventSourceError) -> UInt64 {
            try await log.firstOffset(atOrAfterTimeMs: timestampMs)
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func atMostTheCapOfLanesReadAheadAtOnceAndEveryLaneReachesTheHead() async throws {
        let harness = try DispatcherHarness("catchup")
        defer { harness.close() }
        let log = harness.log
        // 20,000 events, far more than the scan window keeps behind the head: lanes starting at 0 read ahead.
        // One in 1,000 is for the webhooks, so the test measures reading, not delivering.
        for batch in 0..<20 {
            _ = try await log.append(batch: (0..<1000).map { number in
                NewEvent(organizationID: "org_a", type: number == 0 ? "user.login" : "audit.noise", eventID: "evt_\(batch)_\(number)",
                         data: Array("{}".utf8))
            })
        }
        let head = log.nextOffset
        let source = GatedSource(log: log)
        var configuration = try DispatcherHarness.configuration(DispatcherHarness.CountingTransport())
        configuration.catchUpReaderCountMax = 3
        let lanes = (0..<12).map { LaneDriver.subscription(id: "wh_\($0)", maxInFlight: 16) }
        let dispatcher = try await harness.startDispatcher(configuration, source: source, subscriptions: lanes)
        defer { dispatcher.stop() }

        // Twelve lanes want to read; while the reads are held, only three are under way.
        try await DispatcherHarness.wait(seconds: 30) { source.counts.withLock { $0.calls } >= 3 }
        #expect(source.counts.withLock { $0.inFlight } == 3, "the cap of reads under way")
        source.opened.store(true, ordering: .relaxed)

        func behind() -> [String] { lanes.map(\.id).filter { (dispatcher.progress($0)?.cursor ?? 0) < head } }
        try await DispatcherHarness.wait(seconds: 90) { behind().isEmpty }
        #expect(behind().isEmpty, "every lane reached the head: \(behind())")
        let counts = source.counts.withLock { $0 }
        #expect(counts.inFlightMax == 3, "never more than the cap at once, and the cap was used: \(counts.inFlightMax)")
        #expect(counts.calls >= 12, "every lane read ahead")
        for lane in lanes {
            #expect(dispatcher.history.statistics(webhookID: lane.id).succeeded == 20)
        }
    }
}
