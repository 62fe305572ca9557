/// Request ids: accepts a well-formed incoming `X-Request-Id`, otherwise makes a UUID v4 from a
/// fast generator (wyrand) seeded from the system's secure random source. Request ids are
/// correlation handles, not secrets, so a fast non-cryptographic generator is enough.
struct RequestIDGenerator {
    /// The longest accepted incoming id, in bytes.
    static let incomingLengthBytesMax = 128

    private var state: UInt64

    init() {
        var system = SystemRandomNumberGenerator()
        state = system.next()
    }

    /// `incoming` when it is 1–128 of `A-Z a-z 0-9 - _ . : + / = @`, else a fresh UUID v4.
    mutating func requestID(incoming: String?) -> String {
        if let incoming, Self.isAcceptable(incoming) { return incoming }
        return makeUUID()
    }

    static func isAcceptable(_ candidate: String) -> Bool {
        let bytes = candidate.utf8
        guard !bytes.isEmpty, bytes.count <= incomingLengthBytesMax else { return false }
        return bytes.allSatisfy { byte in
            switch byte {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
            case 0x2D, 0x5F, 0x2E, 0x3A, 0x2B, 0x2F, 0x3D, 0x40: true
            default: false
            }
        }
    }

    private mutating func next() -> UInt64 {
        state &+= 0xA076_1D64_78BD_642F
        let product = state.multipliedFullWidth(by: state ^ 0xE703_7ED1_A0B4_28DB)
        return product.high ^ product.low
    }

    /// A random UUID v4 in lowercase `8-4-4-4-12` form.
    mutating func makeUUID() -> String {
        var high = next()
        var low = next()
        high = (high & ~0xF000) | 0x4000                              // version 4
        low = (low & ~(0xC000_0000_0000_0000 as UInt64)) | 0x8000_0000_0000_0000  // variant 10
        // One loop over the 32 nibbles, most significant first, with a dash before nibbles 8, 12, 16
        // and 20 (no nested functions: their captured position cost an exclusivity check per digit).
        return String(unsafeUninitializedCapacity: 36) { buffer in
            let digits: StaticString = "0123456789abcdef"
            var position = 0
            for nibble in 0..<32 {
                if nibble == 8 || nibble == 12 || nibble == 16 || nibble == 20 {
                    buffer[position] = 0x2D
                    position += 1
                }
                let word = nibble < 16 ? high : low
                let shift = UInt64(60 - 4 * (nibble % 16))
                buffer[position] = digits.utf8Start[Int((word >> shift) & 0xF)]
                position += 1
            }
            return position
        }
    }
}
