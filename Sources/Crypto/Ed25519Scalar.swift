/// Arithmetic modulo the group order L = 2^252 + 27742317777372353535851937790883648493, on
/// 32-byte little-endian scalars. Branch-free: the secret scalar and nonce of a signature pass
/// through here.
enum Ed25519Scalar {
    /// L, little-endian.
    static let order: [Int64] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ]

    /// A 64-byte little-endian number (a SHA-512 digest) reduced modulo L.
    static func reduced(_ wide: [UInt8]) -> [UInt8] {
        precondition(wide.count == 64, "a wide scalar is 64 bytes")
        var limbs = wide.map { Int64($0) }
        return reduce(&limbs)
    }

    /// (a * b + c) mod L for 32-byte little-endian a, b, c.
    static func multiplyAdd(_ a: [UInt8], _ b: [UInt8], _ c: [UInt8]) -> [UInt8] {
        precondition(a.count == 32 && b.count == 32 && c.count == 32, "scalars are 32 bytes")
        var limbs = [Int64](repeating: 0, count: 64)
        for i in 0..<32 { limbs[i] = Int64(c[i]) }
        for i in 0..<32 {
            let ai = Int64(a[i])
            for j in 0..<32 { limbs[i + j] &+= ai &* Int64(b[j]) }
        }
        return reduce(&limbs)
    }

    /// True when the 32-byte little-endian `scalar` is below L (RFC 8032's check on S).
    /// Variable time: only public values (signatures) are checked.
    static func isCanonical(_ scalar: ArraySlice<UInt8>) -> Bool {
        guard scalar.count == 32 else { return false }
        for index in stride(from: 31, through: 0, by: -1) {
            let byte = Int64(scalar[scalar.startIndex + index])
            if byte < order[index] { return true }
            if byte > order[index] { return false }
        }
        return false
    }

    /// Reduces 64 signed 8-bit-radix limbs modulo L into 32 bytes.
    ///
    /// Each top limb x[i] (i >= 32) stands for x[i] * 2^(8(i-32)) * 2^256, and 2^256 = 16 * 2^252
    /// is congruent to -16 * (L - 2^252); so it is folded down into the twenty limbs below it as
    /// -16 * x[i] * (L - 2^252), keeping limbs small with rounded carries. Then the top nibble of
    /// limb 31 (multiples of 2^252) is removed the same way, and a final pass carries.
    private static func reduce(_ x: inout [Int64]) -> [UInt8] {
        for i in stride(from: 63, through: 32, by: -1) {
            var carry: Int64 = 0
            var j = i - 32
            while j < i - 12 {
                let top = x[i]
                x[j] &+= carry &- 16 &* top &* order[j - (i - 32)]
                carry = (x[j] &+ 128) >> 8
                x[j] &-= carry << 8
                j += 1
            }
            x[j] &+= carry
            x[i] = 0
        }
        var carry: Int64 = 0
        for j in 0..<32 {
            let high = x[31] >> 4
            x[j] &+= carry &- high &* order[j]
            carry = x[j] >> 8
            x[j] &= 255
        }
        for j in 0..<32 { x[j] &-= carry &* order[j] }
        var result = [UInt8](repeating: 0, count: 32)
        for i in 0..<32 {
            let limb = x[i]
            if i < 31 { x[i + 1] &+= limb >> 8 }
            result[i] = UInt8(truncatingIfNeeded: x[i] & 255)
        }
        return result
    }
}
