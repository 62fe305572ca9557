import JSON
import Synchronization
import SystemIO

/// The delivery history's in-memory index and the lock over its journal files, shared by `DeliveryHistory`
/// (which changes and reads it) and its writer thread (which records where changes were written). A separate
/// object so the writer can finish its queue after the history is released.
///
/// Locks: `files(webhookID)`, one per webhook, is held by whoever reads or changes that webhook's journal (the
/// writer while it appends and settles, compacts or removes; readers and index loads while they read), so a
/// slow read of one webhook's journal never holds up the writer for another; nobody holds two of them. `state`
/// only ever for memory work, never across I/O, so the dispatcher, which takes `state` alone, never waits for a
/// disk. Order: a `files` lock, then `state`.
final class DeliveryHistoryIndex: Sendable {
    let directory: String
    let recordSizeBytesMax: Int
    /// Deliveries kept listable per webhook.
    let recordCountMax: Int
    /// Bytes of delivery indexes kept in memory across webhooks.
    let memoryBytesMax: Int
    let state: Mutex<DeliveryHistory.State>
    /// The lock over one webhook's journal (see the type's comment).
    final class FileLock: Sendable {
        let mutex = Mutex(())
    }

    /// The locks of the webhooks whose journals are in use now, each with how many callers hold or wait for it:
    /// a lock leaves the map when its last user is done (so the map holds at most one per caller at once,
    /// whatever webhooks come and go), and a holder and a later user always share one while it is in use.
    private let fileLocks = Mutex<[String: (lock: FileLock, users: Int)]>([:])

    /// Locks in the map now (tests check it is pruned).
    var fileLockCount: Int { fileLocks.withLock { $0.count } }

    /// Runs `body` holding the lock over `webhookID`'s journal (blocking while another holds it).
    func withFiles<T: Sendable, E: Error>(_ webhookID: String, _ body: () throws(E) -> T) throws(E) -> T {
        let lock = fileLocks.withLock { locks in
            if let entry = locks[webhookID] {
                locks[webhookID]?.users += 1
                return entry.lock
            }
            let lock = FileLock()
            locks[webhookID] = (lock, 1)
            return lock
        }
        defer {
            fileLocks.withLock { locks in
                guard let users = locks[webhookID]?.users else { return }
                if users <= 1 { locks[webhookID] = nil } else { locks[webhookID]?.users = users - 1 }
            }
        }
        return try lock.mutex.withLock { _ throws(E) in try body() }
    }

    init(directory: String, books: [String: DeliveryHistory.Book], recordCountMax: Int, recordSizeBytesMax: Int, memoryBytesMax: Int) {
        self.directory = directory
        self.recordCountMax = recordCountMax
        self.recordSizeBytesMax = recordSizeBytesMax
        self.memoryBytesMax = memoryBytesMax
        state = Mutex(DeliveryHistory.State(books: books))
    }

    /// The journal of `webhookID`'s deliveries.
    func path(_ webhookID: String) -> String { directory + "/" + webhookID + DeliveryHistory.journalSuffix }

    /// The delivery the records at `sources` of `webhookID`'s journal make, response bodies included; nil when
    /// there are none or they cannot be read. Blocking; the caller holds that webhook's `files` (or is the writer
    /// thread, the only one that moves records).
    func storedRecord(_ webhookID: String, sources: [Journal.Location]) -> DeliveryRecord? {
        guard !sources.isEmpty,
              let bodies = try? Journal.records(at: sources, path: path(webhookID), recordSizeBytesMax: recordSizeBytesMax) else { return nil }
        guard sources.count > 1 else { return DeliveryHistory.folded(bodies, webhookID: webhookID) }
        return DeliveryHistory.folded(bodies, webhookID: webhookID).map { DeliveryHistory.fitted($0, sizeBytesMax: recordSizeBytesMax).record }
    }

    // MARK: - Loading (blocking; never on the cooperative pool)

    /// Runs `body` on the state with `webhookID`'s index in memory: when its book exists and is not loaded,
    /// reads its journal first (holding `files` only) and installs the index (merging the changes made while it
    /// was out of memory). The caller holds `files` of `webhookID` (`withFiles`).
    /// - Throws: `SystemError` when the journal cannot be read; the index stays out of memory (never installed
    ///   empty: an empty index would answer "no such delivery" and let a compaction drop the stored history).
    func withIndexLoaded<T: Sendable>(_ webhookID: String, _ body: (inout DeliveryHistory.State) -> T) throws(SystemError) -> T {
        let needed = state.withLock { $0.books[webhookID].map { $0.entries == nil } ?? false }
        var stored: Stored?
        if needed { stored = try read(webhookID) }
        return state.withLock { state in
            if let stored { install(webhookID, stored, &state) }
            state.clock += 1
            state.books[webhookID]?.lastUse = state.clock
            return body(&state)
        }
    }

    /// Loads `webhookID`'s index when its book exists and is not in memory; `pinning` keeps it in memory until
    /// `unpin` (the dispatcher uses what it asked for; a failed load pins nothing). Blocking.
    /// - Throws: `SystemError` when the journal cannot be read (the index stays out of memory).
    func load(_ webhookID: String, pinning: Bool = false) throws(SystemError) {
        try withFiles(webhookID) { () throws(SystemError) in
            try withIndexLoaded(webhookID) { state in
                if pinning { state.books[webhookID]?.pins += 1 }
            }
        }
    }

    /// A webhook's deliveries as its journal holds them (without response bodies), in order of first record.
    struct Stored {
        var entries: [String: DeliveryHistory.Entry] = [:]
        var order: [String] = []
    }

    /// Reads `webhookID`'s journal record by record (streaming: memory holds the index being built and one
    /// chunk of the file), folding each delivery's changes onto its latest full record. Blocking.
    private func read(_ webhookID: String) throws(SystemError) -> Stored {
        var stored = Stored()
        try Journal.forEachRecord(path: path(webhookID), recordSizeBytesMax: recordSizeBytesMax) { location, body in
            let record: DeliveryRecord
            var sources: [Journal.Location]
            switch DeliveryHistory.storedRecord(body) {
            case .full(let full)?:
                record = DeliveryHistory.stripped(full)
                sources = [location]
            case .change(var change)?:
                change.attempt?.responseBody = ""
                let earlier = stored.entries[change.deliveryID]
                record = DeliveryHistory.folding(change, into: earlier?.record, webhookID: webhookID)
                sources = DeliveryHistory.appending(location, to: earlier?.sources ?? [])
            case nil:
                return
            }
            if stored.entries[record.deliveryID] == nil { stored.order.append(record.deliveryID) }
            stored.entries[record.deliveryID] = DeliveryHistory.Entry(record: record, sources: sources, version: 0, settledVersion: 0,
                                                                      sizeBytes: DeliveryHistory.estimate(record))
        }
        return stored
    }

    /// Installs a book's index read from its journal (unless the book went, or another load installed it): each
    /// delivery as the journal makes it, then the changes made while the index was out of memory.
    private func install(_ webhookID: String, _ stored: Stored, _ state: inout DeliveryHistory.State) {
        guard var book = state.books.removeValue(forKey: webhookID) else { return }
        defer { state.books[webhookID] = book }
        guard book.entries == nil else { return }
        state.loads += 1
        var entries = stored.entries
        var order = stored.order
        for (id, change) in book.unsettled {
            let stored = entries[id]
            if stored == nil { order.append(id) }
            var entry = change
            // The journal, read under `files`, holds every record written so far (the writer appends and settles
            // under `files` too): its sources are complete; later writes add theirs when they settle.
            entry.sources = stored?.sources ?? []
            if change.isPartial, let base = stored?.record {
                entry.record = DeliveryHistory.rebased(change.record, on: base)
                entry.sizeBytes = DeliveryHistory.estimate(entry.record)
            }
            entry.isPartial = false
            entries[id] = entry
        }
        book.unsettled = [:]
        state.memoryBytes -= book.memoryBytes
        book.entries = entries
        book.order = order
        book.memoryBytes = entries.values.reduce(0) { $0 + $1.sizeBytes } + order.count * 24
        state.memoryBytes += book.memoryBytes
        trim(&book, &state)
        // `book` is out of the dictionary here, so eviction cannot pick it.
        evict(keeping: webhookID, &state)
    }

    /// Lets an index loaded with `pinning` go again (evictable).
    func unpin(_ webhookID: String) {
        state.withLock { state in
            if let pins = state.books[webhookID]?.pins, pins > 0 { state.books[webhookID]?.pins = pins - 1 }
        }
    }

    // MARK: - Memory (called with `state` held)

    /// Drops the oldest entries once there are a tenth more than the limit (from memory; the file follows at
    /// its next compaction).
    func trim(_ book: inout DeliveryHistory.Book, _ state: inout DeliveryHistory.State) {
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

    /// Drops the least recently used indexes (never `webhookID`'s, never a pinned one) while memory is over the
    /// budget, keeping only their entries with changes the writer has not finished.
    func evict(keeping webhookID: String, _ state: inout DeliveryHistory.State) {
        while state.memoryBytes > memoryBytesMax {
            guard let victim = state.books.filter({ $0.key != webhookID && $0.value.entries != nil && $0.value.pins == 0 })
                .min(by: { $0.value.lastUse < $1.value.lastUse })?.key,
                  var book = state.books.removeValue(forKey: victim) else { return }
            state.memoryBytes -= book.memoryBytes
            book.unsettled = book.entries!.filter { $0.value.settledVersion < $0.value.version }
            book.entries = nil
            book.order = []
            book.memoryBytes = book.unsettled.values.reduce(0) { $0 + $1.sizeBytes }
            state.memoryBytes += book.memoryBytes
            state.books[victim] = book
        }
    }

    // MARK: - The writer's side

    /// Records where the writer put changes (nil: the write failed; `isFull`: a full record, which replaces the
    /// delivery's sources, else a change record, which joins them) and that they are finished. The writer holds
    /// that webhook's `files` (so a load reads either before the append or after this).
    func settle(_ webhookID: String, _ written: [(deliveryID: String, version: UInt64, location: Journal.Location?, isFull: Bool)]) {
        state.withLock { state in
            // In place: the book leaves the dictionary while it changes.
            guard var book = state.books.removeValue(forKey: webhookID) else { return }
            defer { state.books[webhookID] = book }
            guard book.entries != nil else {
                // Not loaded: what is written now is in the journal; what failed stays until the next load.
                for change in written {
                    guard var entry = book.unsettled[change.deliveryID] else { continue }
                    entry.settledVersion = max(entry.settledVersion, change.version)
                    if entry.settledVersion >= entry.version && change.location != nil {
                        book.unsettled[change.deliveryID] = nil
                        book.memoryBytes -= entry.sizeBytes
                        state.memoryBytes -= entry.sizeBytes
                    } else {
                        book.unsettled[change.deliveryID] = entry
                    }
                }
                return
            }
            for change in written {
                guard var entry = book.entries!.removeValue(forKey: change.deliveryID) else { continue }
                if let location = change.location {
                    entry.sources = change.isFull ? [location] : DeliveryHistory.appending(location, to: entry.sources)
                }
                entry.settledVersion = max(entry.settledVersion, change.version)
                book.entries![change.deliveryID] = entry
            }
        }
    }

    /// The sources of the deliveries kept listable that have written records, oldest first (what a compaction
    /// keeps); nil when the index is not in memory.
    func keptSources(_ webhookID: String) -> [(deliveryID: String, sources: [Journal.Location])]? {
        state.withLock { state in
            guard let book = state.books[webhookID], let entries = book.entries else { return nil }
            return book.order.compactMap { id in entries[id].flatMap { $0.sources.isEmpty ? nil : (id, $0.sources) } }
        }
    }

    /// Moves entries to their one record each after a compaction.
    func relocate(_ webhookID: String, _ moved: [(deliveryID: String, location: Journal.Location)]) {
        state.withLock { state in
            guard var book = state.books.removeValue(forKey: webhookID) else { return }
            defer { state.books[webhookID] = book }
            guard book.entries != nil else { return }
            for (id, location) in moved { book.entries![id]?.sources = [location] }
        }
    }
}
