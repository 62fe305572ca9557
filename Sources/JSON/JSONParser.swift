/// A strict JSON parser: RFC 8259 grammar, UTF-8 input, no trailing garbage, no duplicate member
/// names, nesting at most `depthMax`. Errors name the byte position.
public struct JSONParser {
    /// Deepest nesting of arrays and objects accepted.
    package static let depthMax = 64
    /// Objects with fewer members than this check a new name for duplicates by a linear look (no
    /// hashing, no set to allocate); larger ones keep a set, so any size stays linear overall.
    static let linearDuplicateCheckCountMax = 12
    /// Members an object has room for before its first one is parsed (more grow the list as usual).
    static let objectReservedMemberCount = 4

    /// Why a text is not acceptable JSON.
    public struct Failure: Error, Equatable, Sendable, CustomStringConvertible {
        /// Byte position of the problem.
        public let position: Int
        public let reason: String
        public var description: String { "invalid JSON at byte \(position): \(reason)" }
    }

    private let bytes: [UInt8]
    private var position = 0
    /// The top-level member whose canonical text is kept rather than parsed (see `parse(_:keepingCanonical:)`).
    private var keptMemberName: String?
    private var keptRange: Range<Int>?

    private init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Parses one JSON text.
    /// - Throws: `Failure` for anything that is not exactly one valid JSON value.
    public static func parse(_ bytes: [UInt8]) throws(Failure) -> JSONValue {
        try parse(bytes, keeping: nil).value
    }

    /// Parses a JSON text like `parse(_:)`, except that when it is an object whose member
    /// `memberName` holds text already in the form `JSONValue.encoded()` writes (compact, the
    /// encoder's escapes), that member is left out of the value and its bytes are returned as they
    /// are: `JSONParser.parse(raw).encoded() == raw` holds for them. A member written any other way
    /// is parsed as usual (and `raw` is nil). Accepts and refuses exactly what `parse(_:)` does.
    /// - Throws: `Failure` for anything that is not exactly one valid JSON value.
    public static func parse(_ bytes: [UInt8], keepingCanonical memberName: String) throws(Failure)
        -> (value: JSONValue, raw: ArraySlice<UInt8>?) {
        try parse(bytes, keeping: memberName)
    }

    private static func parse(_ bytes: [UInt8], keeping memberName: String?) throws(Failure)
        -> (value: JSONValue, raw: ArraySlice<UInt8>?) {
        var parser = JSONParser(bytes)
        parser.keptMemberName = memberName
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.position == bytes.count else { throw parser.failure("unexpected data after the value") }
        return (value, parser.keptRange.map { bytes[$0] })
    }

    private func failure(_ reason: String) -> Failure { Failure(position: position, reason: reason) }

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    private mutating func parseValue(depth: Int) throws(Failure) -> JSONValue {
        guard position < bytes.count else { throw failure("unexpected end") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw failure("unexpected character")
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(Failure) {
        let count = literal.utf8CodeUnitCount
        guard position + count <= bytes.count else { throw failure("unexpected end") }
        let expected = UnsafeBufferPointer(start: literal.utf8Start, count: count)
        for index in 0..<count where bytes[position + index] != expected[index] { throw failure("invalid literal") }
        position += count
    }

    /// Steps over a container's opening byte and the whitespace after it; true when `closing` follows at
    /// once (an empty container, stepped over too).
    /// - Throws: when the container is nested deeper than `depthMax`.
    private mutating func opensEmpty(closedBy closing: UInt8, depth: Int) throws(Failure) -> Bool {
        guard depth <= Self.depthMax else { throw failure("nested deeper than \(Self.depthMax)") }
        position += 1
        skipWhitespace()
        guard position < bytes.count, bytes[position] == closing else { return false }
        position += 1
        return true
    }

    private mutating func parseObject(depth: Int) throws(Failure) -> JSONValue {
        if try opensEmpty(closedBy: UInt8(ascii: "}"), depth: depth) { return .object([]) }
        var members: [(String, JSONValue)] = []
        // Room for a typical object at once (growing one member at a time reallocates at 1, 2, 4...).
        members.reserveCapacity(Self.objectReservedMemberCount)
        // Duplicate names: a linear look through small objects (most), a set once one grows.
        var names: Set<String>?
        var keptIndex: Int?
        while true {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw failure("expected a member name") }
            let name = try parseString()
            let duplicate: Bool
            if members.count < Self.linearDuplicateCheckCountMax {
                duplicate = members.contains { $0.0 == name }
            } else {
                if names == nil { names = Set(members.map(\.0)) }
                duplicate = !names!.insert(name).inserted
            }
            guard !duplicate else { throw failure("duplicate member \"\(name.prefix(64))\"") }
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw failure("expected ':'") }
            position += 1
            skipWhitespace()
            if depth == 1, let kept = keptMemberName, name == kept,
               let end = bytes.withUnsafeBufferPointer({ CanonicalJSONScanner.valueEnd(in: $0, from: position, depth: depth) }) {
                keptRange = position..<end
                position = end
                members.append((name, .null))  // holds the name for the duplicate check; dropped below
                keptIndex = members.count - 1
            } else {
                members.append((name, try parseValue(depth: depth)))
            }
            skipWhitespace()
            guard position < bytes.count else { throw failure("unexpected end") }
            if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
            if bytes[position] == UInt8(ascii: "}") {
                position += 1
                if let keptIndex { members.remove(at: keptIndex) }
                return .object(members)
            }
            throw failure("expected ',' or '}'")
        }
    }

    private mutating func parseArray(depth: Int) throws(Failure) -> JSONValue {
        if try opensEmpty(closedBy: UInt8(ascii: "]"), depth: depth) { return .array([]) }
        var elements: [JSONValue] = []
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            guard position < bytes.count else { throw failure("unexpected end") }
            if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
            if bytes[position] == UInt8(ascii: "]") { position += 1; return .array(elements) }
            throw failure("expected ',' or ']'")
        }
    }

    private mutating func parseNumber() throws(Failure) -> String {
        let start = position
        if bytes[position] == UInt8(ascii: "-") { position += 1 }
        func digits(_ parser: inout JSONParser) -> Int {
            let begin = parser.position
            while parser.position < parser.bytes.count, (48...57).contains(parser.bytes[parser.position]) { parser.position += 1 }
            return parser.position - begin
        }
        guard position < bytes.count else { throw failure("incomplete number") }
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
        } else if digits(&self) == 0 {
            throw failure("invalid number")
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            guard digits(&self) > 0 else { throw failure("invalid fraction") }
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") { position += 1 }
            guard digits(&self) > 0 else { throw failure("invalid exponent") }
        }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    private mutating func parseString() throws(Failure) -> String {
        position += 1
        // Fast path: up to the closing quote without escapes or control characters, the text is the bytes.
        let start = position
        let (plainEnd, isASCII) = bytes.withUnsafeBufferPointer { buffer -> (Int, Bool) in
            var index = start
            var allBits: UInt8 = 0
            while index < buffer.count {
                let byte = buffer[index]
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 { break }
                allBits |= byte
                index += 1
            }
            return (index, allBits < 0x80)
        }
        position = plainEnd
        if plainEnd < bytes.count, bytes[plainEnd] == UInt8(ascii: "\"") {
            position += 1
            guard let text = bytes.withUnsafeBufferPointer({ buffer -> String? in
                let text = UnsafeBufferPointer(rebasing: buffer[start..<plainEnd])
                // ASCII is valid UTF-8 as it is: decoding it skips the general (unspecialized) validation.
                return isASCII ? String(decoding: text, as: UTF8.self) : String(validating: text, as: UTF8.self)
            }) else { throw failure("string is not valid UTF-8") }
            return text
        }
        var output = Array(bytes[start..<plainEnd])
        while true {
            guard position < bytes.count else { throw failure("unterminated string") }
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                guard let text = String(validating: output, as: UTF8.self) else { throw failure("string is not valid UTF-8") }
                return text
            case UInt8(ascii: "\\"):
                position += 1
                guard position < bytes.count else { throw failure("unterminated escape") }
                let escape = bytes[position]
                position += 1
                switch escape {
                case UInt8(ascii: "\""): output.append(0x22)
                case UInt8(ascii: "\\"): output.append(0x5C)
                case UInt8(ascii: "/"): output.append(0x2F)
                case UInt8(ascii: "b"): output.append(0x08)
                case UInt8(ascii: "f"): output.append(0x0C)
                case UInt8(ascii: "n"): output.append(0x0A)
                case UInt8(ascii: "r"): output.append(0x0D)
                case UInt8(ascii: "t"): output.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try parseHex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
                              bytes[position + 1] == UInt8(ascii: "u") else { throw failure("unpaired surrogate") }
                        position += 2
                        let low = try parseHex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw failure("unpaired surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw failure("unpaired surrogate")
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw failure("invalid escape") }
                    output.append(contentsOf: Array(String(Character(unicode)).utf8))
                default: throw failure("invalid escape")
                }
            case 0..<0x20:
                throw failure("control character in string")
            default:
                output.append(byte)
                position += 1
            }
        }
    }

    private mutating func parseHex4() throws(Failure) -> UInt32 {
        guard position + 4 <= bytes.count else { throw failure("incomplete \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt32
            switch byte {
            case 48...57: digit = UInt32(byte - 48)
            case 65...70: digit = UInt32(byte - 55)
            case 97...102: digit = UInt32(byte - 87)
            default: throw failure("invalid \\u escape")
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }
}
