#if arch(x86_64)
import CryptoIntrinsics
#endif

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78): the SSE4.2 `crc32` instruction where the
/// CPU has it (see `HashImplementation`), otherwise slicing-by-8.
///
/// `CRC32C.checksum(Array("123456789".utf8)) == 0xE3069283`.
public enum CRC32C {
    /// Eight 256-entry tables, flattened: table `t` starts at `t * 256`.
    private static let tables: [UInt32] = {
        var tables = [UInt32](repeating: 0, count: 8 * 256)
        for index in 0..<256 {
            var crc = UInt32(index)
            for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
            tables[index] = crc
        }
        for index in 0..<256 {
            var crc = tables[index]
            for table in 1..<8 {
                crc = tables[Int(crc & 0xFF)] ^ (crc >> 8)
                tables[table * 256 + index] = crc
            }
        }
        return tables
    }()

    /// The CRC-32C of `bytes`.
    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        update(0, bytes)
    }

    /// The CRC-32C of the bytes at `buffer`.
    public static func checksum(_ buffer: UnsafeRawBufferPointer) -> UInt32 {
        update(0, buffer)
    }

    /// Continues the CRC `crc` (a previous result, or 0 to start) over `bytes`.
    public static func update(_ crc: UInt32, _ bytes: some Sequence<UInt8>) -> UInt32 {
        if let result = bytes.withContiguousStorageIfAvailable({ update(crc, UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return Array(bytes).withUnsafeBytes { update(crc, $0) }
    }

    /// Continues the CRC `crc` (a previous result, or 0 to start) over the bytes at `buffer`.
    public static func update(_ crc: UInt32, _ buffer: UnsafeRawBufferPointer) -> UInt32 {
        update(crc, buffer, implementation: HashImplementation.preferredCRC32C)
    }

    /// Continues the CRC `crc` over the bytes at `buffer` with `implementation` (tests pick one explicitly).
    /// - Precondition: `implementation.isAvailable(for: .crc32c)`.
    package static func update(_ crc: UInt32, _ buffer: UnsafeRawBufferPointer, implementation: HashImplementation) -> UInt32 {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return crc }
        #if arch(x86_64)
        if implementation == .hardware {
            precondition(implementation.isAvailable(for: .crc32c), "CRC-32C hardware code is not available on this CPU")
            return ~CRC32CHardware.update(~crc, base, count: buffer.count)
        }
        #endif
        return updatePortably(crc, base, count: buffer.count)
    }

    /// Slicing-by-8 over `count` bytes at `base`.
    private static func updatePortably(_ crc: UInt32, _ base: UnsafeRawPointer, count: Int) -> UInt32 {
        tables.withUnsafeBufferPointer { tablePointer in
            let t = tablePointer.baseAddress.unsafelyUnwrapped
            var value = ~crc
            var pointer = base
            var remaining = count
            while remaining >= 8 {
                let word = UInt64(littleEndian: pointer.loadUnaligned(as: UInt64.self))
                let low = UInt32(truncatingIfNeeded: word) ^ value
                let high = UInt32(truncatingIfNeeded: word >> 32)
                value = t[7 * 256 + Int(low & 0xFF)] ^ t[6 * 256 + Int((low >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((low >> 16) & 0xFF)] ^ t[4 * 256 + Int(low >> 24)]
                    ^ t[3 * 256 + Int(high & 0xFF)] ^ t[2 * 256 + Int((high >> 8) & 0xFF)]
                    ^ t[1 * 256 + Int((high >> 16) & 0xFF)] ^ t[Int(high >> 24)]
                pointer += 8
                remaining -= 8
            }
            while remaining > 0 {
                value = t[Int((value ^ UInt32(pointer.load(as: UInt8.self))) & 0xFF)] ^ (value >> 8)
                pointer += 1
                remaining -= 1
            }
            return ~value
        }
    }
}
