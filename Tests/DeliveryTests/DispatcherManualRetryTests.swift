import EventLog
import Foundation
import HTTPClient
import Synchronization
import Testing
import WebhookSigning
@testable import Delivery

/// A manual retry looks the delivery up in the history (which may read a journal, and waits for the history's
/// file lock) before it reaches the dispatcher's command loop: the loop goes on meanwhile.
@Suite struct DispatcherManualRetryTests {
    /// A flag threads and tasks share.
    final class Flag: Sendable {
        private let value = Atomic<Bool>(false)
        func set() { value.store(true, ordering: .releasing) }
        /// Sets it; true when it was not set before.
        func setFirst() -> Bool { !value.exchange(true, ordering: .acquiringAndReleasing) }
        var isSet: Bool { value.load(ordering: .acquiring) }
    }

    /// A history in `directory` holding `event`'s delivery to wh_1 as failed for good, written.
    static func historyWithFailedDelivery(of event: EventRecord, directory: String) throws -> DeliveryHistory {
        let history = try DeliveryHistory(directory: directory)
        history.record(DeliveryRecord(deliveryID: DeliveryID.make(webhookID: "wh_1", offset: event.offset), webhookID: "wh_1",
                                      offset: event.offset, eventID: event.eventID, eventType: event.type, status: .failed,
                                      attempts: [DeliveryAttempt(attempt: 1, startedAtMs: 1_000, durationMs: 1, statusCode: 500,
                                                                 responseBody: "", error: nil)], nextAttemptAtMs: nil),
                       countingAttempt: (false, 1_000), finalFailure: true)
        history.flush()
        return history
    }

    @Test(.timeLimit(.minutes(1)))
    func aRetryWaitingForTheHistoryDoesNotHoldTheDispatchersLoop() async throws {
        let directory = NSTemporaryDirectory() + "argus-manual-retry-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = try EventLog(directory: directory + "/log")
        defer { log.close() }
        _ = try await log.append(batch: [NewEvent(organizationID: "org_a", type: "user.login", eventID: "evt_0", data: Array("{}".utf8))])
        let event = try #require(try log.readBlocking(from: 0, countMax: 1).first)
        let deliveryID = DeliveryID.make(webhookID: "wh_1", offset: event.offset)
        let history = try Self.historyWithFailedDelivery(of: event, directory: directory + "/deliveries")
        let cursors = try CursorStore(directory: directory + "/cursors")
        try await cursors.commit("wh_1", offset: event.offset + 1)  // at the head: the lane never asks the history
        let publicAddress = try #require(IPAddress("93.184.216.34"))
        let transport = DispatcherHistoryBackpressureTests.CountingTransport()
        let configuration = Dispatcher.Configuration(transport: transport, targetGuard: TargetGuard(resolver: { _ in [publicAddress] }))
        let dispatcher = Dispatcher(log: log, cursors: cursors, history: history, configuration: configuration)
        try await dispatcher.start([LaneDriver.subscription(id: "wh_1")])
        defer { dispatcher.stop() }

        // A slow disk: the history's file lock is held (a listing reading bodies, a compaction).
        let held = DispatchSemaphore(value: 0)
        let holding = Flag()
        let released = Flag()
        func release() { if released.setFirst() { held.signal() } }
        defer { release() }
        Thread {
            history.index.withFiles("wh_1") {
                holding.set()
                held.wait()
            }
        }.start()
        var deadline = ContinuousClock.now + .seconds(10)
        while !holding.isSet, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(holding.isSet, "waited for the test's thread to hold the history's file lock")

        let started = Flag()
        let retry = Task {
            started.set()
            return await dispatcher.retryDelivery(deliveryID, webhookID: "wh_1")
        }
        deadline = ContinuousClock.now + .seconds(10)
        while !started.isSet, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        // The loop still answers (a replay goes through it) while the retry waits for the history.
        let replayed = Flag()
        let replay = Task {
            try await dispatcher.replay("wh_1", from: event.offset + 1)
            replayed.set()
        }
        deadline = ContinuousClock.now + .seconds(10)
        while !replayed.isSet, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(replayed.isSet, "waited for the dispatcher's loop to answer a replay while a retry waits for the history")
        release()
        try await replay.value
        #expect(await retry.value == .accepted, "the retry goes on once the history answers")
    }

    /// A log of 200 events whose first segments retention removed, and its first event (now only in an archive).
    static func logWithoutItsFirstEvent(directory: String) async throws -> (EventLog, EventRecord) {
        var options = EventLogOptions()
        options.segmentSizeBytesMax = 4096
        let log = try EventLog(directory: directory, options: options)
        for start in stride(from: 0, to: 200, by: 50) {
            _ = try await log.append(batch: (start..<start + 50).map { number in
                NewEvent(organizationID: "org_a", type: "user.login", eventID: "evt_\(number)", data: Array("{}".utf8))
            })
        }
        let event = try #require(try log.readBlocking(from: 0, countMax: 1).first)
        _ = try log.applyRetention(RetentionPolicy(sizeBytesMax: 1), consumersFloor: .max)
        #expect(try log.firstRetainedOffset() > event.offset, "the event is gone from the local log")
        return (log, event)
    }

    /// An archive whose reads wait until the test lets them go, serving `event`.
    final class HeldSource: EventSource {
        let event: EventRecord
        let reading = Flag()
        let released = Flag()
        init(event: EventRecord) { self.event = event }
        var nextOffset: UInt64 { event.offset + 1 }

        func read(from offset: UInt64, countMax: Int) async throws(EventSourceError) -> [EventRecord] {
            reading.set()
            let deadline = ContinuousClock.now + .seconds(30)
            while !released.isSet, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(5)) }
            return offset == event.offset ? [event] : []
        }

        func firstOffset(atOrAfterTimeMs timestampMs: Int64) async throws(EventSourceError) -> UInt64 { 0 }
    }

    /// A retry of a delivery whose event retention removed from the local log reads it from the archive before
    /// the command reaches the loop: a slow archive holds only that retry, the loop goes on.
    @Test(.timeLimit(.minutes(1)))
    func aRetryReadingItsEventFromTheArchiveDoesNotHoldTheDispatchersLoop() async throws {
        let directory = NSTemporaryDirectory() + "argus-manual-retry-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (log, event) = try await Self.logWithoutItsFirstEvent(directory: directory + "/log")
        defer { log.close() }
        let deliveryID = DeliveryID.make(webhookID: "wh_1", offset: event.offset)
        let history = try Self.historyWithFailedDelivery(of: event, directory: directory + "/deliveries")
        let cursors = try CursorStore(directory: directory + "/cursors")
        try await cursors.commit("wh_1", offset: log.nextOffset)  // at the head: the lane reads nothing else
        let publicAddress = try #require(IPAddress("93.184.216.34"))
        let transport = DispatcherHistoryBackpressureTests.CountingTransport()
        let configuration = Dispatcher.Configuration(transport: transport, targetGuard: TargetGuard(resolver: { _ in [publicAddress] }))
        let source = HeldSource(event: event)
        defer { source.released.set() }
        let dispatcher = Dispatcher(log: log, source: source, cursors: cursors, history: history, configuration: configuration)
        try await dispatcher.start([LaneDriver.subscription(id: "wh_1")])
        defer { dispatcher.stop() }

        let retry = Task { await dispatcher.retryDelivery(deliveryID, webhookID: "wh_1") }
        var deadline = ContinuousClock.now + .seconds(10)
        while !source.reading.isSet, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(source.reading.isSet, "waited for the retry to read the archive")
        // The loop still answers (a replay goes through it) while the archive is slow.
        let replayed = Flag()
        let replay = Task {
            try await dispatcher.replay("wh_1", from: log.nextOffset)
            replayed.set()
        }
        deadline = ContinuousClock.now + .seconds(10)
        while !replayed.isSet, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(replayed.isSet, "waited for the dispatcher's loop to answer a replay while a retry reads the archive")
        source.released.set()
        try await replay.value
        #expect(await retry.value == .accepted, "the retry goes on once the archive answers")
        deadline = ContinuousClock.now + .seconds(10)
        while transport.count == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(transport.count == 1, "the retried delivery went out")
    }

    /// A retry of a delivery that succeeded is answered `notRetryable` without reading its event (a slow or
    /// unreachable archive does not delay the 409).
    @Test(.timeLimit(.minutes(1)))
    func aSucceededDeliveryIsNotRetryableAndItsEventIsNotRead() async throws {
        let directory = NSTemporaryDirectory() + "argus-manual-retry-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (log, event) = try await Self.logWithoutItsFirstEvent(directory: directory + "/log")
        defer { log.close() }
        let deliveryID = DeliveryID.make(webhookID: "wh_1", offset: event.offset)
        let history = try DeliveryHistory(directory: directory + "/deliveries")
        history.record(DeliveryRecord(deliveryID: deliveryID, webhookID: "wh_1", offset: event.offset, eventID: event.eventID,
                                      eventType: event.type, status: .succeeded,
                                      attempts: [DeliveryAttempt(attempt: 1, startedAtMs: 1_000, durationMs: 1, statusCode: 204,
                                                                 responseBody: "", error: nil)], nextAttemptAtMs: nil),
                       countingAttempt: (true, 1_000))
        history.flush()
        let cursors = try CursorStore(directory: directory + "/cursors")
        try await cursors.commit("wh_1", offset: log.nextOffset)
        let publicAddress = try #require(IPAddress("93.184.216.34"))
        let configuration = Dispatcher.Configuration(transport: DispatcherHistoryBackpressureTests.CountingTransport(),
                                                     targetGuard: TargetGuard(resolver: { _ in [publicAddress] }))
        let source = HeldSource(event: event)
        defer { source.released.set() }
        let dispatcher = Dispatcher(log: log, source: source, cursors: cursors, history: history, configuration: configuration)
        try await dispatcher.start([LaneDriver.subscription(id: "wh_1")])
        defer { dispatcher.stop() }
        let deadline = ContinuousClock.now + .seconds(10)
        while dispatcher.progress("wh_1") == nil, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(dispatcher.progress("wh_1") != nil, "waited for the dispatcher to run")
        #expect(await dispatcher.retryDelivery(deliveryID, webhookID: "wh_1") == .notRetryable(.succeeded))
        #expect(!source.reading.isSet, "the archive was not asked")
    }
}
