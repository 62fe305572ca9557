import SystemIO

/// Formats the `Date` header (IMF-fixdate, RFC 9110 §5.6.7) with SystemIO's `CivilDate`, the one date
/// computation `UTCTimestamp` (log and envelope timestamps) uses too; the value is cached per second.
struct HTTPDate {
    private var cachedSeconds: Int?
    private var cachedValue = ""

    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// The `Date` header value for `seconds` since the epoch, such as `Sun, 06 Nov 1994 08:49:37 GMT`.
    mutating func headerValue(seconds: Int) -> String {
        if seconds != cachedSeconds {
            cachedSeconds = seconds
            let date = CivilDate(ms: Int64(min(max(seconds, -(1 << 50)), 1 << 50)) * 1000)  // ±35 million years: no overflow
            cachedValue = "\(Self.weekdays[date.weekday]), \(Self.pad(date.day, 2)) \(Self.months[date.month - 1]) "
                + "\(Self.pad(date.year, 4)) \(Self.pad(date.hour, 2)):\(Self.pad(date.minute, 2)):\(Self.pad(date.second, 2)) GMT"
        }
        return cachedValue
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
