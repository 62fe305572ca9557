import Synchronization

/// Positioned readers kept between reads, keyed by the offset each reads next, so a reader that
/// continues where it stopped does not reopen and seek its segment. Holds at most `capacity`; the least
/// recently stored go first. A reader is taken out while used, so two tasks never share one.
package final class ReaderPool<Reader: Sendable>: Sendable {
    /// Most readers held.
    package let capacity: Int
    private let readers = Mutex<[(offset: UInt64, reader: Reader)]>([])

    package init(capacity: Int) {
        precondition(capacity > 0, "a pool holds at least one reader")
        self.capacity = capacity
    }

    /// Removes and returns a reader positioned at `offset`, if one is held.
    package func take(at offset: UInt64) -> Reader? {
        readers.withLock { readers in
            guard let index = readers.lastIndex(where: { $0.offset == offset }) else { return nil }
            return readers.remove(at: index).reader
        }
    }

    /// Keeps `reader`, positioned at `offset`, dropping the least recently stored beyond `capacity`.
    package func put(_ reader: Reader, at offset: UInt64) {
        readers.withLock { readers in
            readers.append((offset, reader))
            if readers.count > capacity { readers.removeFirst(readers.count - capacity) }
        }
    }

    /// Drops every reader (after the data they read may have changed, such as a restored archive).
    package func removeAll() { readers.withLock { $0.removeAll() } }

    /// Readers held now.
    package var count: Int { readers.withLock { $0.count } }
}
