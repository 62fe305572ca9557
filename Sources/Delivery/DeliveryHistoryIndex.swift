import Synchronization
import SystemIO

/// The delivery history's in-memory index and the lock over its journal files, shared by `DeliveryHistory`
/// (which changes and reads it) and its writer thread (which records where changes were written). A separate
/// object so the writer can finish its queue after the history is released.
final class DeliveryHistoryIndex: Sendable {
    let directory: String
    let recordSizeBytesMax: Int
    let state: Mutex<DeliveryHistory.State>
    /// Held by readers of webhook journals and by the writer while it compacts or removes one (lock order:
    /// `files`, then `state`).
    let files = Mutex(())

    init(directory: String, books: [String: DeliveryHistory.Book], recordSizeBytesMax: Int) {
        self.directory = directory
        self.recordSizeBytesMax = recordSizeBytesMax
        state = Mutex(DeliveryHistory.State(books: books))
    }

    /// The journal of `webhookID`'s deliveries.
    func path(_ webhookID: String) -> String { directory + "/" + webhookID + DeliveryHistory.journalSuffix }

    /// Records where the writer put changes (nil: the write failed) and that they are finished.
    func settle(_ webhookID: String, _ written: [(deliveryID: String, version: UInt64, location: Journal.Location?)]) {
        state.withLock { state in
            // In place: the book leaves the dictionary while it changes.
            guard var book = state.books.removeValue(forKey: webhookID) else { return }
            defer { state.books[webhookID] = book }
            guard book.entries != nil else {
                // Not loaded: what is written now is in the journal; what failed stays until the next load.
                for change in written {
                    guard var entry = book.unsettled[change.deliveryID] else { continue }
                    if let location = change.location { entry.location = location }
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
                if let location = change.location { entry.location = location }
                entry.settledVersion = max(entry.settledVersion, change.version)
                book.entries![change.deliveryID] = entry
            }
        }
    }

    /// Where the latest written record of `deliveryID` is; nil when none is or the index is not loaded.
    func location(_ deliveryID: String, webhookID: String) -> Journal.Location? {
        state.withLock { state in
            guard let book = state.books[webhookID] else { return nil }
            return book.entries?[deliveryID]?.location ?? book.unsettled[deliveryID]?.location
        }
    }

    /// The locations of the deliveries kept listable, oldest first (what a compaction keeps); nil when the
    /// index is not in memory.
    func keptLocations(_ webhookID: String) -> [(deliveryID: String, location: Journal.Location)]? {
        state.withLock { state in
            guard let book = state.books[webhookID], let entries = book.entries else { return nil }
            return book.order.compactMap { id in entries[id]?.location.map { (id, $0) } }
        }
    }

    /// Moves entries to their places after a compaction.
    func relocate(_ webhookID: String, _ moved: [(deliveryID: String, location: Journal.Location)]) {
        state.withLock { state in
            guard var book = state.books.removeValue(forKey: webhookID) else { return }
            defer { state.books[webhookID] = book }
            guard book.entries != nil else { return }
            for (id, location) in moved { book.entries![id]?.location = location }
        }
    }
}
