import Foundation
import JSON
import SystemIO

/// The delivery history's writer: one dedicated thread that encodes queued changes and appends them to the
/// webhooks' journals (each webhook's changes of a turn in one write; a change as a change record, so it never
/// reads a delivery's earlier records nor loads a webhook's index to write one) and the statistics journal (one
/// write per turn), compacts, and removes deleted webhooks' journals. Nothing here runs on Swift's cooperative
/// pool.
///
/// Limits: `pendingChangeCountMax` changes queued (`room` reaches 0 there; producers never wait, the
/// dispatcher stops starting deliveries);
/// at most `DeliveryLimits.HistoryWriter.openJournalCountMax` journals open (the least recently used are closed).
/// Compaction is worth it once a journal holds four times `recordCountMax` records: it needs the webhook's index
/// (loaded for it when out of memory: one read of the journal per at least three times `recordCountMax` appends;
/// after a compaction that could not run, the next try waits for `recordCountMax` more records).
///
/// `@unchecked Sendable`: the queue fields are guarded by `condition`; the journals and the statistics are
/// touched only by the writer thread.
final class DeliveryHistoryWriter: @unchecked Sendable {
    /// One change for the writer.
    enum Change: Sendable {
        /// A delivery's full new record (response bodies included).
        case record(DeliveryRecord, version: UInt64, statistics: DeliveryHistory.Statistics)
        /// A change of one delivery (written as a change record).
        case update(DeliveryUpdate, webhookID: String, version: UInt64, statistics: DeliveryHistory.Statistics)
        /// A deleted webhook: its journal goes.
        case remove(webhookID: String)
    }

    private let index: DeliveryHistoryIndex
    let pendingChangeCountMax: Int
    private let logger: Logger
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var open: [Change] = []
    private var submitted: [Change] = []
    private var queuedCount = 0
    private var queuedCountHighWater = 0
    private var enqueuedTotal: UInt64 = 0
    private var finishedTotal: UInt64 = 0
    private var failures = 0
    private var stopping = false
    private var stopped = false
    private var onWritten: (@Sendable (UInt64) -> Void)?
    private var writeGate: (@Sendable () -> Void)?
    private var compactionGate: (@Sendable (String) -> Void)?
    // Writer thread only.
    private var journals: [String: (journal: Journal, lastUse: UInt64)] = [:]
    /// Per webhook, the record count below which no compaction is tried again (after one could not run).
    private var compactionDeferredBelow: [String: Int] = [:]
    private var uses: UInt64 = 0
    private var statisticsJournal: Journal
    private var statistics: [String: DeliveryHistory.Statistics]

    init(index: DeliveryHistoryIndex, statisticsJournal: Journal, statistics: [String: DeliveryHistory.Statistics],
         pendingChangeCountMax: Int, logger: Logger) {
        self.index = index
        self.statisticsJournal = statisticsJournal
        self.statistics = statistics
        self.pendingChangeCountMax = pendingChangeCountMax
        self.logger = logger
        let thread = Thread { [self] in run() }
        thread.name = "argus-history-writer"
        thread.start()
    }

    // MARK: - Producers

    /// Changes that may still queue before `pendingChangeCountMax` wait for the writer (0 or less: full). Never
    /// waits for the writer.
    var room: Int {
        condition.lock()
        defer { condition.unlock() }
        return pendingChangeCountMax - queuedCount
    }

    /// Queues `change` for the next `submit()`; returns its sequence number (changes are written in this order).
    @discardableResult
    func enqueue(_ change: Change) -> UInt64 {
        condition.lock()
        defer { condition.unlock() }
        open.append(change)
        queuedCount += 1
        enqueuedTotal += 1
        queuedCountHighWater = max(queuedCountHighWater, queuedCount)
        return enqueuedTotal
    }

    /// Hands the queued changes to the writer thread.
    func submit() {
        condition.lock()
        defer { condition.unlock() }
        submitLocked()
    }

    private func submitLocked() {
        guard !open.isEmpty else { return }
        submitted += open
        open = []
        condition.broadcast()
    }

    /// Waits until every change queued so far is finished (written or failed).
    func flush() {
        condition.lock()
        defer { condition.unlock() }
        submitLocked()
        let target = enqueuedTotal
        while finishedTotal < target && !stopped { condition.wait() }
    }

    /// Writes what is queued, then ends the thread; returns when it has ended.
    func stop() {
        condition.lock()
        defer { condition.unlock() }
        submitLocked()
        stopping = true
        condition.broadcast()
        while !stopped { condition.wait() }
    }

    /// The most changes that were queued at once (tests check the limit with it).
    var queuedCountMaxSeen: Int {
        condition.lock()
        defer { condition.unlock() }
        return queuedCountHighWater
    }

    /// Writes that failed (each also logged).
    var failureCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return failures
    }

    // MARK: - The thread

    private func run() {
        while true {
            condition.lock()
            while submitted.isEmpty && !stopping { condition.wait() }
            if submitted.isEmpty {
                stopped = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let batch = submitted
            submitted = []
            let gate = writeGate
            condition.unlock()
            gate?()
            let failed = write(batch)
            condition.lock()
            queuedCount -= batch.count
            finishedTotal += UInt64(batch.count)
            failures += failed
            condition.broadcast()
            let (written, notify) = (finishedTotal, onWritten)
            condition.unlock()
            notify?(written)
        }
    }

    /// Runs `gate` on the writer thread before each batch (tests hold the writer with it).
    func setWriteGate(_ gate: (@Sendable () -> Void)?) {
        condition.lock()
        defer { condition.unlock() }
        writeGate = gate
    }

    /// Runs `gate` on the writer thread in each compaction, with the webhook id, after the index is loaded (and
    /// pinned) and before its kept deliveries are taken: a test changes other webhooks there. Nil removes it.
    func setCompactionGate(_ gate: (@Sendable (String) -> Void)?) {
        condition.lock()
        defer { condition.unlock() }
        compactionGate = gate
    }

    /// Calls `body` on the writer thread with the count of changes written so far, after each batch.
    func setOnWritten(_ body: @escaping @Sendable (UInt64) -> Void) {
        condition.lock()
        defer { condition.unlock() }
        onWritten = body
    }

    /// One webhook's records of a batch, in order.
    private struct Pending {
        var bodies: [[UInt8]] = []
        var changes: [(deliveryID: String, version: UInt64, isFull: Bool)] = []
    }

    /// Writes one batch; returns how many writes failed.
    private func write(_ batch: [Change]) -> Int {
        var failed = 0
        var pending: [String: Pending] = [:]
        var order: [String] = []
        var touched: [String] = []
        for change in batch {
            switch change {
            case .remove(let webhookID):
                if let dropped = pending.removeValue(forKey: webhookID) {
                    index.settle(webhookID, dropped.changes.map { ($0.deliveryID, $0.version, nil, $0.isFull) })
                }
                failed += remove(webhookID)
                compactionDeferredBelow[webhookID] = nil
                statistics[webhookID] = nil
                touched.append(webhookID)
            case .record(let record, let version, let counters):
                let webhookID = record.webhookID
                if pending[webhookID] == nil { order.append(webhookID) }
                pending[webhookID, default: Pending()].bodies.append(encoded(record))
                pending[webhookID, default: Pending()].changes.append((record.deliveryID, version, true))
                statistics[webhookID] = counters
                touched.append(webhookID)
            case .update(let update, let webhookID, let version, let counters):
                if pending[webhookID] == nil { order.append(webhookID) }
                pending[webhookID, default: Pending()].bodies.append(DeliveryHistory.changeRecord(update))
                pending[webhookID, default: Pending()].changes.append((update.deliveryID, version, false))
                statistics[webhookID] = counters
                touched.append(webhookID)
            }
        }
        for webhookID in order {
            // removeValue: a webhook removed and added again in one batch is in `order` twice.
            guard let records = pending.removeValue(forKey: webhookID) else { continue }
            failed += append(records, webhookID: webhookID)
        }
        failed += appendStatistics(touched)
        return failed
    }

    /// `record` encoded within the size limit (leaving out the oldest response bodies when needed).
    private func encoded(_ record: DeliveryRecord) -> [UInt8] {
        DeliveryHistory.fitted(record, sizeBytesMax: index.recordSizeBytesMax).encoded
    }

    /// Appends one webhook's records in one write, records where they went, and compacts when due.
    private func append(_ pending: Pending, webhookID: String) -> Int {
        var failed = 0
        var locations: [Journal.Location?] = Array(repeating: nil, count: pending.bodies.count)
        // Under `files`: an index load reads the journal either before this append or after its settling.
        index.withFiles(webhookID) {
            do throws(SystemError) {
                let journal = try self.journal(webhookID)
                // A record still over the limit (no bodies left to drop) is left out and counted.
                let fits = pending.bodies.indices.filter { pending.bodies[$0].count <= index.recordSizeBytesMax }
                if fits.count < pending.bodies.count {
                    failed += pending.bodies.count - fits.count
                    logger.error("delivery history record over the size limit left out",
                                 [("webhook_id", .string(webhookID)), ("limit_bytes", .integer(index.recordSizeBytesMax))])
                }
                let written = try journal.append(fits.map { pending.bodies[$0] })
                for (position, location) in zip(fits, written) { locations[position] = location }
            } catch {
                failed += 1
                logger.error("delivery history write failed", [("webhook_id", .string(webhookID)), ("error", .string(error.description))])
            }
            index.settle(webhookID, zip(pending.changes, locations).map { ($0.deliveryID, $0.version, $1, $0.isFull) })
        }
        if let journal = journals[webhookID]?.journal, journal.recordCount > 4 * index.recordCountMax,
           journal.recordCount >= compactionDeferredBelow[webhookID] ?? 0 {
            failed += compact(journal, webhookID: webhookID)
        }
        return failed
    }

    /// Rewrites `webhookID`'s journal with one record per kept delivery (streaming, atomically): a delivery
    /// made of one record keeps it as it is, one made of several gets them folded into a full record. Loads
    /// the webhook's index first when it is out of memory (this thread may block). A failure keeps the old
    /// journal (history is not the source of truth for delivery); a compaction that cannot run (the index
    /// cannot be loaded) is tried again `recordCountMax` records later. The index stays pinned while it runs.
    private func compact(_ journal: Journal, webhookID: String) -> Int {
        compactionDeferredBelow[webhookID] = journal.recordCount + index.recordCountMax
        // Pinned until the compaction is done: a change to another webhook meanwhile evicts the least recently
        // used index, and under a small memory budget that is this one, just loaded (the compaction was then
        // deferred again and again while deliveries went on, and the journal grew past its bound).
        do {
            try index.load(webhookID, pinning: true)
        } catch {
            logger.error("delivery history compaction deferred: the index could not be loaded",
                         [("webhook_id", .string(webhookID)), ("error", .string(String(describing: error)))])
            return 0
        }
        defer { index.unpin(webhookID) }
        condition.lock()
        let gate = compactionGate
        condition.unlock()
        gate?(webhookID)
        return index.withFiles(webhookID) {
            guard let kept = index.keptSources(webhookID) else { return 0 }
            do throws(SystemError) {
                let moved = try journal.compact(count: kept.count) { (position) throws(SystemError) -> [UInt8] in
                    let sources = kept[position].sources
                    guard sources.count > 1 else { return try journal.record(at: sources[0]) }
                    var bodies: [[UInt8]] = []
                    for source in sources { bodies.append(try journal.record(at: source)) }
                    guard let record = DeliveryHistory.folded(bodies, webhookID: webhookID) else { return bodies[bodies.count - 1] }
                    return encoded(record)
                }
                index.relocate(webhookID, zip(kept, moved).map { ($0.deliveryID, $1) })
                compactionDeferredBelow[webhookID] = nil
                return 0
            } catch {
                logger.error("delivery history compaction failed", [("webhook_id", .string(webhookID)), ("error", .string(error.description))])
                return 1
            }
        }
    }

    /// Removes a deleted webhook's journal.
    private func remove(_ webhookID: String) -> Int {
        journals[webhookID] = nil
        return index.withFiles(webhookID) {
            do throws(SystemError) {
                try FileSystem.remove(index.path(webhookID))
                return 0
            } catch {
                logger.error("delivery history removal failed", [("webhook_id", .string(webhookID)), ("error", .string(error.description))])
                return 1
            }
        }
    }

    /// The open journal of `webhookID` (opened when needed; the least recently used beyond the limit closed).
    private func journal(_ webhookID: String) throws(SystemError) -> Journal {
        uses += 1
        if let open = journals[webhookID] {
            journals[webhookID]?.lastUse = uses
            return open.journal
        }
        if journals.count >= DeliveryLimits.HistoryWriter.openJournalCountMax,
           let oldest = journals.min(by: { $0.value.lastUse < $1.value.lastUse })?.key {
            journals[oldest] = nil
        }
        // Opening cuts a torn tail off (a crash mid-append); the records are in the index already.
        let (journal, _) = try Journal.open(path: index.path(webhookID), durability: .none, recordSizeBytesMax: index.recordSizeBytesMax)
        journals[webhookID] = (journal, uses)
        return journal
    }

    /// Appends the counters of the webhooks `touched` (each once, removed ones as such) in one write;
    /// compacts the statistics journal when it holds four times the webhooks it needs.
    private func appendStatistics(_ touched: [String]) -> Int {
        var seen = Set<String>()
        var records: [[UInt8]] = []
        for webhookID in touched.reversed() where seen.insert(webhookID).inserted {
            records.append(Self.statisticsRecord(webhookID, statistics[webhookID]))
        }
        do throws(SystemError) {
            if statisticsJournal.recordCount + records.count > 4 * statistics.count + 1024 {
                try statisticsJournal.replace(with: statistics.sorted { $0.key < $1.key }.map { Self.statisticsRecord($0.key, $0.value) })
            } else {
                try statisticsJournal.append(records.reversed())
            }
            return 0
        } catch {
            logger.error("delivery history statistics write failed", [("error", .string(error.description))])
            return 1
        }
    }

    /// A statistics record: `{"webhook_id":...,"statistics":{...}}`, or `"statistics":null` for a deleted webhook.
    static func statisticsRecord(_ webhookID: String, _ statistics: DeliveryHistory.Statistics?) -> [UInt8] {
        JSONValue.object([("webhook_id", .string(webhookID)), ("statistics", statistics?.json ?? .null)]).encoded()
    }

    /// The live counters in the statistics journal's records (the latest record of each webhook wins).
    static func statistics(from records: [[UInt8]]) -> [String: DeliveryHistory.Statistics] {
        var live: [String: DeliveryHistory.Statistics] = [:]
        for record in records {
            guard let json = try? JSONParser.parse(record), let webhookID = json["webhook_id"]?.stringValue else { continue }
            if let counters = json["statistics"], counters != .null {
                live[webhookID] = DeliveryHistory.Statistics(json: counters)
            } else {
                live[webhookID] = nil
            }
        }
        return live
    }
}
