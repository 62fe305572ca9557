import Crypto
import Synchronization
import SystemIO

/// Event ids: `evt_` and a ULID (48-bit millisecond time, 80 random bits, Crockford base32), so ids
/// sort by creation time.
public enum EventID {
    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    /// Kernel random bytes read 4 KiB at a time, so an id costs no system call (ids must be
    /// unique and unguessable, and each byte is used once).
    private static let randomPool = Mutex(RandomPool())

    private struct RandomPool {
        static let refillBytes = 4096
        var bytes: [UInt8] = []
        var position = 0

        mutating func take(_ count: Int) throws -> ArraySlice<UInt8> {
            if position + count > bytes.count {
                bytes = try SecureRandom.bytes(count: Self.refillBytes)
                position = 0
            }
            defer { position += count }
            return bytes[position..<position + count]
        }
    }

    /// A new id for an event created at `timestampMs` (default: now).
    /// - Throws: `SystemError` when the kernel gives no random bytes.
    public static func make(timestampMs: Int64 = SystemClock.nowMs()) throws -> String {
        // 48 bits of time then 80 random bits, as two words; written as `evt_` and 26 base32 characters
        // (the first carries 3 bits) straight into the string's storage.
        var high = (UInt64(max(0, timestampMs)) & 0xFFFF_FFFF_FFFF) << 16
        var low = UInt64(0)
        try randomPool.withLock { pool in
            let random = try pool.take(10)
            let start = random.startIndex
            high |= UInt64(random[start]) << 8 | UInt64(random[start + 1])
            for index in 2..<10 { low = low << 8 | UInt64(random[start + index]) }
        }
        return String(unsafeUninitializedCapacity: 30) { buffer in
            for (index, byte) in "evt_".utf8.enumerated() { buffer[index] = byte }
            for position in stride(from: 29, through: 4, by: -1) {
                buffer[position] = alphabet[Int(low & 31)]
                low = low >> 5 | (high & 31) << 59
                high >>= 5
            }
            return 30
        }
    }
}
