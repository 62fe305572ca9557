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
        let harness = try DispatcherHarness("manual-retry")
        defer { harness.close() }
        try await harness.appendUserLogins(0..<1)
        let event = try #require(try harness.log.readBlocking(from: 0, countMax: 1).first)
        let deliveryID = DeliveryID.make(webhookID: "wh_1", offset: event.offset)
        let history = try Self.historyWithFailedDelivery(of: event, directory: harness.directory + "/deliveries")
        try await harness.cursors().commit("wh_1", offset: event.offset + 1)  // at the head: the lane never asks the history
        let dispatcher = try await harness.startDispatcher(try DispatcherHarness.configuration(DispatcherHarness.CountingTransport()),
                                                           history: history)
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
        #expect(try await DispatcherHarness.wait(seconds: 10) { holding.isSet }, "waited for the test's thread to hold the history's file lock")

        let started = Flag()
        let retry = Task {
            started.set()
            return await dispatcher.retryDelivery(deliveryID, webhookID: "wh_1")
        }
        try await DispatcherHarness.wait(seconds: 10) { started.isSet }
        // The loop still answers (a replay goes through it) while the retry waits for the history.
        let replayed = Flag()
        let replay = Task {
            try await dispatcher.replay("wh_1", from: event.offset + 1)
            replayed.set()
        }
        #expect(try await DispatcherHarness.wait(seconds: 10) { replayed.isSet },
                "waited for the dispatcher's loop to answer a replay while a retry waits for the history")
        release()
        try await replay.value
        #expect(await retry.value == .accepted, "the retry goes on once the history answers")
    }

    /// A harness whose log holds 200 events in 4 KiB segments, the first segments removed by retention, and its
    /// first event (now only in an archive).
    static func logWithoutItsFirstEvent() async throws -> (DispatcherHarness, EventRecord) {
        var options = EventLogOptions()
        options.segmentSizeBytesMax = 4096
        let harness = try DispatcherHarness("manual-retry", options: options)
        for start in stride(from: 0, to: 200, by: 50) { try await harness.appendUserLogins(start..<start + 50) }
        let event = try #require(try harness.log.readBlocking(from: 0, countMax: 1).first)
        _ = try harness.log.applyRetention(RetentionPolicy(sizeBytesMax: 1), consumersFloor: .max)
        #expect(try harness.log.firstRetainedOffset() > event.offset, "the event is gone from the local log")
        return (harness, event)
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
        let (harness, event) = try await Self.logWithoutItsFirstEvent()
        defer { harness.close() }
        let log = harness.log
        let deliveryID = DeliveryID.make(webhookID: "wh_1", offset: event.offset)
        let history = try Self.historyWithFailedDelivery(of: event, directory: harness.directory + "/deliveries")
        try await harness.cursors().commit("wh_1", offset: log.nextOffset)  // at the head: the lane reads nothing else
        let transport = DispatcherHarness.CountingTransport()
        let source = HeldSource(event: event)
        defer { source.released.set() }
        let dispatcher = try await harness.startDispatcher(try DispatcherHarness.configuration(transport), history: history, source: source)
        defer { dispatcher.stop() }

        let retry = Task { await dispatcher.retryDelivery(deliveryID, webhookID: "wh_1") }
        #expect(try await DispatcherHarness.wait(seconds: 10) { source.reading.isSet }, "waited for the retry to read the archive")
        // The loop still answers (a replay goes through it) while the archive is slow.
        let replayed = Flag()
        let replay = Task {
            try await dispatcher.replay("wh_1", from: log.nextOffset)
            replayed.set()
        }
        #expect(try await DispatcherHarness.wait(seconds: 10) { replayed.isSet },
                "waited for the dispatcher's loop to answer a replay while a retry reads the archive")
        source.released.set()
        try await replay.value
        #expect(await retry.value == .accepted, "the retry goes on once the archive answers")
        try await DispatcherHarness.wait(seconds: 10) { transport.count > 0 }
        #expect(transport.count == 1, "the retried delivery went out")
    }

    /// A retry of a delivery that succeeded is answered `notRetryable` without reading its event (a slow or
    /// unreachable archive does not delay the 409).
    @Test(.timeLimit(.minutes(1)))
    func aSucceededDeliveryIsNotRetryableAndItsEventIsNotRead() async throws {
        let (harness, event) = try await Self.logWithoutItsFirstEvent()
        defer { harness.close() }
        let deliveryID = DeliveryID.make(webhookID: "wh_1", offset: event.offset)
        let history = try DeliveryHistory(directory: harness.directory + "/deliveries")
        history.record(DeliveryRecord(deliveryID: deliveryID, webhookID: "wh_1", offset: event.offset, eventID: event.eventID,
                                      eventType: event.type, status: .succeeded,
                                      attempts: [DeliveryAttempt(attempt: 1, startedAtMs: 1_000, durationMs: 1, statusCode: 204,
                                                                 responseBody: "", error: nil)], nextAttemptAtMs: nil),
                       countingAttempt: (true, 1_000))
        history.flush()
        try await harness.cursors().commit("wh_1", offset: harness.log.nextOffset)
        let source = HeldSource(event: event)
        defer { source.released.set() }
        let dispatcher = try await harness.startDispatcher(try DispatcherHarness.configuration(DispatcherHarness.CountingTransport()),
                                                           history: history, source: source)
        defer { dispatcher.stop() }
        #expect(try await DispatcherHarness.wait(seconds: 10) { dispatcher.progress("wh_1") != nil }, "waited for the dispatcher to run")
        #expect(await dispatcher.retryDelivery(deliveryID, webhookID: "wh_1") == .notRetryable(.succeeded))
        #expect(!source.reading.isSet, "the archive was not asked")
    }
}
