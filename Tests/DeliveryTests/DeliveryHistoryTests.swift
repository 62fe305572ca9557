import Foundation
import Testing
@testable import Delivery

/// The delivery history's bounds: bodies on disk, a memory budget across webhooks, restart without reading the
/// history, the last 10,000 deliveries listable.
@Suite struct DeliveryHistoryTests {
    static func directory() -> String { NSTemporaryDirectory() + "argus-history-\(UUID().uuidString.prefix(8))" }

    static func record(_ webhookID: String, _ number: Int, body: String, status: DeliveryRecord.Status = .failed) -> DeliveryRecord {
        DeliveryRecord(deliveryID: DeliveryID.make(webhookID: webhookID, offset: UInt64(number)), webhookID: webhookID, offset: UInt64(number),
                       eventID: "evt_\(number)", eventType: "user.login", status: status,
                       attempts: [DeliveryAttempt(attempt: 1, startedAtMs: 1_000, durationMs: 2, statusCode: 500, responseBody: body, error: nil)],
                       nextAttemptAtMs: nil)
    }

    @Test func bodiesStayOnDiskAndMemoryStaysWithinTheBudgetAcrossWebhooks() throws {
        let path = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let budget = 100_000
        let history = try DeliveryHistory(directory: path, memoryBytesMax: budget)
        // 4 KiB of control bytes per answer, as a hostile receiver sends.
        let body = String(repeating: "\u{1}\u{7f}\u{1b}[0m", count: 800)
        for webhook in 0..<10 {
            for number in 0..<100 { history.record(Self.record("wh_\(webhook)", number, body: body), countingAttempt: (false, 1_000)) }
        }
        #expect(history.memoryBytes <= budget)
        #expect(history.memoryBytes > 0)
        let summary = try #require(history.summary(DeliveryID.make(webhookID: "wh_3", offset: 7), webhookID: "wh_3"))
        #expect(summary.attempts[0].responseBody.isEmpty, "memory holds no bodies")
        let full = try #require(history.delivery(DeliveryID.make(webhookID: "wh_3", offset: 7), webhookID: "wh_3"))
        #expect(full.attempts[0].responseBody == body, "the body is read back from disk")
        for webhook in 0..<10 {
            let page = history.list(webhookID: "wh_\(webhook)", status: nil, after: nil, limit: 2_000).page
            #expect(page.count == 100)
            #expect(page.first?.offset == 99 && page.first?.attempts.first?.responseBody == body)
            #expect(history.memoryBytes <= budget + 60_000, "one webhook in use beyond the budget at most")
        }
        #expect(history.statistics(webhookID: "wh_9").attempts == 100)
    }

    @Test func reopeningReadsOnlyStatisticsAndLoadsAWebhookOnFirstUse() throws {
        let path = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let history = try DeliveryHistory(directory: path)
            for webhook in 0..<3 {
                for number in 0..<100 {
                    history.record(Self.record("wh_\(webhook)", number, body: "nope", status: number % 2 == 0 ? .succeeded : .failed),
                                   countingAttempt: (number % 2 == 0, Int64(number)), finalFailure: number % 2 == 1)
                }
            }
        }
        // A torn last line (a crash mid-write) must not hide the statistics or the records.
        let handle = try #require(FileHandle(forWritingAtPath: path + "/wh_2.jsonl"))
        handle.seekToEndOfFile()
        handle.write(Data(#"{"id":"torn","webhook_"#.utf8))
        try handle.close()
        let reopened = try DeliveryHistory(directory: path)
        #expect(reopened.loadCount == 0, "opening parses no history")
        #expect(reopened.memoryBytes == 0)
        let statistics = reopened.statistics(webhookID: "wh_1")
        #expect(statistics.attempts == 100 && statistics.succeeded == 50 && statistics.failed == 50 && statistics.consecutiveFailures == 1)
        #expect(reopened.statistics(webhookID: "wh_2").attempts == 100)
        #expect(reopened.loadCount == 0)
        #expect(reopened.list(webhookID: "wh_2", status: .failed, after: nil, limit: 1_000).page.count == 50)
        #expect(reopened.loadCount == 1)
        #expect(reopened.summary(DeliveryID.make(webhookID: "wh_2", offset: 4), webhookID: "wh_2")?.status == .succeeded)
        #expect(reopened.loadCount == 1)
    }

    @Test func theLastRecordCountMaxDeliveriesStayListableThroughTrimmingAndCompaction() throws {
        let path = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(DeliveryLimits.historyRecordCountMax >= 10_000)
        #expect(try DeliveryHistory(directory: path).recordCountMax == DeliveryLimits.historyRecordCountMax)
        // A small limit keeps the test light; the code paths are those of 10,000.
        let keep = 200
        let history = try DeliveryHistory(directory: path, recordCountMax: keep)
        let count = 2 * keep + 50
        for number in 0..<count { history.record(Self.record("wh_1", number, body: "b\(number)"), countingAttempt: (false, 1)) }
        var listed: [DeliveryRecord] = []
        var after: String?
        while true {
            let (page, more) = history.list(webhookID: "wh_1", status: nil, after: after, limit: 50)
            listed += page
            after = page.last?.deliveryID
            if !more { break }
        }
        #expect(listed.count >= keep && listed.count <= keep + keep / 10)
        #expect(listed.prefix(keep).map(\.offset) == (0..<UInt64(keep)).map { UInt64(count - 1) - $0 })
        #expect(listed.first?.attempts.first?.responseBody == "b\(count - 1)")
        // The file was compacted: it holds about the kept deliveries, not every line ever written.
        let lines = try String(contentsOfFile: path + "/wh_1.jsonl", encoding: .utf8).split(separator: "\n").count
        #expect(lines < 4 * keep)
        let reopened = try DeliveryHistory(directory: path, recordCountMax: keep)
        #expect(reopened.list(webhookID: "wh_1", status: nil, after: nil, limit: 1).page.first?.attempts.first?.responseBody == "b\(count - 1)")
    }

    @Test func aDeliveryKeepsItsLastFiftyAttempts() throws {
        let path = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let history = try DeliveryHistory(directory: path)
        let id = DeliveryID.make(webhookID: "wh_1", offset: 3)
        for number in 1...120 {
            let attempt = DeliveryAttempt(attempt: number, startedAtMs: 1, durationMs: 1, statusCode: 500, responseBody: "", error: nil)
            history.apply(DeliveryUpdate(deliveryID: id, offset: 3, eventID: "evt_3", eventType: "user.login", status: .pending,
                                         nextAttemptAtMs: 5, attempt: attempt, finalFailure: false), webhookID: "wh_1", nowMs: 1)
        }
        let record = try #require(history.delivery(id, webhookID: "wh_1"))
        #expect(record.attempts.count == DeliveryLimits.attemptsPerDeliveryMax)
        #expect(record.attempts.last?.attempt == 120)
    }

    @Test func aKeptBodyIsAtMostFourKiBOfUTF8WhateverTheBytes() {
        let limit = DeliveryLimits.responseBodySizeBytesMax
        let cases: [(String, [UInt8])] = [
            ("ascii", Array(repeating: UInt8(ascii: "x"), count: 10_000)),
            ("3-byte characters split by the cut", Array(String(repeating: "€", count: 2_000).utf8)),
            ("4-byte characters split by the cut", Array(String(repeating: "😀", count: 1_500).utf8)),
            ("invalid bytes, each replaced by 3", Array(repeating: 0xFF, count: 5_000)),
            ("short", Array("ok".utf8)),
        ]
        for (name, body) in cases {
            let kept = Array(DeliveryAttempt.keptText(body).utf8)
            #expect(kept.count <= limit && kept.count >= min(body.count, limit) - 3 || name.hasPrefix("invalid"), "\(name): \(kept.count) bytes")
            #expect(kept.count <= limit, "\(name): \(kept.count) bytes")
            if !name.hasPrefix("invalid") {
                let isPrefix = Array(body.prefix(kept.count)) == kept
                #expect(isPrefix, "\(name): a prefix of the body")
            }
        }
    }
}
