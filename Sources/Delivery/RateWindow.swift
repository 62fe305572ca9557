/// A sliding one-second window of attempt start times: at most `limit` starts in any 1,000 ms.
/// Holds at most `limit` times (10,000 at most), so its memory is bounded by the webhook's own limit.
struct RateWindow: Sendable, Equatable {
    /// Starts allowed per window, 1...10,000.
    private(set) var limit: Int
    /// Start times of the last `limit` attempts, oldest at `head` once full.
    private var times: [Int64] = []
    private var head = 0

    static let windowMs: Int64 = 1000

    init(limit: Int) {
        self.limit = min(max(limit, 1), 10_000)
    }

    /// The earliest time at or after `nowMs` when another start is allowed.
    func nextAllowedMs(atOrAfter nowMs: Int64) -> Int64 {
        guard times.count == limit else { return nowMs }
        // The oldest of the last `limit` starts must have left the window.
        let (freeAt, overflow) = times[head].addingReportingOverflow(Self.windowMs)
        return overflow ? nowMs : max(nowMs, freeAt)
    }

    /// Counts a start at `nowMs` (callers check `nextAllowedMs` first).
    mutating func record(_ nowMs: Int64) {
        if times.count < limit {
            times.append(nowMs)
        } else {
            times[head] = nowMs
            head = (head + 1) % limit
        }
    }

    /// A window with a new limit that keeps the most recent starts.
    func resized(to newLimit: Int) -> RateWindow {
        var resized = RateWindow(limit: newLimit)
        let ordered = Array(times[head...] + times[..<head])
        for time in ordered.suffix(resized.limit) { resized.record(time) }
        return resized
    }
}
