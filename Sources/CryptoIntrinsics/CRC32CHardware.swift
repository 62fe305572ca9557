#if arch(x86_64)
import _Builtin_intrinsics.intel

/// CRC-32C with the SSE4.2 `crc32` instruction: eight bytes per instruction, and for long buffers
/// three independent streams over adjacent stripes (the instruction's latency is three cycles, its
/// throughput one), joined by shifting the earlier streams' states over the later stripes' length.
///
/// Call only when `CPUFeatures` reports SSE4.2: this target is compiled for it.
package enum CRC32CHardware {
    /// Bytes per stripe of the three-stream loop.
    static let stripeByteCount = 1024

    /// `shift(state)` = the state after `stripeByteCount` zero bytes, as four byte-indexed tables
    /// (the shift is linear, so it is the XOR of the tables' entries for the state's four bytes).
    private static let stripeShiftTables: [UInt32] = {
        // x^(8 * stripeByteCount) mod P, in the reflected representation where x^0 is bit 31.
        var power: UInt32 = 1 << 31
        for _ in 0..<(8 * stripeByteCount) { power = (power & 1) != 0 ? (power >> 1) ^ 0x82F6_3B78 : power >> 1 }
        var tables = [UInt32](repeating: 0, count: 4 * 256)
        for table in 0..<4 {
            for byte in 0..<256 { tables[table * 256 + byte] = multiply(power, UInt32(byte) << (8 * table)) }
        }
        return tables
    }()

    /// Product of `a` and `b` modulo the CRC-32C polynomial (reflected representation).
    private static func multiply(_ a: UInt32, _ b: UInt32) -> UInt32 {
        var product: UInt32 = 0
        var multiplier = b
        var bit: UInt32 = 1 << 31
        while bit != 0 {
            if (a & bit) != 0 { product ^= multiplier }
            multiplier = (multiplier & 1) != 0 ? (multiplier >> 1) ^ 0x82F6_3B78 : multiplier >> 1
            bit >>= 1
        }
        return product
    }

    /// Continues the raw (already inverted) register `state` over `count` bytes at `base`.
    package static func update(_ state: UInt32, _ base: UnsafeRawPointer, count: Int) -> UInt32 {
        var crc = UInt64(state)
        var pointer = base
        var remaining = count
        if remaining >= 3 * stripeByteCount {
            stripeShiftTables.withUnsafeBufferPointer { tablePointer in
                let t = tablePointer.baseAddress.unsafelyUnwrapped
                while remaining >= 3 * stripeByteCount {
                    var first = crc, second: UInt64 = 0, third: UInt64 = 0
                    var offset = 0
                    while offset < stripeByteCount {
                        first = _mm_crc32_u64(first, pointer.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                        second = _mm_crc32_u64(second, pointer.loadUnaligned(fromByteOffset: stripeByteCount + offset, as: UInt64.self))
                        third = _mm_crc32_u64(third, pointer.loadUnaligned(fromByteOffset: 2 * stripeByteCount + offset, as: UInt64.self))
                        offset += 8
                    }
                    func shift(_ value: UInt64) -> UInt64 {
                        UInt64(t[Int(value & 0xFF)] ^ t[256 + Int((value >> 8) & 0xFF)]
                            ^ t[512 + Int((value >> 16) & 0xFF)] ^ t[768 + Int((value >> 24) & 0xFF)])
                    }
                    crc = shift(shift(first) ^ second) ^ third
                    pointer += 3 * stripeByteCount
                    remaining -= 3 * stripeByteCount
                }
            }
        }
        while remaining >= 8 {
            crc = _mm_crc32_u64(crc, pointer.loadUnaligned(as: UInt64.self))
            pointer += 8
            remaining -= 8
        }
        var narrow = UInt32(truncatingIfNeeded: crc)
        while remaining > 0 {
            narrow = _mm_crc32_u8(narrow, pointer.load(as: UInt8.self))
            pointer += 1
            remaining -= 1
        }
        return narrow
    }
}
#endif
