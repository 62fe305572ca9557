/// An element of GF(2^255 - 19) in five 51-bit limbs (radix 2^51), the field of Curve25519.
///
/// Every operation is branch-free and runs in time independent of the values: the limbs are
/// kept below about 2^52 after each operation (a carry pass), products use 128-bit arithmetic.
struct Ed25519FieldElement: Sendable {
    var l0: UInt64, l1: UInt64, l2: UInt64, l3: UInt64, l4: UInt64

    static let mask51: UInt64 = (1 << 51) - 1
    static let zero = Ed25519FieldElement(l0: 0, l1: 0, l2: 0, l3: 0, l4: 0)
    static let one = Ed25519FieldElement(l0: 1, l1: 0, l2: 0, l3: 0, l4: 0)

    /// The curve constant d = -121665/121666.
    static let d = Ed25519FieldElement(littleEndianBytes: Hex.bytes("a3785913ca4deb75abd841414d0a700098e879777940c78c73fe6f2bee6c0352"))
    /// 2d, used by point addition.
    static let d2 = d + d
    /// A square root of -1 (2^((p-1)/4)).
    static let sqrtMinusOne = Ed25519FieldElement(littleEndianBytes: Hex.bytes("b0a00e4a271beec478e42fad0618432fa7d7fb3d99004d2b0bdfc14f8024832b"))

    init(l0: UInt64, l1: UInt64, l2: UInt64, l3: UInt64, l4: UInt64) {
        self.l0 = l0; self.l1 = l1; self.l2 = l2; self.l3 = l3; self.l4 = l4
    }

    /// Reads 32 little-endian bytes; bit 255 is ignored (the caller handles it).
    init(littleEndianBytes bytes: some Collection<UInt8>) {
        precondition(bytes.count == 32, "a field element is 32 bytes")
        var words = [UInt64](repeating: 0, count: 4)
        for (index, byte) in bytes.enumerated() { words[index / 8] |= UInt64(byte) << (8 * UInt64(index % 8)) }
        let mask = Self.mask51
        l0 = words[0] & mask
        l1 = ((words[0] >> 51) | (words[1] << 13)) & mask
        l2 = ((words[1] >> 38) | (words[2] << 26)) & mask
        l3 = ((words[2] >> 25) | (words[3] << 39)) & mask
        l4 = (words[3] >> 12) & mask
    }

    /// The canonical (fully reduced, < p) 32-byte little-endian encoding.
    var littleEndianBytes: [UInt8] {
        var h = self.carried().carried()
        // h < 2p now. q = 1 exactly when h >= p: h + 19 overflows 2^255.
        var q = (h.l0 &+ 19) >> 51
        q = (h.l1 &+ q) >> 51
        q = (h.l2 &+ q) >> 51
        q = (h.l3 &+ q) >> 51
        q = (h.l4 &+ q) >> 51
        h.l0 &+= 19 &* q
        h.l1 &+= h.l0 >> 51; h.l0 &= Self.mask51
        h.l2 &+= h.l1 >> 51; h.l1 &= Self.mask51
        h.l3 &+= h.l2 >> 51; h.l2 &= Self.mask51
        h.l4 &+= h.l3 >> 51; h.l3 &= Self.mask51
        h.l4 &= Self.mask51
        let words = [h.l0 | (h.l1 << 51), (h.l1 >> 13) | (h.l2 << 38), (h.l2 >> 26) | (h.l3 << 25), (h.l3 >> 39) | (h.l4 << 12)]
        var bytes = [UInt8](repeating: 0, count: 32)
        for index in 0..<32 { bytes[index] = UInt8(truncatingIfNeeded: words[index / 8] >> (8 * UInt64(index % 8))) }
        return bytes
    }

    /// One carry pass: every limb below 2^51 plus a small excess in the lowest.
    @inline(__always)
    func carried() -> Ed25519FieldElement {
        let mask = Self.mask51
        var r = self
        let c0 = r.l0 >> 51; r.l0 &= mask; r.l1 &+= c0
        let c1 = r.l1 >> 51; r.l1 &= mask; r.l2 &+= c1
        let c2 = r.l2 >> 51; r.l2 &= mask; r.l3 &+= c2
        let c3 = r.l3 >> 51; r.l3 &= mask; r.l4 &+= c3
        let c4 = r.l4 >> 51; r.l4 &= mask; r.l0 &+= c4 &* 19
        return r
    }

    @inline(__always)
    static func + (a: Ed25519FieldElement, b: Ed25519FieldElement) -> Ed25519FieldElement {
        Ed25519FieldElement(l0: a.l0 &+ b.l0, l1: a.l1 &+ b.l1, l2: a.l2 &+ b.l2, l3: a.l3 &+ b.l3, l4: a.l4 &+ b.l4).carried()
    }

    /// a - b computed as a + 4p - b (limbs of b stay below 4p's, so nothing wraps).
    @inline(__always)
    static func - (a: Ed25519FieldElement, b: Ed25519FieldElement) -> Ed25519FieldElement {
        Ed25519FieldElement(
            l0: (a.l0 &+ 0x1F_FFFF_FFFF_FFB4) &- b.l0, l1: (a.l1 &+ 0x1F_FFFF_FFFF_FFFC) &- b.l1,
            l2: (a.l2 &+ 0x1F_FFFF_FFFF_FFFC) &- b.l2, l3: (a.l3 &+ 0x1F_FFFF_FFFF_FFFC) &- b.l3,
            l4: (a.l4 &+ 0x1F_FFFF_FFFF_FFFC) &- b.l4
        ).carried()
    }

    @inline(__always)
    static prefix func - (a: Ed25519FieldElement) -> Ed25519FieldElement { zero - a }

    @inline(__always)
    private static func mul(_ a: UInt64, _ b: UInt64) -> UInt128 { UInt128(a) &* UInt128(b) }

    static func * (a: Ed25519FieldElement, b: Ed25519FieldElement) -> Ed25519FieldElement {
        let b1 = b.l1 &* 19, b2 = b.l2 &* 19, b3 = b.l3 &* 19, b4 = b.l4 &* 19
        let r0 = mul(a.l0, b.l0) &+ mul(a.l1, b4) &+ mul(a.l2, b3) &+ mul(a.l3, b2) &+ mul(a.l4, b1)
        var r1 = mul(a.l0, b.l1) &+ mul(a.l1, b.l0) &+ mul(a.l2, b4) &+ mul(a.l3, b3) &+ mul(a.l4, b2)
        var r2 = mul(a.l0, b.l2) &+ mul(a.l1, b.l1) &+ mul(a.l2, b.l0) &+ mul(a.l3, b4) &+ mul(a.l4, b3)
        var r3 = mul(a.l0, b.l3) &+ mul(a.l1, b.l2) &+ mul(a.l2, b.l1) &+ mul(a.l3, b.l0) &+ mul(a.l4, b4)
        var r4 = mul(a.l0, b.l4) &+ mul(a.l1, b.l3) &+ mul(a.l2, b.l2) &+ mul(a.l3, b.l1) &+ mul(a.l4, b.l0)
        return reduce(r0, &r1, &r2, &r3, &r4)
    }

    @inline(__always)
    private static func reduce(_ r0: UInt128, _ r1: inout UInt128, _ r2: inout UInt128, _ r3: inout UInt128, _ r4: inout UInt128) -> Ed25519FieldElement {
        let mask = UInt128(mask51)
        r1 &+= r0 >> 51
        r2 &+= r1 >> 51
        r3 &+= r2 >> 51
        r4 &+= r3 >> 51
        let low0 = (r0 & mask) &+ (r4 >> 51) &* 19
        let out0 = UInt64(truncatingIfNeeded: low0 & mask)
        let out1 = UInt64(truncatingIfNeeded: (r1 & mask) &+ (low0 >> 51))
        return Ed25519FieldElement(
            l0: out0, l1: out1, l2: UInt64(truncatingIfNeeded: r2 & mask),
            l3: UInt64(truncatingIfNeeded: r3 & mask), l4: UInt64(truncatingIfNeeded: r4 & mask))
    }

    /// self * self.
    func squared() -> Ed25519FieldElement {
        let d0 = l0 &* 2, d1 = l1 &* 2
        let l3x19 = l3 &* 19, l4x19 = l4 &* 19
        let r0 = Self.mul(l0, l0) &+ Self.mul(d1, l4x19) &+ Self.mul(l2 &* 2, l3x19)
        var r1 = Self.mul(d0, l1) &+ Self.mul(l2 &* 2, l4x19) &+ Self.mul(l3, l3x19)
        var r2 = Self.mul(d0, l2) &+ Self.mul(l1, l1) &+ Self.mul(l3 &* 2, l4x19)
        var r3 = Self.mul(d0, l3) &+ Self.mul(d1, l2) &+ Self.mul(l4, l4x19)
        var r4 = Self.mul(d0, l4) &+ Self.mul(d1, l3) &+ Self.mul(l2, l2)
        return Self.reduce(r0, &r1, &r2, &r3, &r4)
    }

    /// self squared `count` times.
    func squared(times count: Int) -> Ed25519FieldElement {
        var r = self
        for _ in 0..<count { r = r.squared() }
        return r
    }

    /// self^(2^250 - 1) and self^11, shared by inversion and square roots.
    private func power2250MinusOne() -> (Ed25519FieldElement, Ed25519FieldElement) {
        let z2 = squared()
        let z9 = z2.squared(times: 2) * self
        let z11 = z9 * z2
        let z2_5_0 = z11.squared() * z9
        let z2_10_0 = z2_5_0.squared(times: 5) * z2_5_0
        let z2_20_0 = z2_10_0.squared(times: 10) * z2_10_0
        let z2_40_0 = z2_20_0.squared(times: 20) * z2_20_0
        let z2_50_0 = z2_40_0.squared(times: 10) * z2_10_0
        let z2_100_0 = z2_50_0.squared(times: 50) * z2_50_0
        let z2_200_0 = z2_100_0.squared(times: 100) * z2_100_0
        let z2_250_0 = z2_200_0.squared(times: 50) * z2_50_0
        return (z2_250_0, z11)
    }

    /// 1/self (self^(p-2)); zero maps to zero.
    func inverted() -> Ed25519FieldElement {
        let (z2_250_0, z11) = power2250MinusOne()
        return z2_250_0.squared(times: 5) * z11
    }

    /// self^((p-5)/8) = self^(2^252 - 3), the core of the square root.
    func powerP58() -> Ed25519FieldElement {
        let (z2_250_0, _) = power2250MinusOne()
        return z2_250_0.squared(times: 2) * self
    }

    /// True when the canonical encoding is zero.
    var isZero: Bool { littleEndianBytes.allSatisfy { $0 == 0 } }

    /// The low bit of the canonical encoding ("negative" in RFC 8032).
    var isNegative: Bool { littleEndianBytes[0] & 1 == 1 }

    /// Replaces self with `other` when `choice` is 1, in constant time (`choice` is 0 or 1).
    @inline(__always)
    mutating func conditionallyAssign(_ other: Ed25519FieldElement, choice: UInt64) {
        let mask = 0 &- choice
        l0 ^= mask & (l0 ^ other.l0)
        l1 ^= mask & (l1 ^ other.l1)
        l2 ^= mask & (l2 ^ other.l2)
        l3 ^= mask & (l3 ^ other.l3)
        l4 ^= mask & (l4 ^ other.l4)
    }
}

extension Hex {
    /// Decodes a hex literal known to be valid (constants in source).
    static func bytes(_ literal: String) -> [UInt8] {
        guard let bytes = try? decode(literal) else { preconditionFailure("invalid hex constant") }
        return bytes
    }
}
