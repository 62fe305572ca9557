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
        let random = try randomPool.withLock { pool in try pool.take(10) }
        var value = [UInt8](repeating: 0, count: 16)
        let time = UInt64(max(0, timestampMs)) & 0xFFFF_FFFF_FFFF
        for index in 0..<6 { value[index] = UInt8(truncatingIfNeeded: time >> (8 * UInt64(5 - index))) }
        for index in 0..<10 { value[6 + index] = random[random.startIndex + index] }
        // 128 bits as 26 base32 characters (the first carries 3 bits).
        var characters = [UInt8](repeating: 0, count: 26)
        var high = UInt64(0)
        var low = UInt64(0)
        for index in 0..<8 { high = high << 8 | UInt64(value[index]) }
        for index in 8..<16 { low = low << 8 | UInt64(value[index]) }
        for position in stride(from: 25, through: 0, by: -1) {
            characters[position] = alphabet[Int(low & 31)]
            low = low >> 5 | (high & 31) << 59
            high >>= 5
        }
        return "evt_" + String(decoding: characters, as: UTF8.self)
    }
}
