/// The rule that decides when another process's lease has expired, as a pure value. A lease is a
/// key-value entry its holder rewrites every few seconds (each write a new revision). An observer
/// never compares clocks across machines: it notes when it first saw the current revision on its own
/// monotonic clock, and the lease is expired once that revision stayed unchanged for the lease's
/// duration. So a takeover happens between `durationNs` and `durationNs` + one observation interval
/// after the holder's last renewal, whatever the machines' wall clocks say.
package struct LeaseObservation: Sendable, Equatable {
    /// The revision seen last (0: the key was absent or deleted).
    package private(set) var revision: UInt64 = 0
    /// When `revision` was first seen, in monotonic nanoseconds.
    package private(set) var firstSeenNs: UInt64 = 0

    package init() {}

    /// Records that the entry is at `revision` now (`nowNs`, monotonic) and returns whether the holder
    /// must be considered gone: the revision has not changed for `durationNs`.
    package mutating func observe(revision: UInt64, nowNs: UInt64, durationNs: UInt64) -> Bool {
        if revision != self.revision || firstSeenNs == 0 {
            self.revision = revision
            firstSeenNs = nowNs
            return false
        }
        return nowNs - firstSeenNs >= durationNs
    }
}
