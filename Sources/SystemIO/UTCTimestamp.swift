/// RFC 3339 timestamps in UTC with milliseconds, `2026-06-05T10:00:00.000+00:00`: the one formatter
/// behind the envelope's `timestamp`, the publish answer and the access log. It writes 29 ASCII bytes
/// straight into a buffer (no `String` interpolation, no allocation besides the caller's buffer),
/// because it runs once or twice per published event.
public enum UTCTimestamp {
    /// The length of a formatted timestamp of the years 0 to 9999, in bytes.
    public static let sizeBytes = 29

    /// Formats milliseconds since 1970 (negative: before 1970). Years outside 0...9999 (which no
    /// clock gives) take a slower path that writes as many year digits as needed, as before.
    public static func format(ms: Int64) -> String {
        guard (minimumMs...maximumMs).contains(ms) else { return formatAnyYear(ms: ms) }
        return String(unsafeUninitializedCapacity: sizeBytes) { buffer in
            write(ms: ms, into: UnsafeMutableRawBufferPointer(buffer))
            return sizeBytes
        }
    }

    /// Appends the formatted timestamp of `ms` to `output` (as `format(ms:)` would write it).
    public static func append(ms: Int64, to output: inout [UInt8]) {
        guard (minimumMs...maximumMs).contains(ms) else {
            output.append(contentsOf: formatAnyYear(ms: ms).utf8)
            return
        }
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: sizeBytes))
        output.withUnsafeMutableBytes { bytes in
            write(ms: ms, into: UnsafeMutableRawBufferPointer(rebasing: bytes[start..<(start + sizeBytes)]))
        }
    }

    /// Writes exactly `sizeBytes` bytes at the start of `buffer` (which holds at least that many).
    private static func write(ms: Int64, into buffer: UnsafeMutableRawBufferPointer) {
        let date = CivilDate(ms: ms)
        var position = 0
        /// `value` in exactly `width` digits (every field fits its width for the years 0 to 9999).
        func digits(_ value: Int, _ width: Int) {
            position += DecimalDigits.write(UInt64(value), minimumCount: width, to: buffer.baseAddress.unsafelyUnwrapped + position)
        }
        func literal(_ byte: UInt8) {
            buffer[position] = byte
            position += 1
        }
        /// A field of `width` digits and the separator that follows it.
        func field(_ value: Int, _ width: Int, then separator: Unicode.Scalar) {
            digits(value, width)
            literal(UInt8(ascii: separator))
        }
        field(date.year, 4, then: "-")
        field(date.month, 2, then: "-")
        field(date.day, 2, then: "T")
        field(date.hour, 2, then: ":")
        field(date.minute, 2, then: ":")
        field(date.second, 2, then: ".")
        digits(date.milliseconds, 3)
        for byte in "+00:00".utf8 { literal(byte) }
    }

    /// Any year, with `String` padding (years beyond 9999 get more digits; before year 0, a sign).
    private static func formatAnyYear(ms: Int64) -> String {
        let date = CivilDate(ms: ms)
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(date.year, 4))-\(pad(date.month, 2))-\(pad(date.day, 2))T\(pad(date.hour, 2)):"
            + "\(pad(date.minute, 2)):\(pad(date.second, 2)).\(pad(date.milliseconds, 3))+00:00"
    }

    /// 0000-01-01T00:00:00.000 and 9999-12-31T23:59:59.999, in milliseconds since 1970.
    private static let minimumMs: Int64 = -62_167_219_200_000
    private static let maximumMs: Int64 = 253_402_300_799_999
}
