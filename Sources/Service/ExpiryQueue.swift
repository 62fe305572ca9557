/// Keys by expiry, soonest first: a binary min-heap, O(log n) to add or take one. Pure value.
/// Entries are not removed when their key goes away early (a revoked token): the owner skips them when
/// they come up (`popExpired` hands back every entry due) and rebuilds the queue from its live keys
/// (`init(_:)`) when stale entries outnumber them.
struct ExpiryQueue<Key: Sendable>: Sendable {
    private(set) var entries: [(expiresAtMs: Int64, key: Key)] = []

    init() {}

    /// A queue holding `entries` (heapified in O(n)).
    init(_ entries: [(expiresAtMs: Int64, key: Key)]) {
        self.entries = entries
        for index in stride(from: entries.count / 2 - 1, through: 0, by: -1) { siftDown(index) }
    }

    var count: Int { entries.count }

    mutating func insert(_ key: Key, expiresAtMs: Int64) {
        entries.append((expiresAtMs, key))
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].expiresAtMs < entries[parent].expiresAtMs else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the entries whose expiry is at or before `nowMs`, soonest first.
    mutating func popExpired(nowMs: Int64) -> [(expiresAtMs: Int64, key: Key)] {
        var due: [(expiresAtMs: Int64, key: Key)] = []
        while let first = entries.first, first.expiresAtMs <= nowMs {
            due.append(first)
            let last = entries.removeLast()
            if !entries.isEmpty {
                entries[0] = last
                siftDown(0)
            }
        }
        return due
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < entries.count, entries[left].expiresAtMs < entries[smallest].expiresAtMs { smallest = left }
            if right < entries.count, entries[right].expiresAtMs < entries[smallest].expiresAtMs { smallest = right }
            guard smallest != parent else { return }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
