/// Unsigned integers written in decimal as ASCII digits straight into bytes, without a `String`: the one
/// formatter behind the envelope's offset, the HTTP status line and `Content-Length`, the timestamp's fields
/// and the access log's numbers (each runs per request or per event).
public enum DecimalDigits {
    /// The most digits a `UInt64` has in decimal (`UInt64.max` is 20 digits long).
    public static let countMax = 20

    /// How many bytes `write` writes for `value`: its digits, at least `minimumCount` (at most `countMax`).
    public static func count(_ value: UInt64, minimumCount: Int = 1) -> Int {
        var count = 1
        var rest = value / 10
        while rest > 0 {
            count += 1
            rest /= 10
        }
        return max(count, min(minimumCount, countMax))
    }

    /// Writes `value` in decimal at `destination`, with leading zeros up to `minimumCount` digits (at most
    /// `countMax`); returns how many bytes it wrote (`count(value, minimumCount:)`, at most `countMax`).
    /// - Precondition: `destination` has room for that many bytes.
    @discardableResult
    public static func write(_ value: UInt64, minimumCount: Int = 1, to destination: UnsafeMutableRawPointer) -> Int {
        let count = count(value, minimumCount: minimumCount)
        var rest = value
        for position in stride(from: count - 1, through: 0, by: -1) {
            destination.storeBytes(of: UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest % 10), toByteOffset: position, as: UInt8.self)
            rest /= 10
        }
        return count
    }
}

extension Array where Element == UInt8 {
    /// Appends `value` in decimal ASCII digits, with leading zeros up to `minimumDigitCount` digits (at most
    /// `DecimalDigits.countMax`); no `String` in between.
    public mutating func appendDecimal(_ value: UInt64, minimumDigitCount: Int = 1) {
        // 32 bytes of inline storage hold the longest, 20 digits.
        var digits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        Swift.withUnsafeMutableBytes(of: &digits) { buffer in
            let count = DecimalDigits.write(value, minimumCount: minimumDigitCount, to: buffer.baseAddress.unsafelyUnwrapped)
            append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
    }
}
