/// Base64 (RFC 4648 section 4) and base64url (section 5), strict.
///
/// Standard base64 is written with `=` padding and must be read with it; base64url is written
/// without padding and accepts it either way. Whitespace, characters from the other alphabet,
/// and non-zero trailing bits are rejected.
public enum Base64 {
    /// Which alphabet and padding rule to use.
    public enum Alphabet: Sendable {
        /// `A-Z a-z 0-9 + /` with `=` padding.
        case standard
        /// `A-Z a-z 0-9 - _`, padding optional when reading, never written.
        case url
    }

    private static let standardCharacters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let urlCharacters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    private static let decodeTables: (standard: [UInt8], url: [UInt8]) = {
        var standard = [UInt8](repeating: 0xFF, count: 256)
        var url = [UInt8](repeating: 0xFF, count: 256)
        for (index, character) in standardCharacters.enumerated() { standard[Int(character)] = UInt8(index) }
        for (index, character) in urlCharacters.enumerated() { url[Int(character)] = UInt8(index) }
        return (standard, url)
    }()

    /// Encodes `bytes`.
    @inlinable
    public static func encode(_ bytes: some Sequence<UInt8>, alphabet: Alphabet = .standard) -> String {
        encode(bytes: Array(bytes), alphabet: alphabet)
    }

    /// The non-generic body of `encode(_:alphabet:)`.
    @usableFromInline
    static func encode(bytes input: [UInt8], alphabet: Alphabet) -> String {
        let table = alphabet == .standard ? standardCharacters : urlCharacters
        var output = [UInt8]()
        output.reserveCapacity((input.count + 2) / 3 * 4)
        var index = 0
        while index + 3 <= input.count {
            let chunk = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8 | UInt32(input[index + 2])
            output.append(table[Int(chunk >> 18 & 63)])
            output.append(table[Int(chunk >> 12 & 63)])
            output.append(table[Int(chunk >> 6 & 63)])
            output.append(table[Int(chunk & 63)])
            index += 3
        }
        let rest = input.count - index
        if rest > 0 {
            var chunk = UInt32(input[index]) << 16
            if rest == 2 { chunk |= UInt32(input[index + 1]) << 8 }
            output.append(table[Int(chunk >> 18 & 63)])
            output.append(table[Int(chunk >> 12 & 63)])
            if rest == 2 { output.append(table[Int(chunk >> 6 & 63)]) }
            if alphabet == .standard {
                output.append(UInt8(ascii: "="))
                if rest == 1 { output.append(UInt8(ascii: "=")) }
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Decodes `text`.
    /// - Throws: `EncodingError.malformedBase64` for a bad length, character, padding or trailing bits.
    public static func decode(_ text: String, alphabet: Alphabet = .standard) throws(EncodingError) -> [UInt8] {
        var characters = Array(text.utf8)
        var paddingCount = 0
        while characters.last == UInt8(ascii: "="), paddingCount < 2 {
            characters.removeLast()
            paddingCount += 1
        }
        if characters.last == UInt8(ascii: "=") { throw .malformedBase64(reason: "too much padding") }
        let rest = characters.count % 4
        if rest == 1 { throw .malformedBase64(reason: "impossible length") }
        switch alphabet {
        case .standard:
            let expectedPadding = rest == 0 ? 0 : 4 - rest
            if paddingCount != expectedPadding { throw .malformedBase64(reason: "missing or wrong padding") }
        case .url:
            if paddingCount != 0, paddingCount != (rest == 0 ? 0 : 4 - rest) {
                throw .malformedBase64(reason: "wrong padding")
            }
        }
        let table = alphabet == .standard ? decodeTables.standard : decodeTables.url
        var output = [UInt8]()
        output.reserveCapacity(characters.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bitCount = 0
        for (position, character) in characters.enumerated() {
            let value = table[Int(character)]
            if value == 0xFF { throw .malformedBase64(reason: "invalid character at position \(position)") }
            accumulator = accumulator << 6 | UInt32(value)
            bitCount += 6
            if bitCount >= 8 {
                bitCount -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bitCount)))
                accumulator &= (1 << UInt32(bitCount)) - 1
            }
        }
        if accumulator != 0 { throw .malformedBase64(reason: "non-zero trailing bits") }
        return output
    }
}
