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

    /// Acknowledges every delivery without a request.
    struct Acknowledging: DeliveryTransport {
        func post(url: URL, headers: [HeaderField], body: [UInt8], timeoutSeconds: Double) async -> TransportResult {
            TransportResult(statusCode: 204, durationMs: 0)
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func atMostTheCapOfLanesReadAheadAtOnceAndEveryLaneReachesTheHead() async throws {
        let directory = NSTemporaryDirectory() + "argus-catchup-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = try EventLog(directory: directory + "/log")
        defer { log.close() }
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
        let publicAddress = try #require(IPAddress("93.184.216.34"))
        var configuration = Dispatcher.Configuration(transport: Acknowledging(),
                                                     targetGuard: TargetGuard(resolver: { _ in [publicAddress] }))
        configuration.catchUpReaderCountMax = 3
        let dispatcher = Dispatcher(log: log, source: source, cursors: try CursorStore(directory: directory + "/cursors"),
                                    history: try DeliveryHistory(directory: directory + "/deliveries"), configuration: configuration)
        let lanes = (0..<12).map { LaneDriver.subscription(id: "wh_\($0)", maxInFlight: 16) }
        try await dispatcher.start(lanes)
        defer { dispatcher.stop() }

        // Twelve lanes want to read; while the reads are held, only three are under way.
        var deadline = ContinuousClock.now + .seconds(30)
        while source.counts.withLock({ $0.calls }) < 3, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(source.counts.withLock { $0.inFlight } == 3, "the cap of reads under way")
        source.opened.store(true, ordering: .relaxed)

        deadline = ContinuousClock.now + .seconds(90)
        func behind() -> [String] { lanes.map(\.id).filter { (dispatcher.progress($0)?.cursor ?? 0) < head } }
        while !behind().isEmpty, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(behind().isEmpty, "every lane reached the head: \(behind())")
        let counts = source.counts.withLock { $0 }
        #expect(counts.inFlightMax == 3, "never more than the cap at once, and the cap was used: \(counts.inFlightMax)")
        #expect(counts.calls >= 12, "every lane read ahead")
        for lane in lanes {
            #expect(dispatcher.history.statistics(webhookID: lane.id).succeeded == 20)
        }
    }
}
