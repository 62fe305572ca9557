/// Byte-level helpers for the HTTP grammar (RFC 9110 / 9112); `trimmed` is shared with the delivery client.
package enum ASCII {
    static let carriageReturn: UInt8 = 0x0D
    static let lineFeed: UInt8 = 0x0A
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
    static let comma: UInt8 = 0x2C
    static let percent: UInt8 = 0x25
    static let slash: UInt8 = 0x2F
    static let questionMark: UInt8 = 0x3F
    static let plus: UInt8 = 0x2B
    static let equals: UInt8 = 0x3D
    static let hash: UInt8 = 0x23

    @inline(__always)
    static func lowercased(_ byte: UInt8) -> UInt8 {
        (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte
    }

    /// `tchar` from RFC 9110 §5.6.2: the bytes of a method or field name.
    @inline(__always)
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        case 0x21, 0x23...0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x5E, 0x5F, 0x60, 0x7C, 0x7E: true
        default: false
        }
    }

    /// A byte allowed inside a field value: VCHAR, obs-text, SP and HTAB (no other controls).
    @inline(__always)
    static func isFieldValueByte(_ byte: UInt8) -> Bool {
        byte >= 0x20 ? byte != 0x7F : byte == tab
    }

    /// A byte allowed in a request-target: visible ASCII.
    @inline(__always)
    static func isTargetByte(_ byte: UInt8) -> Bool {
        byte > 0x20 && byte < 0x7F
    }

    /// The value of a hexadecimal digit, or nil.
    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }

    /// Whether `left` and `right` hold the same bytes ignoring ASCII case (field names, tokens such as
    /// `chunked`; bytes outside A-Z compare as they are).
    static func equalIgnoringCase(_ left: some StringProtocol, _ right: some StringProtocol) -> Bool {
        let leftBytes = left.utf8, rightBytes = right.utf8
        guard leftBytes.count == rightBytes.count else { return false }
        // Native strings compare as two buffers (every request looks several fields up).
        if let equal = leftBytes.withContiguousStorageIfAvailable({ leftBuffer in
            rightBytes.withContiguousStorageIfAvailable { rightBuffer in equalIgnoringCase(leftBuffer, rightBuffer) }
        }), let equal {
            return equal
        }
        for (a, b) in zip(leftBytes, rightBytes) where a != b {
            if lowercased(a) != lowercased(b) { return false }
        }
        return true
    }

    /// Whether two buffers of equal length hold the same bytes ignoring ASCII case.
    private static func equalIgnoringCase(_ left: UnsafeBufferPointer<UInt8>, _ right: UnsafeBufferPointer<UInt8>) -> Bool {
        guard left.count == right.count else { return false }
        for index in 0..<left.count where left[index] != right[index] {
            if lowercased(left[index]) != lowercased(right[index]) { return false }
        }
        return true
    }

    /// `string` without leading and trailing spaces and tabs.
    package static func trimmed(_ string: Substring) -> Substring {
        var result = string
        while let first = result.utf8.first, first == space || first == tab { result = result.dropFirst() }
        while let last = result.utf8.last, last == space || last == tab { result = result.dropLast() }
        return result
    }

    /// The comma-separated elements of a list-valued field, trimmed, empty elements dropped.
    static func listElements(_ value: String) -> [Substring] {
        value.split(separator: ",", omittingEmptySubsequences: true).map { trimmed($0) }.filter { !$0.isEmpty }
    }
}
