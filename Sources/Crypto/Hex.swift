/// Lowercase hexadecimal encoding; decoding accepts either case and rejects anything else.
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    /// Lowercase hex of `bytes`, two characters per byte.
    @inlinable
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        encode(bytes: Array(bytes))
    }

    /// The non-generic body of `encode(_:)`.
    @usableFromInline
    static func encode(bytes: [UInt8]) -> String {
        var characters = [UInt8]()
        characters.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            characters.append(digits[Int(byte >> 4)])
            characters.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: characters, as: UTF8.self)
    }

    /// The bytes of `text`.
    /// - Throws: `EncodingError.malformedHex` on odd length or a non-hex character.
    public static func decode(_ text: String) throws(EncodingError) -> [UInt8] {
        let characters = Array(text.utf8)
        guard characters.count % 2 == 0 else { throw .malformedHex(reason: "odd length \(characters.count)") }
        var bytes = [UInt8]()
        bytes.reserveCapacity(characters.count / 2)
        var index = 0
        while index < characters.count {
            guard let high = value(of: characters[index]), let low = value(of: characters[index + 1]) else {
                throw .malformedHex(reason: "non-hex character near position \(index)")
            }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func value(of character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return character - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
