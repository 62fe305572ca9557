extension SHA256 {
    /// A SHA-256 digest held inline (32 bytes, no heap allocation): a value to compare, hash and
    /// use as a dictionary key on hot paths, where `finalize()`'s `[UInt8]` would be one allocation
    /// per digest.
    public struct Digest: Sendable, Hashable {
        /// Bytes 0-7, 8-15, 16-23 and 24-31 of the digest, each read as a big-endian integer.
        private let word0: UInt64, word1: UInt64, word2: UInt64, word3: UInt64

        init(_ state: State) {
            word0 = UInt64(state.h0) << 32 | UInt64(state.h1)
            word1 = UInt64(state.h2) << 32 | UInt64(state.h3)
            word2 = UInt64(state.h4) << 32 | UInt64(state.h5)
            word3 = UInt64(state.h6) << 32 | UInt64(state.h7)
        }

        /// The digest whose bytes are `bytes`; nil unless there are exactly 32.
        public init?(bytes: some Collection<UInt8>) {
            guard bytes.count == SHA256.digestByteCount else { return nil }
            var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
            for (index, byte) in bytes.enumerated() { Self.shift(UInt64(byte), bitCount: 8, into: &words, word: index / 8) }
            (word0, word1, word2, word3) = words
        }

        /// The digest written as 64 lowercase hex digits (the form `hex` gives); nil for anything else,
        /// uppercase digits included (a key stored in another spelling must not match this one).
        public init?(lowercaseHex text: String) {
            let digits = text.utf8
            guard digits.count == 2 * SHA256.digestByteCount else { return nil }
            var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
            var index = 0
            for digit in digits {
                let value: UInt8
                switch digit {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): value = digit - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): value = digit - UInt8(ascii: "a") + 10
                default: return nil
                }
                Self.shift(UInt64(value), bitCount: 4, into: &words, word: index / 16)
                index += 1
            }
            (word0, word1, word2, word3) = words
        }

        /// Shifts `bits` (`bitCount` wide) into the low end of word `word` of `words`.
        private static func shift(_ bits: UInt64, bitCount: UInt64, into words: inout (UInt64, UInt64, UInt64, UInt64), word: Int) {
            switch word {
            case 0: words.0 = words.0 << bitCount | bits
            case 1: words.1 = words.1 << bitCount | bits
            case 2: words.2 = words.2 << bitCount | bits
            default: words.3 = words.3 << bitCount | bits
            }
        }

        /// Calls `body` with the 32 digest bytes in inline storage (no allocation).
        public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
            let bigEndian = (word0.bigEndian, word1.bigEndian, word2.bigEndian, word3.bigEndian)
            return try Swift.withUnsafeBytes(of: bigEndian) { try body($0) }
        }

        /// The 32 digest bytes (one allocation: the array).
        public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

        /// The digest as 64 lowercase hex digits, as `Hex.encode(bytes)` writes it (one allocation: the string).
        public var hex: String {
            withUnsafeBytes { bytes in
                String(unsafeUninitializedCapacity: 2 * SHA256.digestByteCount) { buffer in
                    let digits: StaticString = "0123456789abcdef"
                    for (index, byte) in bytes.enumerated() {
                        buffer[2 * index] = digits.utf8Start[Int(byte >> 4)]
                        buffer[2 * index + 1] = digits.utf8Start[Int(byte & 0x0F)]
                    }
                    return 2 * bytes.count
                }
            }
        }
    }

    /// Pads and finishes like `finalize()`, but returns the digest inline: no heap allocation.
    /// The hasher is consumed.
    public consuming func finalizeDigest() -> Digest {
        Digest(finalizedState())
    }

    /// `first.finalizeDigest()` and `second.finalizeDigest()` in one call (inline digests, no heap
    /// allocation), their padding blocks compressed together on SHA-NI. Both hashers are consumed.
    package static func finalizeDigests(_ first: consuming SHA256, _ second: consuming SHA256) -> (Digest, Digest) {
        let (firstState, secondState) = finalizedStates(first, second)
        return (Digest(firstState), Digest(secondState))
    }

    /// The digest of the bytes at `buffer`, inline (no heap allocation).
    public static func digest(_ buffer: UnsafeRawBufferPointer) -> Digest {
        var hasher = SHA256()
        hasher.update(buffer)
        return hasher.finalizeDigest()
    }

    /// The digest of `bytes`, inline; a contiguous collection (an array, a native string's UTF-8) is
    /// hashed in place, anything else is copied first.
    public static func digest(_ bytes: some Sequence<UInt8>) -> Digest {
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalizeDigest()
    }
}
