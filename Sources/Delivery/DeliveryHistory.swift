import Foundation
import JSON
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Per-webhook delivery history and statistics, in memory (the last `historyRecordCountMax` deliveries
/// of each webhook) and in `deliveries/<webhook>.jsonl`: one JSON line per change of a delivery, plus a
/// statistics line; the last line of a delivery wins when the file is read back. Written without a
/// per-line fsync (a crash of the process keeps it; history is not the source of truth for delivery,
/// the cursor is); compacted when the file holds twice the lines it needs.
public final class DeliveryHistory: Sendable {
    /// Counters of one webhook.
    public struct Statistics: Sendable, Equatable {
        public var attempts = 0
        public var succeeded = 0
        public var failed = 0
        public var consecutiveFailures = 0
        public var lastAttemptAtMs: Int64?
        public var lastSuccessAtMs: Int64?
        public var lastFailureAtMs: Int64?
        /// Start of the current run of failed attempts, nil after a success.
        public var failingSinceMs: Int64?

        var json: JSONValue {
            func time(_ ms: Int64?) -> JSONValue { ms.map { JSONValue.integer($0) } ?? .null }
            return .object([
                ("attempts", .integer(attempts)), ("succeeded", .integer(succeeded)), ("failed", .integer(failed)),
                ("consecutive_failures", .integer(consecutiveFailures)), ("last_attempt_at_ms", time(lastAttemptAtMs)),
                ("last_success_at_ms", time(lastSuccessAtMs)), ("last_failure_at_ms", time(lastFailureAtMs)),
                ("failing_since_ms", time(failingSinceMs)),
            ])
        }

        init() {}

        init(json: JSONValue) {
            attempts = Int(json["attempts"]?.int64Value ?? 0)
            succeeded = Int(json["succeeded"]?.int64Value ?? 0)
            failed = Int(json["failed"]?.int64Value ?? 0)
            consecutiveFailures = Int(json["consecutive_failures"]?.int64Value ?? 0)
            lastAttemptAtMs = json["last_attempt_at_ms"]?.int64Value
            lastSuccessAtMs = json["last_success_at_ms"]?.int64Value
            lastFailureAtMs = json["last_failure_at_ms"]?.int64Value
            failingSinceMs = json["failing_since_ms"]?.int64Value
        }
    }

    private struct Book {
        var records: [String: DeliveryRecord] = [:]
        /// Delivery ids, oldest first (for trimming and listing).
        var order: [String] = []
        var statistics = Statistics()
        var fileLineCount = 0
    }

    private let directory: String
    private let books = Mutex<[String: Book]>([:])

    /// Loads every history file in `directory`.
    public init(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        self.directory = directory
        var loaded: [String: Book] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasSuffix(".jsonl") {
            let webhookID = String(name.dropLast(6))
            var book = Book()
            guard let data = FileManager.default.contents(atPath: directory + "/" + name) else { continue }
            for line in data.split(separator: UInt8(ascii: "\n")) {
                book.fileLineCount += 1
                // A torn last line (crash mid-write) does not parse and is skipped.
                guard let json = try? JSONParser.parse(Array(line)) else { continue }
                if let statistics = json["statistics"] {
                    book.statistics = Statistics(json: statistics)
                } else if let record = DeliveryRecord(stored: json) {
                    if book.records[record.deliveryID] == nil { book.order.append(record.deliveryID) }
                    book.records[record.deliveryID] = record
                }
            }
            Self.trim(&book)
            loaded[webhookID] = book
        }
        books.withLock { $0 = loaded }
    }

    /// Drops the oldest records once there are a tenth more than the limit (one shift, not one per record).
    private static func trim(_ book: inout Book) {
        let limit = DeliveryLimits.historyRecordCountMax
        guard book.order.count > limit + limit / 10 else { return }
        let excess = book.order.count - limit
        for oldest in book.order[0..<excess] { book.records.removeValue(forKey: oldest) }
        book.order.removeFirst(excess)
    }

    private static func apply(_ record: DeliveryRecord, attemptOutcome: (succeeded: Bool, atMs: Int64)?, finalFailure: Bool,
                              to book: inout Book, lines: inout [UInt8]) -> (Bool, [UInt8]?) {
        if book.records.updateValue(record, forKey: record.deliveryID) == nil { book.order.append(record.deliveryID) }
        if let outcome = attemptOutcome {
            book.statistics.attempts += 1
            book.statistics.lastAttemptAtMs = outcome.atMs
            if outcome.succeeded {
                book.statistics.succeeded += 1
                book.statistics.consecutiveFailures = 0
                book.statistics.lastSuccessAtMs = outcome.atMs
                book.statistics.failingSinceMs = nil
            } else {
                book.statistics.consecutiveFailures += 1
                book.statistics.lastFailureAtMs = outcome.atMs
                if book.statistics.failingSinceMs == nil { book.statistics.failingSinceMs = outcome.atMs }
            }
        }
        if finalFailure { book.statistics.failed += 1 }
        lines += JSONValue.object([("statistics", book.statistics.json)]).encoded() + [UInt8(ascii: "\n")]
        trim(&book)
        book.fileLineCount += 2
        guard book.fileLineCount > 4 * DeliveryLimits.historyRecordCountMax else { return (false, nil) }
        var bytes: [UInt8] = []
        for id in book.order { if let kept = book.records[id] { bytes += kept.storedJSON.encoded() + [UInt8(ascii: "\n")] } }
        bytes += JSONValue.object([("statistics", book.statistics.json)]).encoded() + [UInt8(ascii: "\n")]
        book.fileLineCount = book.order.count + 1
        return (true, bytes)
    }

    private func path(_ webhookID: String) -> String { directory + "/" + webhookID + ".jsonl" }

    /// Stores `record` (new or changed) and, when `attemptOutcome` is given, counts the attempt.
    public func record(_ record: DeliveryRecord, countingAttempt attemptOutcome: (succeeded: Bool, atMs: Int64)? = nil,
                       finalFailure: Bool = false) {
        var lines: [UInt8] = record.storedJSON.encoded() + [UInt8(ascii: "\n")]
        let (compact, snapshot): (Bool, [UInt8]?) = books.withLock { books in
            // Mutated in place: copying a book (10,000 records) per attempt was the engine's main cost.
            Self.apply(record, attemptOutcome: attemptOutcome, finalFailure: finalFailure,
                       to: &books[record.webhookID, default: Book()], lines: &lines)
        }
        if compact, let snapshot {
            let temporary = path(record.webhookID) + ".tmp"
            if FileManager.default.createFile(atPath: temporary, contents: Data(snapshot)) {
                _ = rename(temporary, path(record.webhookID))
            }
            return
        }
        let descriptor = open(path(record.webhookID), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return }
        _ = lines.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        close(descriptor)
    }

    /// Applies a lane's change of one delivery: status, next attempt time, the attempt that ended (counted in
    /// the statistics at `nowMs`). Keeps at most `attemptsPerDeliveryMax` attempts per delivery.
    public func apply(_ update: DeliveryUpdate, webhookID: String, nowMs: Int64) {
        var stored = delivery(update.deliveryID, webhookID: webhookID)
            ?? DeliveryRecord(deliveryID: update.deliveryID, webhookID: webhookID, offset: update.offset, eventID: update.eventID,
                              eventType: update.eventType, status: .pending, attempts: [], nextAttemptAtMs: nil)
        stored.status = update.status
        stored.nextAttemptAtMs = update.nextAttemptAtMs
        if let attempt = update.attempt {
            stored.attempts.append(attempt)
            if stored.attempts.count > DeliveryLimits.attemptsPerDeliveryMax {
                stored.attempts.removeFirst(stored.attempts.count - DeliveryLimits.attemptsPerDeliveryMax)
            }
        }
        record(stored, countingAttempt: update.attempt.map { _ in (update.status == .succeeded, nowMs) }, finalFailure: update.finalFailure)
    }

    /// The delivery `deliveryID` of `webhookID`.
    public func delivery(_ deliveryID: String, webhookID: String) -> DeliveryRecord? {
        books.withLock { $0[webhookID]?.records[deliveryID] }
    }

    /// Deliveries of `webhookID`, newest first, optionally with `status`, after the delivery id `after`.
    public func list(webhookID: String, status: DeliveryRecord.Status?, after: String?, limit: Int) -> (page: [DeliveryRecord], more: Bool) {
        books.withLock { books in
            guard let book = books[webhookID] else { return ([], false) }
            var page: [DeliveryRecord] = []
            var passed = after == nil
            for id in book.order.reversed() {
                if !passed {
                    if id == after { passed = true }
                    continue
                }
                guard let record = book.records[id], status == nil || record.status == status else { continue }
                if page.count == limit { return (page, true) }
                page.append(record)
            }
            return (page, false)
        }
    }

    /// Counters of `webhookID`.
    public func statistics(webhookID: String) -> Statistics {
        books.withLock { $0[webhookID]?.statistics ?? Statistics() }
    }

    /// Deliveries of `webhookID` that are still pending (to resume their retries after a restart).
    public func pending(webhookID: String) -> [DeliveryRecord] {
        books.withLock { books in
            guard let book = books[webhookID] else { return [] }
            return book.order.compactMap { book.records[$0] }.filter { $0.status == .pending }
        }
    }

    /// Forgets a deleted webhook's history.
    public func remove(webhookID: String) {
        books.withLock { _ = $0.removeValue(forKey: webhookID) }
        unlink(path(webhookID))
    }
}
