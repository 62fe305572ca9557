import Foundation
import SystemIO
import Testing

@Suite struct UTCTimestampTests {
    @Test func knownInstantsFormatAsRFC3339WithMilliseconds() {
        #expect(UTCTimestamp.format(ms: 0) == "1970-01-01T00:00:00.000+00:00")
        #expect(UTCTimestamp.format(ms: 7) == "1970-01-01T00:00:00.007+00:00")
        #expect(UTCTimestamp.format(ms: 1_780_653_600_123) == "2026-06-05T10:00:00.123+00:00")
        #expect(UTCTimestamp.format(ms: 951_782_400_000) == "2000-02-29T00:00:00.000+00:00")
        #expect(UTCTimestamp.format(ms: -1) == "1969-12-31T23:59:59.999+00:00")
        #expect(UTCTimestamp.format(ms: -62_167_219_200_000) == "0000-01-01T00:00:00.000+00:00")
        #expect(UTCTimestamp.format(ms: 253_402_300_799_999) == "9999-12-31T23:59:59.999+00:00")
    }

    /// Outside the years 0 to 9999 the year takes more digits (as the envelope always wrote it), and
    /// the extremes of Int64 neither trap nor write garbage.
    @Test func yearsBeyondFourDigitsAndInt64ExtremesStillFormat() {
        #expect(UTCTimestamp.format(ms: 253_402_300_800_000) == "10000-01-01T00:00:00.000+00:00")
        for ms in [Int64.max, Int64.min, Int64.min + 1] {
            let text = UTCTimestamp.format(ms: ms)
            #expect(text.hasSuffix("+00:00") && text.count > UTCTimestamp.sizeBytes, "\(ms): \(text)")
        }
        var bytes: [UInt8] = [1]
        UTCTimestamp.append(ms: 253_402_300_800_000, to: &bytes)
        #expect(bytes == [1] + Array("10000-01-01T00:00:00.000+00:00".utf8))
    }

    /// Against Foundation's formatter as an independent oracle, over random instants of the years 0 to 9999.
    @Test func randomInstantsMatchFoundation() {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.calendar = Calendar(identifier: .iso8601)
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            // Gregorian years 1600 to 9999 (Foundation switches to the Julian calendar before 1582).
            // Whole seconds go to Foundation (exact as a Double); the milliseconds are added as text.
            let seconds = Int64.random(in: -11_676_096_000...253_402_300_799, using: &generator)
            let milliseconds = Int64.random(in: 0...999, using: &generator)
            let ms = seconds * 1000 + milliseconds
            let expected = formatter.string(from: Date(timeIntervalSince1970: Double(seconds)))
                + "." + String(repeating: "0", count: 3 - String(milliseconds).count) + String(milliseconds) + "+00:00"
            #expect(UTCTimestamp.format(ms: ms) == expected, "\(ms)")
            var appended: [UInt8] = Array("x".utf8)
            UTCTimestamp.append(ms: ms, to: &appended)
            #expect(appended == Array(("x" + expected).utf8))
        }
    }
}
