/// The proleptic Gregorian calendar date and time of day in UTC of an instant given in milliseconds
/// since 1970 (Howard Hinnant's `civil_from_days`), without Foundation or `gmtime_r`: the one date
/// computation behind `UTCTimestamp` (RFC 3339) and the HTTP server's `Date` header (which also needs
/// the weekday). Instants are clamped to ±2^61 ms (far beyond any year a clock gives), so no input traps.
public struct CivilDate: Equatable, Sendable {
    /// The year (0 is 1 BC; negative before that).
    public let year: Int
    /// The month, 1...12.
    public let month: Int
    /// The day of the month, 1...31.
    public let day: Int
    /// Seconds since midnight, 0...86_399.
    public let secondOfDay: Int
    /// Milliseconds within the second, 0...999.
    public let milliseconds: Int
    /// The day of the week, 0 (Sunday) ... 6 (Saturday).
    public let weekday: Int

    /// The date of `ms` milliseconds since 1970-01-01T00:00:00Z (negative: before).
    public init(ms unclamped: Int64) {
        let ms = min(max(unclamped, -(1 << 61)), 1 << 61)
        let seconds = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
        milliseconds = Int(ms - seconds * 1000)
        var days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        secondOfDay = Int(seconds - days * 86_400)
        // 1970-01-01 was a Thursday (4).
        weekday = Int(((days % 7) + 11) % 7)
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let dayOfEra = days - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthPrime = (5 * dayOfYear + 2) / 153
        day = Int(dayOfYear - (153 * monthPrime + 2) / 5 + 1)
        month = Int(monthPrime < 10 ? monthPrime + 3 : monthPrime - 9)
        year = Int(yearOfEra + era * 400 + (month <= 2 ? 1 : 0))
    }

    /// The hour, 0...23.
    public var hour: Int { secondOfDay / 3600 }
    /// The minute, 0...59.
    public var minute: Int { secondOfDay / 60 % 60 }
    /// The second, 0...59 (no leap seconds: POSIX time).
    public var second: Int { secondOfDay % 60 }
}
