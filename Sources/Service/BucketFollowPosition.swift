/// Where a follower of a key-value bucket (`EngineTokens`, `EngineReplica`) reads the bucket's changes
/// from: after the highest revision it applied, except after its connection to the engine was
/// re-established, when it reads the whole bucket again once (from revision 0).
///
/// Why: a revision names a place in the bucket's stream, and a stream's sequence can go back. When every
/// node of the cluster is killed at once, nats-server (seen with 2.9) can come back without its last
/// writes and hands their sequences out again, so a change written after the restart can carry a revision
/// the follower already applied and "changes after my revision" would skip it for good (a revocation
/// never heard). A follower cannot have kept its connection through a loss of every node, so a
/// reconnect is when it starts over. A full read applies each key's latest entry (the buckets keep one),
/// which is idempotent.
///
/// A pure value: the caller supplies the connection's reconnect count and the revisions applied.
struct BucketFollowPosition: Sendable, Equatable {
    /// The highest revision applied since the last start-over (0: read from the start).
    private(set) var revision: UInt64 = 0
    /// The connection's reconnect count the current reading is based on (nil: none seen yet).
    private(set) var reconnectCount: Int?
    /// How many times the follower started over after a reconnect.
    private(set) var startOverCount = 0
    /// True from a start-over until a read reached the end of the bucket (`caughtUp()`): the entries read
    /// meanwhile may be old news, already applied before the reconnect.
    private(set) var isReadingAgain = false
    /// A reconnect came while a read from the start was under way: that read goes on to the end (so
    /// reconnects more frequent than a full read never keep the follower from the bucket's latest
    /// changes), and the next read starts over once more.
    private(set) var isStartOverPending = false

    /// Starts a read of the changes, given the connection's reconnect count now: it goes on after
    /// `revision`, which is 0 again when the connection was re-established since the last read began
    /// (then it returns true). A read that fails keeps what it applied, and the next goes on from
    /// there. A reconnect during a read from the start lets that read finish first (see
    /// `isStartOverPending`).
    @discardableResult
    mutating func begin(reconnectCount now: Int) -> Bool {
        defer { reconnectCount = now }
        let reconnected = reconnectCount.map { $0 != now } ?? false
        if reconnected, isReadingAgain {
            isStartOverPending = true
            return false
        }
        guard reconnected || isStartOverPending else { return false }
        revision = 0
        startOverCount += 1
        isReadingAgain = true
        isStartOverPending = false
        return true
    }

    /// Notes that a read reached the end of the bucket.
    mutating func caughtUp() {
        isReadingAgain = false
    }

    /// Notes that the change at `revision` was applied.
    mutating func applied(_ revision: UInt64) {
        self.revision = max(self.revision, revision)
    }

    /// Takes back the last `applied` (its change could not be applied after all): the next read goes on
    /// after `revision`, the highest applied before it.
    mutating func restore(revision: UInt64) {
        self.revision = min(self.revision, revision)
    }
}
