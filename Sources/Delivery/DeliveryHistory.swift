import Foundation
import JSON
import Synchronization
import SystemIO
#if canImport(Glibc)
import Glibc
#endif

/// Per-webhook delivery history and statistics in `deliveries/<webhook>.jsonl`: one JSON line per change of a
/// delivery, each followed by a statistics line; the last line of a delivery wins when the file is read back.
/// Written without a per-line fsync (a crash of the process keeps it; history is not the source of truth for
/// delivery, the cursor is); compacted when the file holds four times the lines it needs.
///
/// Memory is bounded in total, whatever the tenants do: response bodies stay on disk (memory holds each
/// delivery without them, plus where its latest line is), a webhook's index is loaded on first use and the least
/// recently used indexes are dropped beyond `memoryBytesMax` (64 MiB by default). Opening reads only the last
/// line of each file (the statistics), so restart time does not depend on the history's size. The last
/// `recordCountMax` (10,000 by default) deliveries of each webhook stay listable.
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
            func count(_ name: String) -> Int { Int(clamping: max(0, json[name]?.int64Value ?? 0)) }
            attempts = count("attempts")
            succeeded = count("succeeded")
            failed = count("failed")
            consecutiveFailures = count("consecutive_failures")
            lastAttemptAtMs = json["last_attempt_at_ms"]?.int64Value
            lastSuccessAtMs = json["last_success_at_ms"]?.int64Value
            lastFailureAtMs = json["last_failure_at_ms"]?.int64Value
            failingSinceMs = json["failing_since_ms"]?.int64Value
        }
    }

    /// One delivery as memory keeps it: without response bodies, with the place of its latest full line.
    struct Entry {
        var record: DeliveryRecord
        var lineOffset: UInt64
        var lineLength: Int
        var sizeBytes: Int
    }

    struct Book {
        /// nil until loaded (and again after eviction).
        var entries: [String: Entry]?
        /// Delivery ids, oldest first (for trimming and listing); empty while not loaded.
        var order: [String] = []
        var statistics = Statistics()
        var fileLineCount = 0
        var fileSizeBytes: UInt64 = 0
        var memoryBytes = 0
        var lastUse: UInt64 = 0
    }

    struct State {
        var books: [String: Book] = [:]
        var memoryBytes = 0
        var clock: UInt64 = 0
        /// Index loads so far (tests observe laziness with it).
        var loads = 0
    }

    private let directory: String
    /// Bytes of delivery indexes kept in memory across webhooks.
    public let memoryBytesMax: Int
    /// Deliveries kept listable per webhook.
    public let recordCountMax: Int
    private let state = Mutex(State())

    /// Opens the history in `directory`, reading only each file's statistics.
    public init(directory: String, memoryBytesMax: Int = DeliveryLimits.historyMemoryBytesMax,
                recordCountMax: Int = DeliveryLimits.historyRecordCountMax) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        self.directory = directory
        self.memoryBytesMax = max(1, memoryBytesMax)
        self.recordCountMax = max(1, recordCountMax)
        var books: [String: Book] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasSuffix(".jsonl") {
            let path = directory + "/" + name
            var book = Book()
            book.fileSizeBytes = Self.fileSize(path)
            book.statistics = Self.lastStatistics(path: path, sizeBytes: book.fileSizeBytes) ?? Statistics()
            books[String(name.dropLast(6))] = book
        }
        state.withLock { $0.books = books }
    }

    private func path(_ webhookID: String) -> String { directory + "/" + webhookID + ".jsonl" }

    private static func fileSize(_ path: String) -> UInt64 {
        var info = stat()
        return stat(path, &info) == 0 ? UInt64(max(0, info.st_size)) : 0
    }

    /// Reads `length` bytes at `offset` of `path`; nil when missing, short or unreadable.
    private static func read(_ path: String, offset: UInt64, length: Int) -> [UInt8]? {
        guard let file = try? FileDescriptor.openIfExists(path) else { return nil }
        return read(file, offset: offset, length: length)
    }

    /// Reads exactly `length` bytes at `offset` of the open `file`; nil when short or unreadable.
    private static func read(_ file: FileDescriptor, offset: UInt64, length: Int) -> [UInt8]? {
        guard let bytes = try? file.read(count: length, at: Int64(offset)), bytes.count == length else { return nil }
        return bytes
    }

    /// The statistics of the file's last complete statistics line, reading backwards from the end.
    private static func lastStatistics(path: String, sizeBytes: UInt64) -> Statistics? {
        var window: UInt64 = 64 << 10
        while true {
            let start = sizeBytes > window ? sizeBytes - window : 0
            guard let bytes = read(path, offset: start, length: Int(sizeBytes - start)) else { return nil }
            var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
            if start > 0 { lines = Array(lines.dropFirst()) } // the first piece may be a partial line
            for line in lines.reversed() where line.starts(with: Array(#"{"statistics""#.utf8)) {
                if let json = try? JSONParser.parse(Array(line)), let statistics = json["statistics"] { return Statistics(json: statistics) }
            }
            if start == 0 { return nil }
            window *= 4
        }
    }

    private static func stripped(_ record: DeliveryRecord) -> DeliveryRecord {
        var stripped = record
        for index in stripped.attempts.indices { stripped.attempts[index].responseBody = "" }
        return stripped
    }

    private static func estimate(_ record: DeliveryRecord) -> Int {
        192 + record.deliveryID.utf8.count + record.eventID.utf8.count + record.eventType.utf8.count
            + record.attempts.reduce(0) { $0 + 96 + ($1.error?.utf8.count ?? 0) + $1.responseBody.utf8.count }
    }

    // MARK: - Index (called with the lock held)

    /// Loads `webhookID`'s index into memory when it is not there (its book stays in the dictionary).
    private func load(_ webhookID: String, _ state: inout State) {
        guard var book = state.books.removeValue(forKey: webhookID) else {
            state.clock += 1
            state.books[webhookID] = Book(entries: [:], lastUse: state.clock)
            return
        }
        load(webhookID, &book, &state)
        state.books[webhookID] = book
        evict(keeping: webhookID, &state)
    }

    /// Loads `book`'s index when it is not in memory (the book is out of the dictionary while it changes).
    private func load(_ webhookID: String, _ book: inout Book, _ state: inout State) {
        state.clock += 1
        book.lastUse = state.clock
        guard book.entries == nil else { return }
        state.loads += 1
        var entries: [String: Entry] = [:]
        var order: [String] = []
        var lineCount = 0
        let data = FileManager.default.contents(atPath: path(webhookID)).map { [UInt8]($0) } ?? []
        var start = 0
        while start < data.count {
            let end = data[start...].firstIndex(of: UInt8(ascii: "\n")) ?? data.count
            defer { start = end + 1 }
            guard end > start, end < data.count else { continue } // a torn last line (crash mid-write) is skipped
            lineCount += 1
            let line = data[start..<end]
            if line.starts(with: Array(#"{"statistics""#.utf8)) { continue }
            guard let json = try? JSONParser.parse(Array(line)), let record = DeliveryRecord(stored: json) else { continue }
            let kept = Self.stripped(record)
            if entries[record.deliveryID] == nil { order.append(record.deliveryID) }
            entries[record.deliveryID] = Entry(record: kept, lineOffset: UInt64(start), lineLength: end - start, sizeBytes: Self.estimate(kept))
        }
        book.entries = entries
        book.order = order
        book.fileLineCount = lineCount
        book.fileSizeBytes = UInt64(data.count)
        book.memoryBytes = entries.values.reduce(0) { $0 + $1.sizeBytes } + order.count * 24
        state.memoryBytes += book.memoryBytes
        trim(&book, &state)
    }

    /// Drops the oldest entries once there are a tenth more than the limit (from memory; the file follows at
    /// its next compaction).
    private func trim(_ book: inout Book, _ state: inout State) {
        guard book.entries != nil else { return }
        let limit = recordCountMax
        guard book.order.count > limit + limit / 10 else { return }
        let excess = book.order.count - limit
        var freed = excess * 24
        for oldest in book.order[0..<excess] { freed += book.entries!.removeValue(forKey: oldest)?.sizeBytes ?? 0 }
        book.order.removeFirst(excess)
        book.memoryBytes -= freed
        state.memoryBytes -= freed
    }

    /// Drops the least recently used indexes (never `webhookID`'s) while memory is over the budget.
    private func evict(keeping webhookID: String, _ state: inout State) {
        while state.memoryBytes > memoryBytesMax {
            guard let victim = state.books.filter({ $0.key != webhookID && $0.value.entries != nil })
                .min(by: { $0.value.lastUse < $1.value.lastUse })?.key else { return }
            state.memoryBytes -= state.books[victim]?.memoryBytes ?? 0
            state.books[victim]?.entries = nil
            state.books[victim]?.order = []
            state.books[victim]?.memoryBytes = 0
        }
    }

    /// Rewrites the file with only the kept deliveries' latest lines, streaming (bodies never all in memory),
    /// through a temporary file unique to this process that replaces it atomically (fsync, rename, directory
    /// fsync). A failure keeps the old file (history is not the source of truth for delivery).
    private func compact(_ webhookID: String, _ book: inout Book) {
        guard book.entries != nil else { return }
        let source = path(webhookID)
        let temporary = source + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        var offset: UInt64 = 0
        var moved: [(id: String, offset: UInt64)] = []
        moved.reserveCapacity(book.order.count)
        do throws(SystemError) {
            guard let input = try FileDescriptor.openIfExists(source) else { return }
            let output = try FileDescriptor.open(temporary, O_WRONLY | O_CREAT | O_EXCL)
            for id in book.order {
                guard let entry = book.entries![id], let line = Self.read(input, offset: entry.lineOffset, length: entry.lineLength) else { continue }
                moved.append((id, offset))
                try output.writeAll(line + [UInt8(ascii: "\n")])
                offset += UInt64(line.count + 1)
            }
            let statistics = JSONValue.object([("statistics", book.statistics.json)]).encoded() + [UInt8(ascii: "\n")]
            try output.writeAll(statistics)
            offset += UInt64(statistics.count)
            try output.synchronize()
            try FileSystem.move(temporary, to: source)
            try FileSystem.synchronizeDirectory(directory)
        } catch {
            try? FileSystem.remove(temporary)
            return
        }
        for (id, newOffset) in moved { book.entries![id]?.lineOffset = newOffset }
        book.fileSizeBytes = offset
        book.fileLineCount = book.order.count + 1
    }

    // MARK: - Writing

    /// Stores `record` (new or changed) and, when `attemptOutcome` is given, counts the attempt.
    public func record(_ record: DeliveryRecord, countingAttempt attemptOutcome: (succeeded: Bool, atMs: Int64)? = nil,
                       finalFailure: Bool = false) {
        let line = record.storedJSON.encoded()
        state.withLock { state in
            let webhookID = record.webhookID
            // The book leaves the dictionary while it changes, so its index is mutated in place (a copy here
            // would copy the whole index on every delivery).
            var book = state.books.removeValue(forKey: webhookID) ?? Book(entries: [:])
            defer { state.books[webhookID] = book }
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
            let bytes = line + [UInt8(ascii: "\n")] + JSONValue.object([("statistics", book.statistics.json)]).encoded() + [UInt8(ascii: "\n")]
            // Not fsynced (see the type's comment); a failed write leaves the book as it was.
            guard (try? FileDescriptor.open(path(webhookID), O_WRONLY | O_CREAT | O_APPEND).writeAll(bytes)) != nil else { return }
            let lineOffset = book.fileSizeBytes
            book.fileSizeBytes += UInt64(bytes.count)
            book.fileLineCount += 2
            if book.entries != nil {
                let kept = Self.stripped(record)
                let size = Self.estimate(kept)
                let previous = book.entries!.updateValue(Entry(record: kept, lineOffset: lineOffset, lineLength: line.count, sizeBytes: size),
                                                         forKey: record.deliveryID)
                if previous == nil { book.order.append(record.deliveryID) }
                let delta = size - (previous?.sizeBytes ?? -24)
                book.memoryBytes += delta
                state.memoryBytes += delta
            }
            state.clock += 1
            book.lastUse = state.clock
            trim(&book, &state)
            if book.fileLineCount > 4 * recordCountMax {
                load(webhookID, &book, &state)
                compact(webhookID, &book)
            }
            evict(keeping: webhookID, &state)
        }
    }

    /// Applies a lane's change of one delivery: status, next attempt time, the attempt that ended (counted in
    /// the statistics at `nowMs`). Keeps at most `attemptsPerDeliveryMax` attempts per delivery.
    public func apply(_ update: DeliveryUpdate, webhookID: String, nowMs: Int64) {
        // Response bodies of earlier attempts live only in the file: read it only when there are earlier attempts.
        let summary = self.summary(update.deliveryID, webhookID: webhookID)
        let previous = summary.map { $0.attempts.isEmpty ? $0 : delivery(update.deliveryID, webhookID: webhookID) ?? $0 }
        var stored = previous
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

    /// Forgets a deleted webhook's history.
    public func remove(webhookID: String) {
        state.withLock { state in
            if let book = state.books.removeValue(forKey: webhookID) { state.memoryBytes -= book.memoryBytes }
            unlink(path(webhookID))
        }
    }

    // MARK: - Reading

    /// The delivery `deliveryID` of `webhookID` as memory keeps it: without response bodies (no file read).
    public func summary(_ deliveryID: String, webhookID: String) -> DeliveryRecord? {
        state.withLock { state in
            guard state.books[webhookID] != nil else { return nil }
            load(webhookID, &state)
            return state.books[webhookID]?.entries?[deliveryID]?.record
        }
    }

    /// The delivery `deliveryID` of `webhookID`, response bodies included (read from its file).
    public func delivery(_ deliveryID: String, webhookID: String) -> DeliveryRecord? {
        state.withLock { state in
            guard state.books[webhookID] != nil else { return nil }
            load(webhookID, &state)
            guard let entry = state.books[webhookID]?.entries?[deliveryID] else { return nil }
            return full(entry, webhookID: webhookID)
        }
    }

    private func full(_ entry: Entry, webhookID: String) -> DeliveryRecord {
        guard let line = Self.read(path(webhookID), offset: entry.lineOffset, length: entry.lineLength),
              let json = try? JSONParser.parse(line), let record = DeliveryRecord(stored: json) else { return entry.record }
        return record
    }

    /// Deliveries of `webhookID`, newest first, optionally with `status`, after the delivery id `after`.
    public func list(webhookID: String, status: DeliveryRecord.Status?, after: String?, limit: Int) -> (page: [DeliveryRecord], more: Bool) {
        state.withLock { state in
            guard state.books[webhookID] != nil else { return ([], false) }
            load(webhookID, &state)
            guard let book = state.books[webhookID], let entries = book.entries else { return ([], false) }
            var page: [DeliveryRecord] = []
            var passed = after == nil
            for id in book.order.reversed() {
                if !passed {
                    if id == after { passed = true }
                    continue
                }
                guard let entry = entries[id], status == nil || entry.record.status == status else { continue }
                if page.count == limit { return (page, true) }
                page.append(full(entry, webhookID: webhookID))
            }
            return (page, false)
        }
    }

    /// The attempts of `webhookID`'s listable deliveries counted into `series` (from the index in memory, loading it
    /// when needed; no response body is read). Cost: one pass over at most `recordCountMax` + 10 % deliveries of
    /// at most `DeliveryLimits.attemptsPerDeliveryMax` attempts each.
    public func attemptSeries(webhookID: String, into series: inout AttemptSeries) {
        state.withLock { state in
            guard state.books[webhookID] != nil else { return }
            load(webhookID, &state)
            guard let book = state.books[webhookID], let entries = book.entries else { return }
            for entry in entries.values {
                for attempt in entry.record.attempts { series.count(attempt) }
                if let first = entry.record.attempts.first, first.attempt > 1, first.startedAtMs > series.startMs { series.isComplete = false }
            }
            // Trimming keeps exactly `recordCountMax`; fewer means nothing was ever trimmed.
            if book.order.count >= recordCountMax,
               (book.order.first.flatMap { entries[$0]?.record.attempts.first?.startedAtMs } ?? .max) > series.startMs {
                series.isComplete = false
            }
        }
    }

    /// Counters of `webhookID`.
    public func statistics(webhookID: String) -> Statistics {
        state.withLock { $0.books[webhookID]?.statistics ?? Statistics() }
    }

    /// Bytes of delivery indexes in memory now (at most `memoryBytesMax` plus the webhook in use).
    public var memoryBytes: Int { state.withLock { $0.memoryBytes } }

    /// Index loads so far (each reads one webhook's file).
    var loadCount: Int { state.withLock { $0.loads } }
}
