import SystemIO

/// When a request must be over: a total limit from its start and, optionally, an idle limit that starts
/// again whenever bytes move (S3's uploads and downloads run as long as they progress; a delivery attempt
/// has only its total). A value: each wait asks `nextNs()` for the instant it may wait until.
package struct Deadline: Sendable {
    /// The total limit, in monotonic nanoseconds.
    let totalNs: UInt64
    /// The idle limit's length, in nanoseconds, or nil for none.
    let idleNs: UInt64?

    /// - Parameters:
    ///   - totalSeconds: 0.001 s to 1 day from now.
    ///   - idleSeconds: 0.001 s to 1 day without progress, or nil.
    package init(totalSeconds: Double, idleSeconds: Double? = nil) {
        totalNs = SystemClock.monotonicNanoseconds() + UInt64(max(0.001, min(totalSeconds, 86_400)) * 1e9)
        idleNs = idleSeconds.map { UInt64(max(0.001, min($0, 86_400)) * 1e9) }
    }

    /// The instant the next wait must end by: the total limit, or sooner the idle limit counted from now
    /// (each call comes after bytes moved or at the start of an operation).
    package func nextNs() -> UInt64 {
        guard let idleNs else { return totalNs }
        return min(totalNs, SystemClock.monotonicNanoseconds() + idleNs)
    }
}
