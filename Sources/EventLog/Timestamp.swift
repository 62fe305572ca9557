import SystemIO

/// RFC 3339 timestamps in UTC, as the envelope writes them: `2026-06-05T10:00:00.000+00:00`.
public enum Timestamp {
    /// Formats milliseconds since 1970 as RFC 3339 UTC with milliseconds and `+00:00`.
    public static func format(ms: Int64) -> String { UTCTimestamp.format(ms: ms) }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` (also `t`, `z` and a space for `T`) to
    /// milliseconds since 1970; nil when malformed.
    public static func parse(_ text: String) -> Int64? {
        let characters = Array(text.utf8)
        guard characters.count >= 20 else { return nil }
        func number(_ start: Int, _ count: Int) -> Int? {
            var value = 0
            for index in start..<(start + count) {
                let character = characters[index]
                guard character >= 48 && character <= 57 else { return nil }
                value = value * 10 + Int(character - 48)
            }
            return value
        }
        guard let year = number(0, 4), characters[4] == UInt8(ascii: "-"), let month = number(5, 2),
              characters[7] == UInt8(ascii: "-"), let day = number(8, 2),
              [UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: " ")].contains(characters[10]),
              let hour = number(11, 2), characters[13] == UInt8(ascii: ":"), let minute = number(14, 2),
              characters[16] == UInt8(ascii: ":"), let second = number(17, 2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var index = 19
        var milliseconds = 0
        if characters[index] == UInt8(ascii: ".") {
            index += 1
            var digits = 0
            while index < characters.count, characters[index] >= 48, characters[index] <= 57 {
                if digits < 3 { milliseconds = milliseconds * 10 + Int(characters[index] - 48) }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            if digits < 3 { for _ in digits..<3 { milliseconds *= 10 } }
        }
        guard index < characters.count else { return nil }
        var offsetSeconds = 0
        if characters[index] == UInt8(ascii: "Z") || characters[index] == UInt8(ascii: "z") {
            guard index + 1 == characters.count else { return nil }
        } else {
            guard index + 6 == characters.count,
                  characters[index] == UInt8(ascii: "+") || characters[index] == UInt8(ascii: "-"),
                  let offsetHours = number(index + 1, 2), characters[index + 3] == UInt8(ascii: ":"),
                  let offsetMinutes = number(index + 4, 2), offsetHours < 24, offsetMinutes < 60
            else { return nil }
            offsetSeconds = (offsetHours * 3600 + offsetMinutes * 60) * (characters[index] == UInt8(ascii: "-") ? -1 : 1)
        }
        guard let civil = unixSeconds(year: year, month: month, day: day, hour: hour, minute: minute, second: second) else {
            return nil
        }
        let seconds = civil - Int64(offsetSeconds)
        return seconds * 1000 + Int64(milliseconds)
    }

    /// Seconds since 1970 of a UTC civil time (days from civil, Howard Hinnant's algorithm); nil out of range.
    public static func unixSeconds(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> Int64? {
        // The year bound keeps the arithmetic below far from overflow (a receiver's date can say anything).
        guard (-1_000_000...1_000_000).contains(year), (1...12).contains(month), (1...31).contains(day), (0..<24).contains(hour), (0..<60).contains(minute),
              (0...60).contains(second) else { return nil }
        let adjustedYear = month <= 2 ? year - 1 : year
        let era = (adjustedYear >= 0 ? adjustedYear : adjustedYear - 399) / 400
        let yearOfEra = adjustedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = Int64(era * 146_097 + dayOfEra - 719_468)
        return days * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }
}
