/// The remembered idempotency keys, as a pure value (the caller passes the time).
///
/// Bounded per organization and in total, so one tenant cannot evict another's keys: each
/// organization keeps at most `perOrganizationMax` finished keys (its own oldest go first), and
/// when the total reaches `totalMax`, the oldest key of the organization holding the most keys
/// goes. Every step is O(1) amortized: per-organization FIFO queues, and organizations bucketed
/// by key count so the largest is found without a scan. Keys older than `retentionMs` count as
/// absent and are dropped from the queue fronts as new keys arrive.
struct IdempotencyBook: Sendable {
    enum Entry: Sendable {
        case inProgress(requestDigest: [UInt8])
        case done(requestDigest: [UInt8], status: Int, body: [UInt8], createdAtMs: Int64)
    }

    /// One organization's finished keys, oldest first (`head` skips removed ones).
    private struct Queue: Sendable {
        var keys: [String] = []
        var head = 0
        var count: Int { keys.count - head }

        mutating func popFirst() -> String? {
            guard head < keys.count else { return nil }
            let key = keys[head]
            head += 1
            if head > 64, head * 2 > keys.count {
                keys.removeFirst(head)
                head = 0
            }
            return key
        }

        var first: String? { head < keys.count ? keys[head] : nil }
    }

    let perOrganizationMax: Int
    let totalMax: Int
    let retentionMs: Int64
    private(set) var entries: [String: Entry] = [:]
    private var queues: [String: Queue] = [:]
    /// Organizations by their count of finished keys, and the largest count present.
    private var organizationsByCount: [Int: Set<String>] = [:]
    private var largestCount = 0
    /// Finished keys held, over all organizations.
    private(set) var finishedCount = 0

    init(perOrganizationMax: Int, totalMax: Int, retentionMs: Int64) {
        precondition(perOrganizationMax > 0 && totalMax >= perOrganizationMax)
        self.perOrganizationMax = perOrganizationMax
        self.totalMax = totalMax
        self.retentionMs = retentionMs
    }

    /// The organization part of a key made by `IdempotencyCache.key(organizationID:key:)`.
    static func organization(of key: String) -> String {
        String(key.prefix { $0 != "\u{0}" })
    }

    func entry(_ key: String, nowMs: Int64) -> Entry? {
        switch entries[key] {
        case .done(_, _, _, let created)? where nowMs - created >= retentionMs: return nil
        case let entry: return entry
        }
    }

    mutating func begin(_ key: String, requestDigest: [UInt8]) {
        if case .done? = entries[key] { forgetFinished(key) }
        entries[key] = .inProgress(requestDigest: requestDigest)
    }

    mutating func abandon(_ key: String) {
        if case .inProgress? = entries[key] { entries[key] = nil }
    }

    /// Records a finished key (replacing an in-progress or older entry) and applies the bounds.
    mutating func finish(_ key: String, requestDigest: [UInt8], status: Int, body: [UInt8], createdAtMs: Int64) {
        if case .done? = entries[key] { forgetFinished(key) }
        let organization = Self.organization(of: key)
        entries[key] = .done(requestDigest: requestDigest, status: status, body: body, createdAtMs: createdAtMs)
        queues[organization, default: Queue()].keys.append(key)
        finishedCount += 1
        move(organization, by: +1)
        dropExpired(organization, nowMs: createdAtMs)
        while queues[organization]?.count ?? 0 > perOrganizationMax { evictOldest(of: organization) }
        while finishedCount > totalMax, let largest = organizationsByCount[largestCount]?.first { evictOldest(of: largest) }
    }

    /// How many finished keys `organization` holds.
    func count(of organization: String) -> Int { queues[organization]?.count ?? 0 }

    /// Every finished, unexpired entry (for rewriting the journal), oldest first per organization.
    func finishedEntries(nowMs: Int64) -> [(key: String, entry: Entry)] {
        var result: [(String, Entry)] = []
        for queue in queues.values {
            for key in queue.keys[queue.head...] {
                if let entry = entry(key, nowMs: nowMs), case .done = entry { result.append((key, entry)) }
            }
        }
        return result
    }

    private mutating func dropExpired(_ organization: String, nowMs: Int64) {
        while let key = queues[organization]?.first, entry(key, nowMs: nowMs) == nil { evictOldest(of: organization) }
    }

    private mutating func evictOldest(of organization: String) {
        guard let key = queues[organization]?.popFirst() else { return }
        if case .done? = entries[key] { entries[key] = nil }
        finishedCount -= 1
        move(organization, by: -1)
        if queues[organization]?.count == 0 { queues[organization] = nil }
    }

    /// Takes a finished key out of its queue ahead of its turn (it is being reused): O(n) in the
    /// organization's queue, and only on the rare re-use of an expired key.
    private mutating func forgetFinished(_ key: String) {
        let organization = Self.organization(of: key)
        guard var queue = queues[organization], let index = queue.keys[queue.head...].firstIndex(of: key) else { return }
        queue.keys.remove(at: index)
        queues[organization] = queue.count == 0 ? nil : queue
        entries[key] = nil
        finishedCount -= 1
        move(organization, by: -1)
    }

    private mutating func move(_ organization: String, by change: Int) {
        let old = (queues[organization]?.count ?? 0) - change
        let new = old + change
        if old > 0 {
            organizationsByCount[old]?.remove(organization)
            if organizationsByCount[old]?.isEmpty == true { organizationsByCount[old] = nil }
        }
        if new > 0 { organizationsByCount[new, default: []].insert(organization) }
        if new > largestCount { largestCount = new }
        while largestCount > 0, organizationsByCount[largestCount] == nil { largestCount -= 1 }
    }
}
