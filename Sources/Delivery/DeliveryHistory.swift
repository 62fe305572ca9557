import JSON
import Synchronization
import SystemIO

/// Per-webhook delivery history and statistics: `deliveries/<webhook>.journal` holds each delivery as records of a
/// SystemIO `Journal` (CRC-framed, a torn tail cut off on open): a full record (`history.record`) or a change
/// record (`apply`: status, next attempt time, the attempt that ended), appended without reading the
/// delivery's earlier records; a delivery is its latest full record with the changes after it
/// (`DeliveryHistory+Records`). `deliveries/statistics.journal` holds the counters of every webhook. Not fsynced
/// per change: a crash of the process keeps them; history is not the source of truth for delivery, the cursor
/// is. A webhook's journal is compacted (streaming, atomically: each kept delivery becomes one full record)
/// when it holds four times the records it needs. Journals written before change records (full records only)
/// read unchanged; a data directory from before the journals (`<webhook>.jsonl` JSON lines) is converted once
/// when opened.
///
/// Where things run: `apply`/`record` never block and never read a file: they change memory and queue the
/// change (a change to a webhook whose index is out of memory is kept as a partial change and merged when the
/// index is loaded again); `endTurn()` (the dispatcher calls it after each turn) hands the queued changes to the
/// history's own writer thread, which encodes them and appends each webhook's changes of the turn in one write.
/// `cachedSummary` answers from memory or says the index is not loaded; `preload` loads it (blocking: on a
/// blocking-I/O thread). The readers (`summary`, `delivery`, `list`, `attemptSeries`) may read journals and
/// wait for the writer: call them off the cooperative pool (`BlockingIO`). At most `pendingChangeCountMax`
/// changes should wait for the writer: `roomForChanges` says how many more may, and the dispatcher takes no new
/// deliveries beyond it until the writer catches up (backpressure, only when the disk is slower than delivery);
/// changes of attempts already under way still queue (one each, at most `globalInFlightCountMax`).
///
/// Memory is bounded in total, whatever the tenants do: response bodies stay on disk (memory holds each
/// delivery without them, plus where its records are), a webhook's index is loaded on first use and the
/// least recently used indexes are dropped beyond `memoryBytesMax` (64 MiB by default). Opening reads only the
/// statistics, so restart time does not depend on the history's size. The last `recordCountMax` (10,000 by
/// default) deliveries of each webhook stay listable.
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
        package var failingSinceMs: Int64?

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

        /// Counts an attempt that ended at `atMs`, and a delivery that ended failed.
        mutating func count(attempt outcome: (succeeded: Bool, atMs: Int64)?, finalFailure: Bool) {
            if let outcome {
                attempts += 1
                lastAttemptAtMs = outcome.atMs
                if outcome.succeeded {
                    succeeded += 1
                    consecutiveFailures = 0
                    lastSuccessAtMs = outcome.atMs
                    failingSinceMs = nil
                } else {
                    consecutiveFailures += 1
                    lastFailureAtMs = outcome.atMs
                    if failingSinceMs == nil { failingSinceMs = outcome.atMs }
                }
            }
            if finalFailure { failed += 1 }
        }
    }

    /// One delivery as memory keeps it: without response bodies, with the places of the records it is made of.
    struct Entry {
        var record: DeliveryRecord
        /// The written records that make the delivery (its latest full record and the changes since, oldest
        /// first; at most `sourceCountMax`); empty before the first.
        var sources: [Journal.Location] = []
        /// The change that set `record`, and the latest change the writer has finished (written or failed).
        var version: UInt64
        var settledVersion: UInt64
        var sizeBytes: Int
        /// Made while the index was out of memory and the delivery's earlier record was not known: `record` holds
        /// only the attempts since; the journal's record is the base (`rebased(_:on:)` when the index loads).
        var isPartial = false
    }

    struct Book {
        /// nil until loaded (and again after eviction).
        var entries: [String: Entry]?
        /// Delivery ids, oldest first (for trimming and listing); empty while not loaded.
        var order: [String] = []
        var statistics = Statistics()
        var memoryBytes = 0
        var lastUse: UInt64 = 0
        /// While not loaded: the entries with changes the writer has not finished (their journal does not
        /// hold them yet); merged into the index when it is loaded again.
        var unsettled: [String: Entry] = [:]
        /// Loads asked to keep the index in memory until they let it go (`DeliveryHistoryIndex.unpin`).
        var pins = 0
    }

    struct State {
        var books: [String: Book] = [:]
        var memoryBytes = 0
        var clock: UInt64 = 0
        /// Index loads so far (tests observe laziness with it).
        var loads = 0
    }

    let directory: String
    /// Bytes of delivery indexes kept in memory across webhooks.
    package var memoryBytesMax: Int { index.memoryBytesMax }
    /// Deliveries kept listable per webhook.
    package var recordCountMax: Int { index.recordCountMax }
    /// Largest encoded delivery record, in bytes: beyond, the oldest attempts' response bodies are left out.
    public let recordSizeBytesMax: Int
    /// Changes waiting for the writer thread at most (per thread that applies changes).
    package let pendingChangeCountMax: Int
    /// The index, shared with the writer thread (which outlives this object until it has written everything).
    let index: DeliveryHistoryIndex
    let writer: DeliveryHistoryWriter

    /// Opens the history in `directory` (created when missing), reading only the statistics; converts a
    /// directory of the JSON-lines format once.
    /// - Parameters:
    ///   - memoryBytesMax: bytes of delivery indexes kept in memory across webhooks.
    ///   - recordCountMax: deliveries kept listable per webhook.
    ///   - recordSizeBytesMax: largest encoded delivery record, in bytes.
    ///   - pendingChangeCountMax: changes that may wait for the writer thread.
    ///   - logger: where write failures are reported (the history goes on without them).
    /// - Throws: `SystemError` when the directory or the statistics cannot be created or read.
    public init(directory: String, memoryBytesMax: Int = DeliveryLimits.History.memoryBytesMax,
                recordCountMax: Int = DeliveryLimits.History.recordCountMax,
                recordSizeBytesMax: Int = DeliveryLimits.History.recordSizeBytesMax,
                pendingChangeCountMax: Int = DeliveryLimits.HistoryWriter.pendingChangeCountMax,
                logger: Logger = .discarding) throws(SystemError) {
        try FileSystem.createDirectory(directory)
        self.directory = directory
        let recordCountMax = max(1, recordCountMax)
        self.recordSizeBytesMax = max(256, recordSizeBytesMax)
        self.pendingChangeCountMax = max(1, pendingChangeCountMax)
        let statistics = try Self.migrateLegacyFiles(in: directory, recordCountMax: recordCountMax,
                                                     recordSizeBytesMax: self.recordSizeBytesMax)
        var books: [String: Book] = [:]
        for name in try FileSystem.names(in: directory) where name.hasSuffix(Self.journalSuffix) && name != Self.statisticsFileName {
            books[String(name.dropLast(Self.journalSuffix.count))] = Book()
        }
        for (webhookID, counters) in statistics.live {
            books[webhookID, default: Book()].statistics = counters
        }
        index = DeliveryHistoryIndex(directory: directory, books: books, recordCountMax: recordCountMax,
                                     recordSizeBytesMax: self.recordSizeBytesMax, memoryBytesMax: max(1, memoryBytesMax))
        writer = DeliveryHistoryWriter(index: index, statisticsJournal: statistics.journal, statistics: statistics.live,
                                       pendingChangeCountMax: self.pendingChangeCountMax,
                                       logger: logger)
    }

    deinit { writer.stop() }

    static let journalSuffix = ".journal"
    static let statisticsFileName = "statistics.journal"

    static func stripped(_ record: DeliveryRecord) -> DeliveryRecord {
        var stripped = record
        for index in stripped.attempts.indices { stripped.attempts[index].responseBody = "" }
        return stripped
    }

    static func estimate(_ record: DeliveryRecord) -> Int {
        192 + record.deliveryID.utf8.count + record.eventID.utf8.count + record.eventType.utf8.count
            + record.attempts.reduce(0) { $0 + 96 + ($1.error?.utf8.count ?? 0) + $1.responseBody.utf8.count }
    }

    /// `record` changed by `update`: status, next attempt time, the attempt that ended (at most
    /// `attemptsPerDeliveryMax` kept).
    static func applying(_ update: DeliveryUpdate, to record: DeliveryRecord) -> DeliveryRecord {
        var changed = record
        changed.status = update.status
        changed.nextAttemptAtMs = update.nextAttemptAtMs
        if let attempt = update.attempt {
            changed.attempts.append(attempt)
            if changed.attempts.count > DeliveryLimits.Attempts.countPerDeliveryMax {
                changed.attempts.removeFirst(changed.attempts.count - DeliveryLimits.Attempts.countPerDeliveryMax)
            }
        }
        return changed
    }

    /// A partial change (`Entry.isPartial`) put on the record it followed: the base's attempts, then the
    /// change's attempts the base does not hold (at most `attemptsPerDeliveryMax`), the change's status and
    /// next attempt time.
    static func rebased(_ partial: DeliveryRecord, on base: DeliveryRecord) -> DeliveryRecord {
        var record = base
        record.status = partial.status
        record.nextAttemptAtMs = partial.nextAttemptAtMs
        for attempt in partial.attempts
        where !base.attempts.contains(where: { $0.attempt == attempt.attempt && $0.startedAtMs == attempt.startedAtMs }) {
            record.attempts.append(attempt)
        }
        if record.attempts.count > DeliveryLimits.Attempts.countPerDeliveryMax {
            record.attempts.removeFirst(record.attempts.count - DeliveryLimits.Attempts.countPerDeliveryMax)
        }
        return record
    }

    // MARK: - Writing (never blocks, never reads a file)

    /// Stores `record` (new or changed, response bodies included) and, when `attemptOutcome` is given, counts
    /// the attempt. The write happens on the writer thread (see the type's comment).
    /// - Returns: the change's sequence number (changes are written in this order; see `setOnWritten`).
    @discardableResult
    public func record(_ record: DeliveryRecord, countingAttempt attemptOutcome: (succeeded: Bool, atMs: Int64)? = nil,
                       finalFailure: Bool = false) -> UInt64 {
        change(webhookID: record.webhookID, deliveryID: record.deliveryID, isFull: true) { _ in Self.stripped(record) } counting: { statistics in
            statistics.count(attempt: attemptOutcome, finalFailure: finalFailure)
        } queue: { version, _, statistics, _ in
            .record(record, version: version, statistics: statistics)
        }
    }

    /// Applies a lane's change of one delivery: status, next attempt time, the attempt that ended (counted in
    /// the statistics at `nowMs`). Keeps at most `attemptsPerDeliveryMax` attempts per delivery. Changes memory
    /// only; the writer thread appends the change as a change record (its body included), never reading the
    /// delivery's earlier records or loading the webhook's index.
    /// - Returns: the change's sequence number (changes are written in this order; see `setOnWritten`).
    @discardableResult
    public func apply(_ update: DeliveryUpdate, webhookID: String, nowMs: Int64) -> UInt64 {
        change(webhookID: webhookID, deliveryID: update.deliveryID, isFull: false) { previous in
            let base = previous
                ?? DeliveryRecord(deliveryID: update.deliveryID, webhookID: webhookID, offset: update.offset, eventID: update.eventID,
                                  eventType: update.eventType, status: .pending, attempts: [], nextAttemptAtMs: nil)
            return Self.stripped(Self.applying(update, to: base))
        } counting: { statistics in
            statistics.count(attempt: update.attempt.map { _ in (update.status == .succeeded, nowMs) }, finalFailure: update.finalFailure)
        } queue: { version, _, statistics, _ in
            .update(update, webhookID: webhookID, version: version, statistics: statistics)
        }
    }

    /// Changes one delivery's entry in place (in the index, or among the book's unsettled entries while the
    /// index is out of memory) and queues the change for the writer; returns its sequence number. `isFull`: the
    /// change carries the whole record (it never needs the earlier one).
    private func change(webhookID: String, deliveryID: String, isFull: Bool, _ summarize: (DeliveryRecord?) -> DeliveryRecord,
                        counting: (inout Statistics) -> Void,
                        queue makeChange: (UInt64, DeliveryRecord, Statistics, Bool) -> DeliveryHistoryWriter.Change) -> UInt64 {
        index.state.withLock { state in
            // The book leaves the dictionary while it changes, so its index is mutated in place (a copy here
            // would copy the whole index on every delivery).
            var book = state.books.removeValue(forKey: webhookID) ?? Book(entries: [:])
            defer { state.books[webhookID] = book }
            counting(&book.statistics)
            state.clock += 1
            let version = state.clock
            book.lastUse = version
            let isLoaded = book.entries != nil
            let previous = isLoaded ? book.entries![deliveryID] : book.unsettled[deliveryID]
            // Out of memory and not among the unsettled: the earlier record is in the journal (or there is none).
            let isPartial = !isFull && !isLoaded && (previous?.isPartial ?? true)
            let summary = summarize(previous?.record)
            let size = Self.estimate(summary)
            let entry = Entry(record: summary, sources: previous?.sources ?? [], version: version,
                              settledVersion: previous?.settledVersion ?? 0, sizeBytes: size, isPartial: isPartial)
            var delta = size - (previous?.sizeBytes ?? 0)
            if isLoaded {
                book.entries![deliveryID] = entry
                if previous == nil {
                    book.order.append(deliveryID)
                    delta += 24
                }
            } else {
                book.unsettled[deliveryID] = entry
            }
            book.memoryBytes += delta
            state.memoryBytes += delta
            // Queued with the lock held, so the writer sees changes in version order.
            let number = writer.enqueue(makeChange(version, summary, book.statistics, isPartial))
            index.trim(&book, &state)
            index.evict(keeping: webhookID, &state)
            return number
        }
    }

    /// Hands the changes queued since the last turn to the writer thread (one append per webhook).
    package func endTurn() { writer.submit() }

    /// Changes that may still queue before `pendingChangeCountMax` wait for the writer (0 or less: full). The
    /// dispatcher takes no new deliveries beyond it (it is pumped again when the writer reports progress through
    /// `setOnWritten`). One lock, never a wait.
    package var roomForChanges: Int { writer.room }

    /// Calls `body` on the history's writer thread after each batch, with how many changes (in
    /// queue order) have been written so far: a change numbered at most that is in the kernel.
    package func setOnWritten(_ body: @escaping @Sendable (UInt64) -> Void) { writer.setOnWritten(body) }

    /// Runs `gate` on the writer thread before each batch it writes: a test holds the writer there
    /// to see what waits for it. Nil removes it.
    package func setWriteGate(_ gate: (@Sendable () -> Void)?) { writer.setWriteGate(gate) }

    /// Waits until the writer has finished every change queued so far (written or failed). Blocking.
    public func flush() { writer.flush() }

    /// Forgets a deleted webhook's history (its files are removed by the writer, in order with its changes).
    public func remove(webhookID: String) {
        index.state.withLock { state in
            if let book = state.books.removeValue(forKey: webhookID) { state.memoryBytes -= book.memoryBytes }
            writer.enqueue(.remove(webhookID: webhookID))
        }
        writer.submit()
    }

    // MARK: - Reading from memory (never blocks on I/O)

    /// What memory says about one delivery.
    package enum CachedSummary: Sendable, Equatable {
        /// The delivery without response bodies.
        case found(DeliveryRecord)
        /// The history has no such delivery.
        case absent
        /// The webhook's index is out of memory: `preload` it (blocking) and ask again.
        case notLoaded
    }

    /// The delivery `deliveryID` of `webhookID` from memory only (the dispatcher's question).
    package func cachedSummary(_ deliveryID: String, webhookID: String) -> CachedSummary {
        index.state.withLock { state in
            guard let book = state.books[webhookID] else { return .absent }
            guard let entries = book.entries else { return .notLoaded }
            state.clock += 1
            state.books[webhookID]?.lastUse = state.clock
            return entries[deliveryID].map { .found($0.record) } ?? .absent
        }
    }

    /// Loads `webhookID`'s index into memory and keeps it there until `unpin(webhookID)`. Blocking (reads the
    /// webhook's journal): run it on a blocking-I/O thread.
    /// - Throws: `SystemError` when the journal cannot be read: the index stays out of memory and unpinned
    ///   (`cachedSummary` keeps saying `.notLoaded`; ask again later).
    package func preload(_ webhookID: String) throws(SystemError) { try index.load(webhookID, pinning: true) }

    /// Lets an index kept by `preload` go (it may be evicted again).
    package func unpin(_ webhookID: String) { index.unpin(webhookID) }

    /// Counters of `webhookID`.
    public func statistics(webhookID: String) -> Statistics {
        index.state.withLock { $0.books[webhookID]?.statistics ?? Statistics() }
    }

    /// Bytes of delivery indexes in memory now: at most `memoryBytesMax` plus the webhook in use, plus the
    /// entries of changes the writer has not finished.
    package var memoryBytes: Int { index.state.withLock { $0.memoryBytes } }

    /// Index loads so far (each reads one webhook's journal).
    var loadCount: Int { index.state.withLock { $0.loads } }

    // MARK: - Reading (blocking: may read journals and wait for the writer; call off the cooperative pool)

    /// The delivery `deliveryID` of `webhookID` without response bodies (loads the webhook's index when needed);
    /// nil also when the webhook's journal cannot be read.
    public func summary(_ deliveryID: String, webhookID: String) -> DeliveryRecord? {
        index.withFiles(webhookID) {
            (try? index.withIndexLoaded(webhookID) { $0.books[webhookID]?.entries?[deliveryID]?.record }) ?? nil
        }
    }

    /// The delivery `deliveryID` of `webhookID`, response bodies included (read from its journal).
    public func delivery(_ deliveryID: String, webhookID: String) -> DeliveryRecord? {
        read(webhookID) { state in
            state.books[webhookID]?.entries?[deliveryID].map { [$0] } ?? []
        }.first
    }

    /// Deliveries of `webhookID`, newest first, optionally with `status`, after the delivery id `after`.
    public func list(webhookID: String, status: DeliveryRecord.Status?, after: String?, limit: Int) -> (page: [DeliveryRecord], more: Bool) {
        var more = false
        let page = read(webhookID) { state in
            guard let book = state.books[webhookID], let entries = book.entries else { return [] }
            var page: [Entry] = []
            var passed = after == nil
            for id in book.order.reversed() {
                if !passed {
                    if id == after { passed = true }
                    continue
                }
                guard let entry = entries[id], status == nil || entry.record.status == status else { continue }
                if page.count == limit {
                    more = true
                    break
                }
                page.append(entry)
            }
            return page
        }
        return (page, more)
    }

    /// The entries `select` picks from `webhookID`'s loaded index, with their response bodies read from the
    /// journal; waits for the writer first when one of them has a change it has not finished. None when the
    /// webhook's journal cannot be read.
    private func read(_ webhookID: String, _ select: (inout State) -> [Entry]) -> [DeliveryRecord] {
        var waited = false
        while true {
            let result: [DeliveryRecord]? = index.withFiles(webhookID) {
                guard let entries = try? index.withIndexLoaded(webhookID, select) else { return [] }
                if !waited && entries.contains(where: { $0.settledVersion < $0.version }) { return nil }
                return entries.map { full($0, webhookID: webhookID) }
            }
            if let result { return result }
            waited = true
            writer.flush()
        }
    }

    /// The entry's record with its response bodies from the journal (the summary when they cannot be read; the
    /// summary with the written bodies when a newer change is still on its way to the journal).
    private func full(_ entry: Entry, webhookID: String) -> DeliveryRecord {
        guard let record = index.storedRecord(webhookID, sources: entry.sources),
              record.deliveryID == entry.record.deliveryID else { return entry.record }
        guard entry.settledVersion < entry.version else { return record }
        var merged = entry.record
        for index in merged.attempts.indices {
            merged.attempts[index].responseBody = record.attempts.first {
                $0.attempt == merged.attempts[index].attempt && $0.startedAtMs == merged.attempts[index].startedAtMs
            }?.responseBody ?? ""
        }
        return merged
    }

    /// The attempts of `webhookID`'s listable deliveries counted into `series` (from the index in memory, loading it
    /// when needed; no response body is read). Cost: one pass over at most `recordCountMax` + 10 % deliveries of
    /// at most `DeliveryLimits.Attempts.countPerDeliveryMax` attempts each. A journal that cannot be read leaves the
    /// series incomplete.
    public func attemptSeries(webhookID: String, into series: inout AttemptSeries) {
        let recordCountMax = recordCountMax
        let loaded = index.withFiles(webhookID) {
            (try? index.withIndexLoaded(webhookID) { state in
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
            }) != nil
        }
        if !loaded { series.isComplete = false }
    }
}
