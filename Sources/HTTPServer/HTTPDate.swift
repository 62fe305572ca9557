#if canImport(Glibc)
import Glibc
#endif

/// Formats the `Date` header (IMF-fixdate, RFC 9110 §5.6.7) without Foundation; the value is cached
/// per second. (Log timestamps: `UTCTimestamp` in SystemIO.)
struct HTTPDate {
    private var cachedSeconds = -1
    private var cachedValue = ""

    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// The `Date` header value for `seconds` since the epoch, such as `Sun, 06 Nov 1994 08:49:37 GMT`.
    mutating func headerValue(seconds: Int) -> String {
        if seconds != cachedSeconds {
            cachedSeconds = seconds
            let parts = Self.utc(seconds)
            cachedValue = "\(Self.weekdays[parts.weekday]), \(Self.pad(parts.day, 2)) \(Self.months[parts.month - 1]) "
                + "\(parts.year) \(Self.pad(parts.hour, 2)):\(Self.pad(parts.minute, 2)):\(Self.pad(parts.second, 2)) GMT"
        }
        return cachedValue
    }

    private static func utc(_ seconds: Int) -> (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, weekday: Int) {
        var time = time_t(seconds)
        var broken = tm()
        gmtime_r(&time, &broken)
        return (Int(broken.tm_year) + 1900, Int(broken.tm_mon) + 1, Int(broken.tm_mday), Int(broken.tm_hour),
                Int(broken.tm_min), Int(broken.tm_sec), Int(broken.tm_wday))
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
