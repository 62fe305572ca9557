import Testing
@testable import Crypto

@Suite struct CRC32CTests {
    // RFC 3720 appendix B.4 and the common check value.
    @Test func publishedVectors() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(CRC32C.checksum((0..<32).map { UInt8(31 - $0) }) == 0x113F_DB5C)
        #expect(CRC32C.checksum([UInt8]()) == 0)
    }

    /// Bit-at-a-time reference, to check the sliced tables at every alignment and length.
    static func reference(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        return ~crc
    }

    @Test func slicedEqualsBitwiseAtEveryLength() {
        let data = (0..<300).map { UInt8(($0 * 31 + 5) % 256) }
        for length in 0...data.count {
            let slice = Array(data[0..<length])
            #expect(CRC32C.checksum(slice) == Self.reference(slice), "length \(length)")
        }
    }

    @Test func incrementalEqualsOneShot() {
        let data = (0..<1000).map { UInt8($0 % 256) }
        let first = CRC32C.update(0, data[0..<377])
        #expect(CRC32C.update(first, data[377...]) == CRC32C.checksum(data))
    }
}
