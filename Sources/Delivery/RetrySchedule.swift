import EventLog
import Foundation

/// When to try a failed delivery again: exponential backoff (factor 6: about 10 s, 60 s, 6 min with the
/// default 10 s start) with ±20 % jitter, capped at the webhook's maximum; `Retry-After` of a 429 or 503
/// is honoured within [100 ms, the cap].
public struct RetrySchedule: Sendable, Equatable {
    /// Retries after the first attempt (0 to 10).
    public var maxRetries: Int
    public var initialDelayMs: Int64
    public var maxDelayMs: Int64

    /// Growth factor between consecutive retries.
    public static let backoffFactor: Double = 6
    /// Jitter as a fraction of the delay, applied both ways.
    public static let jitterFraction: Double = 0.2

    /// The default is DESIGN.md's: 3 retries from 10 s, at most 1 h apart.
    public init(maxRetries: Int = 3, initialDelayMs: Int64 = 10_000, maxDelayMs: Int64 = 3_600_000) {
        precondition(maxRetries >= 0 && initialDelayMs > 0 && maxDelayMs >= initialDelayMs, "invalid retry schedule")
        self.maxRetries = maxRetries
        self.initialDelayMs = initialDelayMs
        self.maxDelayMs = maxDelayMs
    }

    /// The delay before attempt `attempt + 1` after attempt `attempt` (1-based) failed, or nil when the
    /// retries are exhausted. `retryAfterSeconds` comes from a 429/503 answer; `random` in [0, 1).
    public func delayMs(afterAttempt attempt: Int, retryAfterSeconds: Double? = nil, random: Double) -> Int64? {
        guard attempt >= 1, attempt <= maxRetries else { return nil }
        if let retryAfterSeconds {
            let requested = Int64((retryAfterSeconds * 1000).rounded())
            return min(max(requested, 100), maxDelayMs)
        }
        var base = Double(initialDelayMs)
        for _ in 1..<attempt { base *= Self.backoffFactor }
        base = min(base, Double(maxDelayMs))
        let jittered = base * (1 - Self.jitterFraction + 2 * Self.jitterFraction * random)
        return min(max(Int64(jittered), 1), maxDelayMs)
    }

    /// Parses a `Retry-After` value: delay-seconds, or an HTTP date relative to `nowSeconds`.
    public static func retryAfterSeconds(_ value: String?, nowSeconds: Double) -> Double? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Int(value), seconds >= 0 { return Double(seconds) }
        return HTTPDateParser.parse(value).map { max(0, $0 - nowSeconds) }
    }
}

/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) to Unix seconds.
enum HTTPDateParser {
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func parse(_ text: String) -> Double? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[5] == "GMT", let day = Int(parts[1]), let monthIndex = months.firstIndex(of: String(parts[2])),
              let year = Int(parts[3]) else { return nil }
        let time = parts[4].split(separator: ":").compactMap { Int($0) }
        guard time.count == 3 else { return nil }
        return Timestamp.unixSeconds(year: year, month: monthIndex + 1, day: day, hour: time[0], minute: time[1], second: time[2])
            .map(Double.init)
    }
}
