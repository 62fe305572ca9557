extension Ed25519Point {
    /// For each of the 64 four-bit windows w of a scalar, the multiples 0..15 of 16^w * B in
    /// cached form: [s]B is then 64 additions of table entries, with no doublings.
    /// Built once, on first use (1,024 additions; about 160 KiB).
    private static let baseTable: [Cached] = {
        var table: [Cached] = []
        table.reserveCapacity(64 * 16)
        var windowBase = Ed25519Point.base
        for _ in 0..<64 {
            var multiple = Ed25519Point.identity
            for _ in 0..<16 {
                table.append(multiple.cached)
                multiple = multiple + windowBase
            }
            windowBase = windowBase.doubled().doubled().doubled().doubled()
        }
        return table
    }()

    /// The four-bit window `index` (0 = least significant) of a 32-byte little-endian scalar.
    @inline(__always)
    private static func nibble(_ scalar: [UInt8], _ index: Int) -> UInt64 {
        UInt64((scalar[index >> 1] >> (UInt8(index & 1) << 2)) & 0x0f)
    }

    /// 1 when `a == b`, else 0, computed without a branch.
    @inline(__always)
    private static func equalsBit(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let difference = a ^ b
        return ((difference | (0 &- difference)) >> 63) ^ 1
    }

    /// [scalar]B for a secret 32-byte little-endian scalar (any value below 2^256), in constant
    /// time: every window reads all sixteen table entries and keeps one by masking, so neither
    /// branches nor memory addresses depend on the scalar.
    static func baseMultiple(_ scalar: [UInt8]) -> Ed25519Point {
        precondition(scalar.count == 32, "a scalar is 32 bytes")
        var result = Ed25519Point.identity
        baseTable.withUnsafeBufferPointer { table in
            for window in 0..<64 {
                let digit = nibble(scalar, window)
                var selected = Cached.identity
                for candidate in 0..<16 {
                    selected.conditionallyAssign(table[window * 16 + candidate], choice: equalsBit(UInt64(candidate), digit))
                }
                result = result + selected
            }
        }
        return result
    }

    /// [scalar]P for a public scalar and point (verification only): four-bit fixed windows,
    /// variable time.
    func publicMultiple(_ scalar: [UInt8]) -> Ed25519Point {
        precondition(scalar.count == 32, "a scalar is 32 bytes")
        var multiples: [Cached] = []
        multiples.reserveCapacity(16)
        var multiple = Ed25519Point.identity
        for _ in 0..<16 {
            multiples.append(multiple.cached)
            multiple = multiple + self
        }
        var result = Ed25519Point.identity
        for window in stride(from: 63, through: 0, by: -1) {
            result = result.doubled().doubled().doubled().doubled()
            let digit = Int(Self.nibble(scalar, window))
            if digit != 0 { result = result + multiples[digit] }
        }
        return result
    }

    /// True when 8P is the identity (P has small order: it lies in the torsion subgroup).
    var hasSmallOrder: Bool { doubled().doubled().doubled().isIdentity }
}
