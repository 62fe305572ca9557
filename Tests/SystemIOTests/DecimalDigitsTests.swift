import Testing
@testable import SystemIO

/// `DecimalDigits` and `[UInt8].appendDecimal` against `String(value)`, at the edges of each digit count.
@Suite struct DecimalDigitsTests {
    static let values: [UInt64] = [0, 1, 9, 10, 99, 100, 999, 1_000, 65_535, 4_294_967_295, 9_999_999_999_999_999_999, UInt64.max]

    @Test(arguments: values)
    func digitsAreStringsDigits(value: UInt64) {
        var bytes: [UInt8] = [UInt8(ascii: "x")]
        bytes.appendDecimal(value)
        #expect(bytes == Array(("x" + String(value)).utf8))
        #expect(DecimalDigits.count(value) == String(value).utf8.count)
    }

    @Test func leadingZerosFillTheMinimumCountUpToTwentyDigits() {
        func decimal(_ value: UInt64, _ minimumDigitCount: Int) -> String {
            var bytes: [UInt8] = []
            bytes.appendDecimal(value, minimumDigitCount: minimumDigitCount)
            return String(decoding: bytes, as: UTF8.self)
        }
        #expect(decimal(7, 3) == "007")
        #expect(decimal(0, 4) == "0000")
        #expect(decimal(1234, 2) == "1234", "a minimum, never a cut")
        #expect(decimal(0, 0) == "0")
        #expect(decimal(5, 64) == String(repeating: "0", count: 19) + "5", "at most 20 digits")
        #expect(decimal(UInt64.max, 25) == String(UInt64.max))
    }

    @Test func writeWritesOnlyItsDigits() {
        var buffer = [UInt8](repeating: UInt8(ascii: "-"), count: 8)
        let count = buffer.withUnsafeMutableBytes { DecimalDigits.write(42, minimumCount: 3, to: $0.baseAddress! + 2) }
        #expect(count == 3)
        #expect(String(decoding: buffer, as: UTF8.self) == "--042---")
    }
}
