import Foundation

extension Date {
    /// Whole Unix seconds, rounded down (as `webhook-timestamp` is written), clamped to `Int64`.
    public var wholeUnixSeconds: Int64 {
        let seconds = timeIntervalSince1970.rounded(.down)
        guard seconds.isFinite else { return 0 }
        if seconds >= Double(Int64.max) { return .max }
        if seconds <= Double(Int64.min) { return .min }
        return Int64(seconds)
    }
}
