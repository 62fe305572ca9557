import Foundation
import JSON
import Synchronization
import SystemIO
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
            history.endTurn()
        }
        // Entries whose changes the writer has not finished stay in memory until it has (at most the queue limit).
        history.flush()
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
        // A torn last record (a crash mid-write) must not hide the statistics or the records.
        let handle = try #require(FileHandle(forWritingAtPath: path + "/wh_2.journal"))
        handle.seekToEndOfFile()
        handle.write(Data([200, 0, 0, 0, 1, 2, 3, 4] + Array(#"{"id":"torn","webhook_"#.utf8)))
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

    /// A journal that cannot be read (EIO, EMFILE; here EISDIR: a directory stands where the journal was) is not
    /// "no deliveries": the index stays out of memory (the dispatcher would otherwise send again what succeeded,
    /// and the next compaction would drop the stored history), and a later load reads it all.
    @Test func aJournalThatCannotBeReadLeavesTheIndexNotLoadedAndALaterLoadReadsIt() throws {
        let path = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let history = try DeliveryHistory(directory: path)
            for number in 0..<20 { history.record(Self.record("wh_1", number, body: "ok", status: .succeeded), countingAttempt: (true, 1_000)) }
        }
        let journal = path + "/wh_1.journal"
        try FileManager.default.moveItem(atPath: journal, toPath: path + "/aside")
        try FileManager.default.createDirectory(atPath: journal, withIntermediateDirectories: false)
        let history = try DeliveryHistory(directory: path)
        let id = DeliveryID.make(webhookID: "wh_1", offset: 3)
        #expect(throws: SystemError.self) { try history.preload("wh_1") }
        #expect(history.cachedSummary(id, webhookID: "wh_1") == .notLoaded, "a failed read is not an empty history")
        #expect(history.loadCount == 0)
        #expect(history.summary(id, webhookID: "wh_1") == nil)
        #expect(history.cachedSummary(id, webhookID: "wh_1") == .notLoaded)
        // The disk recovers: the next load reads every delivery.
        try FileManager.default.removeItem(atPath: journal)
        try FileManager.default.moveItem(atPath: path + "/aside", toPath: journal)
        try history.preload("wh_1")
        #expect(history.cachedSummary(id, webhookID: "wh_1") == .found(DeliveryHistory.stripped(Self.record("wh_1", 3, body: "ok", status: .succeeded))))
        #expect(history.list(webhookID: "wh_1", status: nil, after: nil, limit: 100).page.count == 20)
    }

    /// One webhook's journal lock held (a listing reading bodies from a slow disk, a compaction) does not hold
    /// up the writer for another webhook.
    @Test(.timeLimit(.minutes(1)))
    func aWebhooksSlowReadDoesNotHoldUpTheWriterForAnother() throws {
        let path = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let history = try DeliveryHistory(directory: path)
        history.record(Self.record("wh_a", 0, body: "a"))
        history.flush()
        let held = DispatchSemaphore(value: 0)
        let holding = DispatchSemaphore(value: 0)
        let flushed = DispatchSemaphore(value: 0)
        Thread {
            history.index.withFiles("wh_a") {
                holding.signal()
                held.wait()
            }
        }.start()
        #expect(holding.wait(timeout: .now() + 10) == .success, "waited for the test's thread to hold wh_a's lock")
        history.record(Self.record("wh_b", 0, body: "b"))
        Thread {
            history.flush()
            flushed.signal()
        }.start()
        #expect(flushed.wait(timeout: .now() + 10) == .success, "waited for wh_b's change to be written while wh_a's lock is held")
        held.signal()
        #expect(history.delivery(DeliveryID.make(webhookID: "wh_b", offset: 0), webhookID: "wh_b")?.attempts.first?.responseBody == "b")
    }

    @Test func theLastRecordCountMaxDeliveriesStayListableThroughTrimmingAndCompaction() throws {
        let path = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(DeliveryLimits.History.recordCountMax >= 10_000)
        #expect(try DeliveryHistory(directory: path).recordCountMax == DeliveryLimits.History.recordCountMax)
        // A small limit keeps the test light; the code paths are those of 10,000.
        let keep = 200
        let history = try DeliveryHistory(directory: path, recordCountMax: keep)
        let count = 4 * keep + 50
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
        // The journal was compacted: it holds about the kept deliveries, not every record ever written.
        history.flush()
        let records = try Journal.read(path: path + "/wh_1.journal", recordSizeBytesMax: history.recordSizeBytesMax).count
        #expect(records < 4 * keep)
        #expect(records >= keep)
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
        #expect(record.attempts.count == DeliveryLimits.Attempts.countPerDeliveryMax)
        #expect(record.attempts.last?.attempt == 120)
    }

    @Test func aKeptBodyIsAtMostFourKiBOfUTF8WhateverTheBytes() {
        let limit = DeliveryLimits.Attempts.responseBodySizeBytesMax
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

    // MARK: - The journal

    /// The JSON-lines format before the journal: one line per change, each followed by a statistics line.
    static func legacyLines(_ records: [DeliveryRecord], statistics: DeliveryHistory.Statistics) -> [UInt8] {
        var bytes: [UInt8] = []
        for record in records {
            bytes += record.storedJSON.encoded() + [UInt8(ascii: "\n")]
            bytes += JSONValue.object([("statistics", statistics.json)]).encoded() + [UInt8(ascii: "\n")]
        }
        return bytes
    }

    @Test func aLegacyJSONLinesHistoryIsConvertedOnceAndReadsTheSame() throws {
        let path = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        var statistics = DeliveryHistory.Statistics()
        statistics.attempts = 7
        statistics.failed = 2
        statistics.consecutiveFailures = 3
        // Delivery 1 changes twice (the last line wins); a torn last line (a crash mid-write) is skipped.
        var legacy = Self.legacyLines([Self.record("wh_1", 1, body: "first"), Self.record("wh_1", 2, body: "second"),
                                       Self.record("wh_1", 1, body: "again", status: .succeeded)], statistics: statistics)
        legacy += Array(#"{"id":"torn","webhook_"#.utf8)
        try Data(legacy).write(to: URL(fileURLWithPath: path + "/wh_1.jsonl"))
        do {
            let history = try DeliveryHistory(directory: path)
            #expect(!FileManager.default.fileExists(atPath: path + "/wh_1.jsonl"), "the old file is gone")
            #expect(FileManager.default.fileExists(atPath: path + "/wh_1.journal"))
            #expect(history.statistics(webhookID: "wh_1") == statistics)
            let page = history.list(webhookID: "wh_1", status: nil, after: nil, limit: 10).page
            #expect(page.map(\.offset) == [2, 1])
            #expect(page.map { $0.attempts.first?.responseBody } == ["second", "again"])
            #expect(page.last?.status == .succeeded)
            history.record(Self.record("wh_1", 3, body: "third"), countingAttempt: (true, 5))
        }
        let reopened = try DeliveryHistory(directory: path)
        #expect(reopened.statistics(webhookID: "wh_1").attempts == 8)
        #expect(reopened.list(webhookID: "wh_1", status: nil, after: nil, limit: 10).page.map(\.offset) == [3, 2, 1])
        #expect(reopened.delivery(DeliveryID.make(webhookID: "wh_1", offset: 1), webhookID: "wh_1")?.attempts.first?.responseBody == "again")
    }

    @Test func aTornTailIsCutOffAndLaterChangesFollowTheLastGoodRecord() throws {
        let path = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let history = try DeliveryHistory(directory: path)
            for number in 0..<5 { history.record(Self.record("wh_1", number, body: "b\(number)")) }
        }
        // Half of the last record: a crash mid-append.
        var bytes = try #require(FileManager.default.contents(atPath: path + "/wh_1.journal"))
        bytes.removeLast(10)
        try bytes.write(to: URL(fileURLWithPath: path + "/wh_1.journal"))
        do {
            let history = try DeliveryHistory(directory: path)
            #expect(history.list(webhookID: "wh_1", status: nil, after: nil, limit: 10).page.map(\.offset) == [3, 2, 1, 0])
            history.record(Self.record("wh_1", 9, body: "after"))
        }
        let reopened = try DeliveryHistory(directory: path)
        let page = reopened.list(webhookID: "wh_1", status: nil, after: nil, limit: 10).page
        #expect(page.map(\.offset) == [9, 3, 2, 1, 0], "the new record follows the last good one")
        #expect(page.first?.attempts.first?.responseBody == "after")
    }

    @Test func aCorruptRecordEndsReadingThereAndTheHistoryGoesOn() throws {
        let path = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let history = try DeliveryHistory(directory: path)
            for number in 0..<4 { history.record(Self.record("wh_1", number, body: "body-\(number)")) }
        }
        // One flipped byte inside the third record's body: its CRC fails.
        var bytes = try #require(FileManager.default.contents(atPath: path + "/wh_1.journal"))
        let third = try #require(bytes.indices.filter { bytes[$0...].starts(with: Array("body-2".utf8)) }.first)
        bytes[third] ^= 0x20
        try bytes.write(to: URL(fileURLWithPath: path + "/wh_1.journal"))
        do {
            let history = try DeliveryHistory(directory: path)
            #expect(history.list(webhookID: "wh_1", status: nil, after: nil, limit: 10).page.map(\.offset) == [1, 0])
            history.record(Self.record("wh_1", 7, body: "new"))
            #expect(history.delivery(DeliveryID.make(webhookID: "wh_1", offset: 7), webhookID: "wh_1")?.attempts.first?.responseBody == "new")
        }
        let reopened = try DeliveryHistory(directory: path)
        #expect(reopened.list(webhookID: "wh_1", status: nil, after: nil, limit: 10).page.map(\.offset) == [7, 1, 0])
    }

    @Test func aRecordOverTheSizeLimitLosesItsOldestBodiesNotItsAttempts() throws {
        let path = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let history = try DeliveryHistory(directory: path, recordSizeBytesMax: 2_500)
        let id = DeliveryID.make(webhookID: "wh_1", offset: 3)
        for number in 1...3 {
            let attempt = DeliveryAttempt(attempt: number, startedAtMs: Int64(number), durationMs: 1, statusCode: 500,
                                          responseBody: String(repeating: "\(number)", count: 1_000), error: nil)
            history.apply(DeliveryUpdate(deliveryID: id, offset: 3, eventID: "evt_3", eventType: "user.login", status: .pending,
                                         nextAttemptAtMs: 5, attempt: attempt, finalFailure: false), webhookID: "wh_1", nowMs: 1)
            history.endTurn()
        }
        history.flush()
        let record = try #require(history.delivery(id, webhookID: "wh_1"))
        #expect(record.attempts.map(\.attempt) == [1, 2, 3])
        #expect(record.attempts.map(\.responseBody.count) == [0, 1_000, 1_000])
        for stored in try Journal.read(path: path + "/wh_1.journal", recordSizeBytesMax: 1 << 20) {
            #expect(stored.count <= 2_500)
        }
        #expect(history.writer.failureCount == 0)
    }

    /// Holds the history's writer at its gate until `release()` (or 30 s), and says when it is there.
    final class HeldWriter: Sendable {
        let held = Atomic<Bool>(true)
        let waiting = Atomic<Int>(0)

        func install(on history: DeliveryHistory) {
            history.setWriteGate { [self] in
                waiting.add(1, ordering: .relaxed)
                for _ in 0..<3000 where held.load(ordering: .acquiring) { usleep(10_000) }
            }
        }

        func release() { held.store(false, ordering: .releasing) }

        /// Waits (bounded, 10 s) until the writer holds a batch at the gate.
        func waitUntilHolding() -> Bool {
            for _ in 0..<1000 {
                if waiting.load(ordering: .relaxed) > 0 { return true }
                usleep(10_000)
            }
            return false
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func aFullQueueSaysSoWithoutWaitingAndHasRoomOnceTheWriterCaughtUp() throws {
        let path = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let history = try DeliveryHistory(directory: path, pendingChangeCountMax: 8)
        history.record(Self.record("wh_1", 0, body: "queued"))
        // Nothing is written by the caller: the change waits for the end of the turn and the writer thread.
        let written = try Journal.read(path: path + "/wh_1.journal", recordSizeBytesMax: history.recordSizeBytesMax)
        #expect(written.isEmpty)
        history.flush()
        #expect(try Journal.read(path: path + "/wh_1.journal", recordSizeBytesMax: history.recordSizeBytesMax).count == 1)
        // With the writer held, changes still queue at once (nobody waits for the disk) and the queue says it is full.
        let writer = HeldWriter()
        writer.install(on: history)
        #expect(history.roomForChanges == 8)
        for number in 1...200 {
            history.record(Self.record("wh_\(number % 3)", number, body: "b"))
            history.endTurn()
        }
        #expect(writer.waitUntilHolding(), "the writer took a batch")
        #expect(history.roomForChanges <= 0, "200 changes queued with a limit of 8")
        writer.release()
        history.flush()
        #expect(history.roomForChanges == 8, "room again once the writer caught up")
        let total = history.list(webhookID: "wh_0", status: nil, after: nil, limit: 1_000).page.count
            + history.list(webhookID: "wh_1", status: nil, after: nil, limit: 1_000).page.count
            + history.list(webhookID: "wh_2", status: nil, after: nil, limit: 1_000).page.count
        #expect(total == 201)
        let files = try (0..<3).map { try Journal.read(path: path + "/wh_\($0).journal", recordSizeBytesMax: history.recordSizeBytesMax).count }
        #expect(files.reduce(0, +) == 201)
    }

    /// `apply` to a webhook whose index is out of memory reads no file: the change is kept as a partial one,
    /// merged with the stored record when the index loads (the attempts before it are not lost), and written
    /// by the writer on top of the stored record.
    @Test(.timeLimit(.minutes(1)))
    func aChangeToAnIndexOutOfMemoryKeepsTheEarlierAttempts() throws {
        let path = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let history = try DeliveryHistory(directory: path, memoryBytesMax: 1)
        let id = DeliveryID.make(webhookID: "wh_1", offset: 3)
        func update(_ attempt: Int, _ status: DeliveryRecord.Status) -> DeliveryUpdate {
            DeliveryUpdate(deliveryID: id, offset: 3, eventID: "evt_3", eventType: "user.login", status: status, nextAttemptAtMs: nil,
                           attempt: DeliveryAttempt(attempt: attempt, startedAtMs: Int64(attempt), durationMs: 1,
                                                    statusCode: status == .succeeded ? 200 : 500, responseBody: "body \(attempt)", error: nil),
                           finalFailure: false)
        }
        history.apply(update(1, .pending), webhookID: "wh_1", nowMs: 1)
        history.endTurn()
        // Another webhook's change pushes wh_1's index out of memory (a budget of one byte).
        history.record(Self.record("wh_2", 0, body: "x"))
        history.flush()
        #expect(history.cachedSummary(id, webhookID: "wh_1") == .notLoaded)
        let loads = history.loadCount
        let writer = HeldWriter()
        writer.install(on: history)
        history.apply(update(2, .pending), webhookID: "wh_1", nowMs: 2)
        history.apply(update(3, .succeeded), webhookID: "wh_1", nowMs: 3)
        #expect(history.loadCount == loads, "apply read no file")
        history.endTurn()
        #expect(writer.waitUntilHolding())
        // Loaded while the changes wait for the writer: memory merges them onto the stored record.
        let summary = try #require(history.summary(id, webhookID: "wh_1"))
        #expect(summary.attempts.map(\.attempt) == [1, 2, 3] && summary.status == .succeeded)
        writer.release()
        history.flush()
        let stored = try #require(history.delivery(id, webhookID: "wh_1"))
        #expect(stored.attempts.map(\.responseBody) == ["body 1", "body 2", "body 3"] && stored.status == .succeeded)
        #expect(history.writer.failureCount == 0)

        // The writer's side alone: the index out of memory again, the change written before anyone loads it.
        history.record(Self.record("wh_2", 1, body: "y"))
        history.flush()
        #expect(history.cachedSummary(id, webhookID: "wh_1") == .notLoaded)
        history.apply(update(4, .failed), webhookID: "wh_1", nowMs: 4)
        history.flush()
        let reopened = try DeliveryHistory(directory: path)
        let final = try #require(reopened.delivery(id, webhookID: "wh_1"))
        #expect(final.attempts.map(\.responseBody) == ["body 1", "body 2", "body 3", "body 4"] && final.status == .failed)
    }

    /// The writer appends each webhook's changes of a batch once, also when the webhook was removed and
    /// created again within the batch (it is then in the batch's order twice).
    @Test(.timeLimit(.minutes(1)))
    func aWebhookRemovedAndAddedAgainInOneBatchIsAppendedOnce() throws {
        let path = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let history = try DeliveryHistory(directory: path)
        let writer = HeldWriter()
        writer.install(on: history)
        history.record(Self.record("wh_0", 0, body: "first batch"))
        history.endTurn()
        #expect(writer.waitUntilHolding(), "the writer holds the first batch")
        // These three wait for the writer together: one batch.
        history.record(Self.record("wh_1", 1, body: "before the removal"))
        history.remove(webhookID: "wh_1")
        history.record(Self.record("wh_1", 2, body: "after the removal"))
        history.endTurn()
        writer.release()
        history.flush()
        let records = try Journal.read(path: path + "/wh_1.journal", recordSizeBytesMax: history.recordSizeBytesMax)
        #expect(records.count == 1, "one append of the new webhook's one record, got \(records.count)")
        #expect(history.list(webhookID: "wh_1", status: nil, after: nil, limit: 10).page.map(\.offset) == [2])
        #expect(history.writer.failureCount == 0)
    }

    @Test func aDeletedWebhooksHistoryAndStatisticsAreGoneAfterReopening() throws {
        let path = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let history = try DeliveryHistory(directory: path)
            history.record(Self.record("wh_1", 0, body: "x"), countingAttempt: (true, 1))
            history.record(Self.record("wh_2", 0, body: "y"), countingAttempt: (true, 1))
            history.endTurn()
            history.remove(webhookID: "wh_1")
            history.flush()
            #expect(!FileManager.default.fileExists(atPath: path + "/wh_1.journal"))
        }
        let reopened = try DeliveryHistory(directory: path)
        #expect(reopened.statistics(webhookID: "wh_1").attempts == 0)
        #expect(reopened.statistics(webhookID: "wh_2").attempts == 1)
        #expect(reopened.list(webhookID: "wh_1", status: nil, after: nil, limit: 10).page.isEmpty)
    }

    /// The per-webhook file locks are kept only while in use: after writes, reads and removals of many webhooks
    /// none is left (a deleted webhook's lock goes; the map does not grow with every webhook ever seen).
    @Test func fileLocksAreKeptOnlyWhileInUse() throws {
        let path = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let history = try DeliveryHistory(directory: path)
        for number in 0..<50 { history.record(Self.record("wh_\(number)", number, body: "b")) }
        history.flush()
        for number in 0..<50 { #expect(history.delivery(DeliveryID.make(webhookID: "wh_\(number)", offset: UInt64(number)), webhookID: "wh_\(number)") != nil) }
        for number in 0..<25 { history.remove(webhookID: "wh_\(number)") }
        history.flush()
        #expect(history.index.fileLockCount == 0, "no lock kept after use: \(history.index.fileLockCount)")
        // A lock in use is shared: a reader waits for the holder of the same webhook's lock.
        let entered = Atomic<Bool>(false)
        let release = DispatchSemaphore(value: 0)
        let holder = Thread {
            history.index.withFiles("wh_30") {
                entered.store(true, ordering: .releasing)
                release.wait()
            }
        }
        holder.start()
        for _ in 0..<1000 where !entered.load(ordering: .acquiring) { usleep(10_000) }
        #expect(history.index.fileLockCount == 1)
        let read = Atomic<Bool>(false)
        let reader = Thread {
            _ = history.summary(DeliveryID.make(webhookID: "wh_30", offset: 30), webhookID: "wh_30")
            read.store(true, ordering: .releasing)
        }
        reader.start()
        usleep(50_000)
        let readEarly = read.load(ordering: .acquiring)
        #expect(!readEarly, "the reader waits for the holder")
        release.signal()
        for _ in 0..<1000 where !read.load(ordering: .acquiring) { usleep(10_000) }
        let readLater = read.load(ordering: .acquiring)
        #expect(readLater, "waited for the reader")
        #expect(history.index.fileLockCount == 0)
    }

    static func update(_ webhookID: String, _ offset: UInt64, attempt: Int, _ status: DeliveryRecord.Status = .pending) -> DeliveryUpdate {
        DeliveryUpdate(deliveryID: DeliveryID.make(webhookID: webhookID, offset: offset), offset: offset, eventID: "evt_\(offset)",
                       eventType: "user.login", status: status, nextAttemptAtMs: status == .pending ? 9_000 : nil,
                       attempt: DeliveryAttempt(attempt: attempt, startedAtMs: Int64(attempt) * 1_000, durationMs: 1,
                                                statusCode: status == .succeeded ? 200 : 500, responseBody: "body \(offset)-\(attempt)", error: nil),
                       finalFailure: false)
    }

    /// A change to a webhook whose index is out of memory is appended as a change record: the writer loads no
    /// index and reads no earlier record for it, and a later load (or a reopening) folds the changes onto the
    /// delivery's earlier record, bodies included.
    @Test(.timeLimit(.minutes(1)))
    func aChangeToAnIndexOutOfMemoryIsAppendedWithoutLoadingTheJournal() throws {
        let path = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let history = try DeliveryHistory(directory: path, memoryBytesMax: 1)
        for offset in 0..<20 { history.apply(Self.update("wh_1", UInt64(offset), attempt: 1), webhookID: "wh_1", nowMs: 1) }
        history.endTurn()
        // Another webhook's change pushes wh_1's index out of memory (a budget of one byte).
        history.record(Self.record("wh_2", 0, body: "x"))
        history.flush()
        let id = DeliveryID.make(webhookID: "wh_1", offset: 7)
        #expect(history.cachedSummary(id, webhookID: "wh_1") == .notLoaded)
        let recordsBefore = try Journal.read(path: path + "/wh_1.journal", recordSizeBytesMax: history.recordSizeBytesMax).count
        let loads = history.loadCount
        history.apply(Self.update("wh_1", 7, attempt: 2), webhookID: "wh_1", nowMs: 2)
        history.apply(Self.update("wh_1", 7, attempt: 3, .succeeded), webhookID: "wh_1", nowMs: 3)
        history.flush()
        #expect(history.loadCount == loads, "the writer loaded no index for a partial change")
        #expect(history.cachedSummary(id, webhookID: "wh_1") == .notLoaded)
        let records = try Journal.read(path: path + "/wh_1.journal", recordSizeBytesMax: history.recordSizeBytesMax)
        #expect(records.count == recordsBefore + 2, "two changes, two appended records")
        #expect(records.suffix(2).allSatisfy { $0.count < 512 }, "a change record holds the change, not the delivery")
        #expect(history.writer.failureCount == 0)
        let stored = try #require(history.delivery(id, webhookID: "wh_1"))
        #expect(stored.attempts.map(\.responseBody) == ["body 7-1", "body 7-2", "body 7-3"] && stored.status == .succeeded)
        let reopened = try DeliveryHistory(directory: path)
        let again = try #require(reopened.delivery(id, webhookID: "wh_1"))
        #expect(again == stored)
        #expect(reopened.list(webhookID: "wh_1", status: .succeeded, after: nil, limit: 50).page.map(\.deliveryID) == [id])
        #expect(reopened.list(webhookID: "wh_1", status: nil, after: nil, limit: 50).page.count == 20)
    }

    /// A journal written before change records existed (full records only, a delivery's later record superseding
    /// its earlier one) opens unchanged: same deliveries, bodies and counters; a change appended to it folds onto
    /// the old full record, and the old records stay as they were.
    @Test(.timeLimit(.minutes(1)))
    func aJournalOfFullRecordsOnlyReadsAsBeforeAndTakesChanges() throws {
        let path = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        // The bytes of the earlier format, written by hand (not by today's encoder).
        let old = [
            #"{"id":"wh_1-0","webhook_id":"wh_1","offset":0,"event_id":"evt_0","event_type":"user.login","status":"pending","next_attempt_at_ms":5000,"attempts":[{"attempt":1,"started_at_ms":1000,"duration_ms":2.5,"status_code":500,"response_body":"first","error":null}]}"#,
            #"{"id":"wh_1-1","webhook_id":"wh_1","offset":1,"event_id":"evt_1","event_type":"user.login","status":"succeeded","next_attempt_at_ms":null,"attempts":[{"attempt":1,"started_at_ms":1100,"duration_ms":1.0,"status_code":204,"response_body":"","error":null}]}"#,
            #"{"id":"wh_1-0","webhook_id":"wh_1","offset":0,"event_id":"evt_0","event_type":"user.login","status":"pending","next_attempt_at_ms":9000,"attempts":[{"attempt":1,"started_at_ms":1000,"duration_ms":2.5,"status_code":500,"response_body":"first","error":null},{"attempt":2,"started_at_ms":2000,"duration_ms":3.0,"status_code":503,"response_body":"second","error":null}]}"#,
        ].map { Array($0.utf8) }
        do {
            let (journal, _) = try Journal.open(path: path + "/wh_1.journal", durability: .none, recordSizeBytesMax: 1 << 20)
            try journal.append(old)
            let (statistics, _) = try Journal.open(path: path + "/statistics.journal", durability: .none, recordSizeBytesMax: 1 << 20)
            try statistics.append(Array(#"{"webhook_id":"wh_1","statistics":{"attempts":3,"succeeded":1,"failed":0,"consecutive_failures":1,"last_attempt_at_ms":2000,"last_success_at_ms":1100,"last_failure_at_ms":2000,"failing_since_ms":2000}}"#.utf8))
        }
        let history = try DeliveryHistory(directory: path)
        #expect(history.statistics(webhookID: "wh_1").attempts == 3 && history.statistics(webhookID: "wh_1").consecutiveFailures == 1)
        let first = try #require(history.delivery("wh_1-0", webhookID: "wh_1"))
        #expect(first.status == .pending && first.nextAttemptAtMs == 9_000 && first.eventID == "evt_0")
        #expect(first.attempts.map(\.responseBody) == ["first", "second"] && first.attempts.map(\.statusCode) == [500, 503])
        #expect(history.list(webhookID: "wh_1", status: nil, after: nil, limit: 10).page.map(\.deliveryID) == ["wh_1-1", "wh_1-0"])
        #expect(history.delivery("wh_1-1", webhookID: "wh_1")?.status == .succeeded)

        history.apply(DeliveryUpdate(deliveryID: "wh_1-0", offset: 0, eventID: "evt_0", eventType: "user.login", status: .succeeded,
                                     nextAttemptAtMs: nil,
                                     attempt: DeliveryAttempt(attempt: 3, startedAtMs: 3_000, durationMs: 1, statusCode: 200,
                                                              responseBody: "third", error: nil), finalFailure: false),
                      webhookID: "wh_1", nowMs: 3_000)
        history.flush()
        let records = try Journal.read(path: path + "/wh_1.journal", recordSizeBytesMax: 1 << 20)
        #expect(Array(records.prefix(3)) == old, "the old records stay as they were")
        #expect(records.count == 4)
        let reopened = try DeliveryHistory(directory: path)
        let changed = try #require(reopened.delivery("wh_1-0", webhookID: "wh_1"))
        #expect(changed.status == .succeeded && changed.nextAttemptAtMs == nil)
        #expect(changed.attempts.map(\.responseBody) == ["first", "second", "third"])
        #expect(reopened.statistics(webhookID: "wh_1").succeeded == 2)
    }

    /// Change records are compacted when the journal holds four times the deliveries it keeps, also while the
    /// webhook's index is out of memory (loaded for the compaction): each kept delivery becomes one record with
    /// every attempt and body; the journal stays bounded.
    @Test(.timeLimit(.minutes(1)))
    func changeRecordsAreCompactedIntoOneRecordPerDelivery() throws {
        let path = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let keep = 10
        do {
            let history = try DeliveryHistory(directory: path, memoryBytesMax: 1, recordCountMax: keep)
            for offset in 0..<12 {
                for attempt in 1...5 {
                    history.apply(Self.update("wh_1", UInt64(offset), attempt: attempt, attempt == 5 ? .succeeded : .pending),
                                  webhookID: "wh_1", nowMs: 1)
                    history.endTurn()
                    // Out of memory again after every change.
                    history.record(Self.record("wh_2", offset * 10 + attempt, body: "x"))
                    history.endTurn()
                }
            }
            history.flush()
            #expect(history.writer.failureCount == 0)
        }
        let records = try Journal.read(path: path + "/wh_1.journal", recordSizeBytesMax: 1 << 20)
        #expect(records.count < 4 * keep + 1, "compacted: \(records.count) records")
        let reopened = try DeliveryHistory(directory: path, recordCountMax: keep)
        let page = reopened.list(webhookID: "wh_1", status: nil, after: nil, limit: 50).page
        #expect(page.count >= keep)
        #expect(page.first?.offset == 11)
        for delivery in page {
            #expect(delivery.status == .succeeded && delivery.attempts.map(\.attempt) == [1, 2, 3, 4, 5])
            #expect(delivery.attempts.map(\.responseBody) == (1...5).map { "body \(delivery.offset)-\($0)" })
        }
    }

    /// The index a compaction loaded stays pinned until the compaction is done: a change to another webhook in
    /// between (under a memory budget of one byte it evicts the least recently used index, this one) does not
    /// defer the compaction. Deterministic: the change is made at the writer's compaction gate, between the load
    /// and the taking of the kept deliveries.
    @Test(.timeLimit(.minutes(1)))
    func aCompactionsIndexStaysPinnedWhileAnotherWebhookChanges() throws {
        let path = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let keep = 10
        let history = try DeliveryHistory(directory: path, memoryBytesMax: 1, recordCountMax: keep)
        let gateRuns = Atomic<Int>(0)
        let evicted = Atomic<Bool>(false)
        history.writer.setCompactionGate { [weak history] webhookID in
            gateRuns.add(1, ordering: .relaxed)
            history?.record(Self.record("wh_2", 0, body: "x"))
            if history?.cachedSummary(DeliveryID.make(webhookID: webhookID, offset: 0), webhookID: webhookID) == .notLoaded {
                evicted.store(true, ordering: .relaxed)
            }
        }
        // One turn of more than four times `keep` records: one append, then one compaction.
        for offset in 0...(4 * keep) {
            history.apply(Self.update("wh_1", UInt64(offset), attempt: 1), webhookID: "wh_1", nowMs: 1)
        }
        history.endTurn()
        history.flush()
        history.writer.setCompactionGate(nil)
        let (runs, wasEvicted) = (gateRuns.load(ordering: .relaxed), evicted.load(ordering: .relaxed))
        #expect(runs == 1, "one compaction")
        #expect(!wasEvicted, "the compacted webhook's index stayed in memory through another webhook's change")
        #expect(history.writer.failureCount == 0)
        let records = try Journal.read(path: path + "/wh_1.journal", recordSizeBytesMax: 1 << 20)
        #expect(records.count <= keep + keep / 10, "compacted at once: \(records.count) records")
        let page = history.list(webhookID: "wh_1", status: nil, after: nil, limit: 50).page
        #expect(page.count == records.count && page.first?.offset == UInt64(4 * keep))
    }
}
