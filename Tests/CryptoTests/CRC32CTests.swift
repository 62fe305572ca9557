import Testing
@testable import Crypto

/// Every implementation this CPU can run (both on x86 with SSE4.2); each test runs them all explicitly.
let crc32cImplementations = HashImplementation.allCases.filter { $0.isAvailable(for: .crc32c) }

extension CRC32C {
    static func checksum(_ bytes: [UInt8], implementation: HashImplementation) -> UInt32 {
        bytes.withUnsafeBytes { update(0, $0, implementation: implementation) }
    }
}

@Suite struct CRC32CTests {
    // RFC 3720 appendix B.4 and the common check value.
    @Test(arguments: crc32cImplementations)
    func publishedVectors(implementation: HashImplementation) {
        func crc(_ bytes: [UInt8]) -> UInt32 { CRC32C.checksum(bytes, implementation: implementation) }
        #expect(crc(Array("123456789".utf8)) == 0xE306_9283)
        #expect(crc([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(crc([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(crc((0..<32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(crc((0..<32).map { UInt8(31 - $0) }) == 0x113F_DB5C)
        #expect(crc([]) == 0)
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

    @Test(arguments: crc32cImplementations)
    func equalsBitwiseAtEveryLength(implementation: HashImplementation) {
        let data = (0..<300).map { UInt8(($0 * 31 + 5) % 256) }
        for length in 0...data.count {
            let slice = Array(data[0..<length])
            #expect(CRC32C.checksum(slice, implementation: implementation) == Self.reference(slice), "length \(length)")
        }
    }

    /// Lengths around the three-stream stripes of the hardware code (3 x 1024 bytes), at odd alignments.
    @Test(arguments: crc32cImplementations)
    func longBuffersEqualBitwise(implementation: HashImplementation) {
        let data: [UInt8] = (0..<20_000).map { (index: Int) -> UInt8 in UInt8(truncatingIfNeeded: index * 131 + index / 256) }
        for length in [3071, 3072, 3073, 6143, 6144, 6151, 9216 + 7, 19_990] {
            for start in [0, 1, 3] {
                let slice = Array(data[start..<(start + length)])
                #expect(CRC32C.checksum(slice, implementation: implementation) == Self.reference(slice),
                        "length \(length) from \(start)")
            }
        }
    }

    @Test(arguments: crc32cImplementations)
    func incrementalEqualsOneShot(implementation: HashImplementation) {
        let data = (0..<10_000).map { UInt8($0 % 256) }
        for split in [0, 377, 3072, 5000] {
            let first = data[0..<split].withUnsafeBytes { CRC32C.update(0, $0, implementation: implementation) }
            let whole = data[split...].withUnsafeBytes { CRC32C.update(first, $0, implementation: implementation) }
            #expect(whole == Self.reference(data), "split at \(split)")
        }
    }

    @Test(.enabled(if: cpuInfoFlags().contains("sse4_2")))
    func cpuWithSSE42RunsHardwareBothWays() {
        #expect(crc32cImplementations == [.portable, .hardware])
        #expect(HashImplementation.isPortableForced || HashImplementation.preferredCRC32C == .hardware)
    }

    @Test func publicEntryPointsAgree() {
        let data = (0..<5000).map { UInt8($0 % 251) }
        #expect(CRC32C.checksum(data) == Self.reference(data))
        #expect(CRC32C.update(CRC32C.checksum(data[0..<100]), data[100...]) == Self.reference(data))
    }
}
