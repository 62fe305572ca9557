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
    package static let backoffFactor: Double = 6
    /// Jitter as a fraction of the delay, applied both ways.
    package static let jitterFraction: Double = 0.2

    /// The default is DESIGN.md's: 3 retries from 10 s, at most 1 h apart.
    public init(maxRetries: Int = 3, initialDelayMs: Int64 = 10_000, maxDelayMs: Int64 = 3_600_000) {
        precondition(maxRetries >= 0 && initialDelayMs > 0 && maxDelayMs >= initialDelayMs, "invalid retry schedule")
        self.maxRetries = maxRetries
        self.initialDelayMs = initialDelayMs
        self.maxDelayMs = maxDelayMs
    }

    /// Shortest delay a `Retry-After` can ask for, in milliseconds.
    package static let retryAfterMinimumMs: Int64 = 100

    /// The delay before attempt `attempt + 1` after attempt `attempt` (1-based) of a series failed, or nil when
    /// the retries are exhausted. `retryAfterMs` comes from a 429/503 answer (any value: clamped to
    /// [100 ms, `maxDelayMs`]); `random` in [0, 1). Never traps, whatever the inputs.
    package func delayMs(afterAttempt attempt: Int, retryAfterMs: Int64? = nil, random: Double) -> Int64? {
        guard attempt >= 1, attempt <= maxRetries else { return nil }
        if let retryAfterMs { return Self.clampedRetryAfterMs(retryAfterMs, maxDelayMs: maxDelayMs) }
        var base = Double(initialDelayMs)
        for _ in 1..<min(attempt, 64) { base = min(base * Self.backoffFactor, Double(maxDelayMs)) }
        base = min(base, Double(maxDelayMs))
        let fraction = random.isFinite ? min(max(random, 0), 1) : 0.5
        let jittered = base * (1 - Self.jitterFraction + 2 * Self.jitterFraction * fraction)
        // `jittered` is at most 1.2 × maxDelayMs (an Int64 from a validated webhook): the conversion cannot trap.
        return min(max(Int64(min(jittered, Double(maxDelayMs))), 1), maxDelayMs)
    }

    /// A receiver's requested delay clamped to [`retryAfterMinimumMs`, `maxDelayMs`].
    package static func clampedRetryAfterMs(_ requestedMs: Int64, maxDelayMs: Int64) -> Int64 {
        min(max(requestedMs, retryAfterMinimumMs), max(maxDelayMs, retryAfterMinimumMs))
    }

    /// Parses a `Retry-After` value, delay-seconds or an IMF-fixdate relative to `nowMs`, into milliseconds
    /// (saturating: 99999999999999999 seconds is `Int64.max`, a date in the past is 0). A value that cannot be
    /// read (negative, fractional, not a date, a year outside 1..9999) is nil: treated as absent.
    package static func retryAfterMs(_ value: String?, nowMs: Int64) -> Int64? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty, value.utf8.count <= 64 else { return nil }
        if value.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            var milliseconds: Int64 = 0
            for digit in value.utf8 {
                let (times10, overflow1) = milliseconds.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times10.addingReportingOverflow(Int64(digit - UInt8(ascii: "0")) * 1000)
                if overflow1 || overflow2 { return .max }
                milliseconds = sum
            }
            return milliseconds
        }
        guard let dateSeconds = HTTPDateParser.parse(value) else { return nil }
        let (dateMs, overflow) = dateSeconds.multipliedReportingOverflow(by: 1000)
        if overflow { return dateSeconds > 0 ? .max : 0 }
        let (delta, overflow2) = dateMs.subtractingReportingOverflow(nowMs)
        if overflow2 { return dateMs > nowMs ? .max : 0 }
        return max(0, delta)
    }
}

/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) to Unix seconds.
enum HTTPDateParser {
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Unix seconds of `text`, nil unless it is an IMF-fixdate with a year in 1...9999.
    static func parse(_ text: String) -> Int64? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[5] == "GMT", let day = Int(parts[1]), let monthIndex = months.firstIndex(of: String(parts[2])),
              parts[3].utf8.count <= 4, let year = Int(parts[3]), (1...9999).contains(year), parts[1].utf8.count <= 2 else { return nil }
        let time = parts[4].split(separator: ":").compactMap { $0.utf8.count == 2 ? Int($0) : nil }
        guard time.count == 3 else { return nil }
        return Timestamp.unixSeconds(year: year, month: monthIndex + 1, day: day, hour: time[0], minute: time[1], second: time[2])
    }
}
