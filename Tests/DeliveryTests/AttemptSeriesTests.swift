import Foundation
import Testing
@testable import Delivery

/// `AttemptSeries` and `DeliveryHistory.attemptSeries`: attempts and failures per time bucket, from the history.
@Suite struct AttemptSeriesTests {
    static func attempt(_ number: Int, atMs: Int64, status: Int?) -> DeliveryAttempt {
        DeliveryAttempt(attempt: number, startedAtMs: atMs, durationMs: 1, statusCode: status, responseBody: "", error: status == nil ? "refused" : nil)
    }

    static func delivery(_ webhookID: String, _ offset: Int, attempts: [DeliveryAttempt]) -> DeliveryRecord {
        DeliveryRecord(deliveryID: DeliveryID.make(webhookID: webhookID, offset: UInt64(offset)), webhookID: webhookID, offset: UInt64(offset),
                       eventID: "evt_\(offset)", eventType: "user.login",
                       status: attempts.last.map { AttemptSeries.isAcknowledged($0) } == true ? .succeeded : .failed,
                       attempts: attempts, nextAttemptAtMs: nil)
    }

    @Test func countsEachAttemptInItsBucketAndIgnoresTheOutside() {
        var series = AttemptSeries(startMs: 10_000, bucketMs: 1_000, bucketCount: 3)
        #expect(series.endMs == 13_000 && series.buckets.map(\.startMs) == [10_000, 11_000, 12_000])
        for (atMs, status) in [(9_999, 200), (10_000, 200), (10_999, 500), (11_000, nil), (12_999, 204), (13_000, 500)] as [(Int64, Int?)] {
            series.count(Self.attempt(1, atMs: atMs, status: status))
        }
        #expect(series.buckets.map(\.attempts) == [2, 1, 1])
        #expect(series.buckets.map(\.failed) == [1, 1, 0])
        for status in [199, 300, 410, 429, 503] { #expect(!AttemptSeries.isAcknowledged(Self.attempt(1, atMs: 0, status: status))) }
        #expect(AttemptSeries(startMs: 0, bucketMs: 0, bucketCount: 0).buckets.count == 1, "clamped to one bucket of 1 ms")
    }

    @Test func historySeriesCountsEveryAttemptOfTheWebhookOnly() throws {
        let path = NSTemporaryDirectory() + "argus-series-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let history = try DeliveryHistory(directory: path)
        history.record(Self.delivery("wh_a", 0, attempts: [Self.attempt(1, atMs: 1_500, status: 500), Self.attempt(2, atMs: 2_500, status: 200)]))
        history.record(Self.delivery("wh_a", 1, attempts: [Self.attempt(1, atMs: 2_600, status: nil)]))
        history.record(Self.delivery("wh_b", 0, attempts: [Self.attempt(1, atMs: 2_700, status: 500)]))
        var series = AttemptSeries(startMs: 1_000, bucketMs: 1_000, bucketCount: 2)
        history.attemptSeries(webhookID: "wh_a", into: &series)
        #expect(series.buckets.map(\.attempts) == [1, 2] && series.buckets.map(\.failed) == [1, 1] && series.isComplete)
        var none = AttemptSeries(startMs: 1_000, bucketMs: 1_000, bucketCount: 2)
        history.attemptSeries(webhookID: "wh_unknown", into: &none)
        #expect(none.buckets.map(\.attempts) == [0, 0] && none.isComplete)
        // From the file after a restart, as from memory (the writer thread has written what was queued).
        history.flush()
        let reopened = try DeliveryHistory(directory: path)
        var again = AttemptSeries(startMs: 1_000, bucketMs: 1_000, bucketCount: 2)
        reopened.attemptSeries(webhookID: "wh_a", into: &again)
        #expect(again == series)
    }

    @Test func saysWhenTheHistoryNoLongerHoldsTheWholeWindow() throws {
        let path = NSTemporaryDirectory() + "argus-series-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let keep = 20
        let history = try DeliveryHistory(directory: path, recordCountMax: keep)
        for offset in 0..<(keep - 1) { history.record(Self.delivery("wh_a", offset, attempts: [Self.attempt(1, atMs: 5_000 + Int64(offset), status: 200)])) }
        var below = AttemptSeries(startMs: 0, bucketMs: 10_000, bucketCount: 1)
        history.attemptSeries(webhookID: "wh_a", into: &below)
        #expect(below.isComplete && below.buckets[0].attempts == keep - 1, "fewer deliveries than the history keeps: nothing was trimmed")
        for offset in (keep - 1)..<(3 * keep) { history.record(Self.delivery("wh_a", offset, attempts: [Self.attempt(1, atMs: 5_000 + Int64(offset), status: 200)])) }
        var trimmed = AttemptSeries(startMs: 0, bucketMs: 10_000, bucketCount: 1)
        history.attemptSeries(webhookID: "wh_a", into: &trimmed)
        #expect(!trimmed.isComplete, "the oldest kept delivery started inside the window")
        #expect(trimmed.buckets[0].attempts >= keep && trimmed.buckets[0].attempts <= keep + keep / 10, "only what the history keeps")
        var later = AttemptSeries(startMs: 5_000 + Int64(3 * keep) - 5, bucketMs: 10_000, bucketCount: 1)
        history.attemptSeries(webhookID: "wh_a", into: &later)
        #expect(later.isComplete && later.buckets[0].attempts == 5, "a window after the oldest kept delivery is whole")
        // A delivery that dropped its first attempts (kept only the latest) inside the window.
        history.record(Self.delivery("wh_b", 0, attempts: [Self.attempt(7, atMs: 5_000, status: 500)]))
        var dropped = AttemptSeries(startMs: 0, bucketMs: 10_000, bucketCount: 1)
        history.attemptSeries(webhookID: "wh_b", into: &dropped)
        #expect(!dropped.isComplete)
    }
}
