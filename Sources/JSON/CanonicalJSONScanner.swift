/// Recognizes JSON text that is already in the form `JSONValue.encoded()` writes, so a caller can
/// keep the bytes it received instead of parsing them into values and encoding them again.
///
/// The form is: no whitespace; numbers as written (any valid RFC 8259 number); strings with raw
/// UTF-8, escaping only `"` `\` (as `\"` `\\`), newline, carriage return and tab (`\n` `\r` `\t`)
/// and the other control characters (`\u00xx`, lowercase hex). A text is accepted only when
/// `JSONParser` would accept it (valid UTF-8, nesting at most `JSONParser.depthMax`, no duplicate
/// member names) and encoding what it parses gives back exactly the same bytes. Anything else, a
/// valid but differently written text included, is refused and the caller parses it the usual way.
///
/// Cost: one pass, no heap allocation (each object keeps its member-name ranges in a fixed list on
/// the stack); objects with more than `objectMemberCountMax` members are refused (their duplicate
/// check is left to the parser's set), so the scan stays linear in the input's size.
struct CanonicalJSONScanner {
    /// Objects with more members than this are refused (so the pairwise duplicate check stays small).
    static let objectMemberCountMax = 16

    private let bytes: UnsafeBufferPointer<UInt8>
    private var position: Int
    /// The bits of every string byte scanned, or-ed together: below 0x80 when all were ASCII. Bytes
    /// outside strings are ASCII by the grammar, so then the value needs no UTF-8 check.
    private var stringBits: UInt64 = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>, position: Int) {
        self.bytes = bytes
        self.position = position
    }

    /// The end of the canonical value that starts at `start` in `bytes`, nested inside `depth`
    /// containers, or nil when there is none (invalid, or valid but written differently).
    static func valueEnd(in bytes: UnsafeBufferPointer<UInt8>, from start: Int, depth: Int) -> Int? {
        var scanner = CanonicalJSONScanner(bytes, position: start)
        guard scanner.value(depth: depth) else { return nil }
        if scanner.stringBits & highBits != 0, !scanner.isValidUTF8(from: start, to: scanner.position) { return nil }
        return scanner.position
    }

    private mutating func value(depth: Int) -> Bool {
        guard position < bytes.count else { return false }
        switch bytes[position] {
        case UInt8(ascii: "{"): return object(depth: depth + 1)
        case UInt8(ascii: "["): return array(depth: depth + 1)
        case UInt8(ascii: "\""): return string()
        case UInt8(ascii: "t"): return literal("true")
        case UInt8(ascii: "f"): return literal("false")
        case UInt8(ascii: "n"): return literal("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return number()
        default: return false
        }
    }

    private mutating func literal(_ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard position + count <= bytes.count else { return false }
        for index in 0..<count where bytes[position + index] != text.utf8Start[index] { return false }
        position += count
        return true
    }

    /// Steps over a container's opening byte; nil when it is nested deeper than `JSONParser.depthMax`, else
    /// whether `closing` follows at once (an empty container, stepped over too).
    private mutating func opensEmpty(closedBy closing: UInt8, depth: Int) -> Bool? {
        guard depth <= JSONParser.depthMax else { return nil }
        position += 1
        guard position < bytes.count, bytes[position] == closing else { return false }
        position += 1
        return true
    }

    private mutating func object(depth: Int) -> Bool {
        guard let empty = opensEmpty(closedBy: UInt8(ascii: "}"), depth: depth) else { return false }
        if empty { return true }
        // This object's member-name ranges: a fixed list in the frame (no heap allocation per object).
        return withUnsafeTemporaryAllocation(of: Range<Int>.self, capacity: Self.objectMemberCountMax) { names in
            var nameCount = 0
            while true {
                guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { return false }
                let nameStart = position
                guard string() else { return false }
                let name = nameStart..<position
                guard nameCount < Self.objectMemberCountMax else { return false }
                for other in names[..<nameCount] where bytes[other].elementsEqual(bytes[name]) { return false }
                names.initializeElement(at: nameCount, to: name)
                nameCount += 1
                guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { return false }
                position += 1
                guard value(depth: depth), position < bytes.count else { return false }
                if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
                if bytes[position] == UInt8(ascii: "}") { position += 1; return true }
                return false
            }
        }
    }

    private mutating func array(depth: Int) -> Bool {
        guard let empty = opensEmpty(closedBy: UInt8(ascii: "]"), depth: depth) else { return false }
        if empty { return true }
        while true {
            guard value(depth: depth), position < bytes.count else { return false }
            if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
            if bytes[position] == UInt8(ascii: "]") { position += 1; return true }
            return false
        }
    }

    /// Any valid number: the encoder writes a number's text as it was read.
    private mutating func number() -> Bool {
        if bytes[position] == UInt8(ascii: "-") { position += 1 }
        guard position < bytes.count else { return false }
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
        } else if digits() == 0 {
            return false
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            guard digits() > 0 else { return false }
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") { position += 1 }
            guard digits() > 0 else { return false }
        }
        return true
    }

    private mutating func digits() -> Int {
        let start = position
        while position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39 { position += 1 }
        return position - start
    }

    /// A string whose escapes are exactly the encoder's (UTF-8 is checked once for the whole value).
    private mutating func string() -> Bool {
        position += 1
        while position < bytes.count {
            // Eight bytes at a time while none is a quote, a backslash or a control character.
            while position + 8 <= bytes.count {
                let word = Self.word(bytes, at: position)
                if Self.hasStringSpecial(word) { break }
                stringBits |= word
                position += 8
            }
            guard position < bytes.count else { return false }
            let byte = bytes[position]
            stringBits |= UInt64(byte)
            if byte == UInt8(ascii: "\"") {
                position += 1
                return true
            }
            if byte < 0x20 { return false }
            if byte != UInt8(ascii: "\\") {
                position += 1
                continue
            }
            guard position + 1 < bytes.count else { return false }
            switch bytes[position + 1] {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                position += 2
            case UInt8(ascii: "u"):
                // Only `\u00xx` for a control character other than \n \r \t, in lowercase hex.
                guard position + 6 <= bytes.count, bytes[position + 2] == 0x30, bytes[position + 3] == 0x30,
                      let high = Self.lowercaseHex(bytes[position + 4]), high <= 1,
                      let low = Self.lowercaseHex(bytes[position + 5]) else { return false }
                let scalar = high << 4 | low
                guard scalar != 0x0A, scalar != 0x0D, scalar != 0x09 else { return false }
                position += 6
            default:
                return false
            }
        }
        return false
    }

    private static let lowBits: UInt64 = 0x0101_0101_0101_0101
    private static let highBits: UInt64 = 0x8080_8080_8080_8080

    /// The eight bytes at `index` (any alignment), the first in the low byte.
    private static func word(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> UInt64 {
        UInt64(littleEndian: UnsafeRawPointer(bytes.baseAddress.unsafelyUnwrapped + index).loadUnaligned(as: UInt64.self))
    }

    /// True when a byte of `word` is `"` or `\` or below 0x20 (the bytes a string scan must stop at).
    /// A byte at or above 0x80 never counts: its high bit is masked out by `~word`.
    private static func hasStringSpecial(_ word: UInt64) -> Bool {
        let quote = word ^ (lowBits &* 0x22)
        let backslash = word ^ (lowBits &* 0x5C)
        let zeroQuote = (quote &- lowBits) & ~quote
        let zeroBackslash = (backslash &- lowBits) & ~backslash
        let control = (word &- lowBits &* 0x20) & ~word
        return (zeroQuote | zeroBackslash | control) & highBits != 0
    }

    private static func lowercaseHex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte - 0x30
        case 0x61...0x66: return byte - 0x57
        default: return nil
        }
    }

    /// Whether `bytes[start..<end]` is valid UTF-8 (what `String(validating:)` accepts: shortest
    /// forms, no surrogates, nothing above U+10FFFF). Bytes above 0x7F occur only inside strings,
    /// so checking the whole value checks every string in it.
    private func isValidUTF8(from start: Int, to end: Int) -> Bool {
        var index = start
        while index < end {
            // Eight ASCII bytes at a time.
            while index + 8 <= end, Self.word(bytes, at: index) & Self.highBits == 0 { index += 8 }
            guard index < end else { return true }
            let lead = bytes[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            let count: Int
            var lowest: UInt8 = 0x80
            var highest: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: count = 2
            case 0xE0: count = 3; lowest = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: count = 3
            case 0xED: count = 3; highest = 0x9F
            case 0xF0: count = 4; lowest = 0x90
            case 0xF1...0xF3: count = 4
            case 0xF4: count = 4; highest = 0x8F
            default: return false
            }
            guard index + count <= end else { return false }
            let second = bytes[index + 1]
            guard second >= lowest, second <= highest else { return false }
            for offset in 2..<max(2, count) where bytes[index + offset] & 0xC0 != 0x80 { return false }
            index += count
        }
        return true
    }
}
