import Foundation
import Testing
@testable import Crypto

/// Every implementation this CPU can run (both on x86 with SHA-NI); each test runs them all explicitly.
let sha256Implementations = HashImplementation.allCases.filter { $0.isAvailable(for: .sha256) }

extension SHA256 {
    /// One-shot digest with a chosen implementation.
    static func hash(_ bytes: some Sequence<UInt8>, implementation: HashImplementation) -> [UInt8] {
        var hasher = SHA256(implementation: implementation)
        hasher.update(bytes)
        return hasher.finalize()
    }
}

@Suite struct SHA256Tests {
    static let vectors = [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
    ]

    // FIPS 180-4 / NIST CAVP example vectors.
    @Test(arguments: sha256Implementations)
    func nistVectors(implementation: HashImplementation) {
        for (message, digest) in Self.vectors {
            #expect(Hex.encode(SHA256.hash(Array(message.utf8), implementation: implementation)) == digest, "\(message)")
        }
    }

    @Test(arguments: sha256Implementations)
    func oneMillionA(implementation: HashImplementation) {
        let message = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(Hex.encode(SHA256.hash(message, implementation: implementation))
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// The hardware path is really chosen where the kernel reports SHA-NI (a CPUID check that never
    /// finds it would make every hardware test above silently portable-only).
    @Test(.enabled(if: cpuInfoFlags().contains("sha_ni")))
    func cpuWithSHANIRunsHardwareBothWays() {
        #expect(sha256Implementations == [.portable, .hardware])
        #expect(HashImplementation.isPortableForced || HashImplementation.preferredSHA256 == .hardware)
        #expect(SHA256().implementation == HashImplementation.preferredSHA256)
    }

    static func message(length: Int) -> [UInt8] {
        (0..<length).map { UInt8(($0 * 7 + length) % 256) }
    }

    static func referenceTable() throws -> [(Int, String)] {
        let url = try #require(Bundle.module.url(forResource: "sha256-lengths", withExtension: "txt", subdirectory: "Fixtures"))
        let text = try String(contentsOf: url, encoding: .utf8)
        return text.split(separator: "\n").map { line in
            let parts = line.split(separator: " ")
            return (Int(parts[0]) ?? -1, String(parts[1]))
        }
    }

    @Test(arguments: sha256Implementations)
    func everyLengthFrom0To300MatchesHashlib(implementation: HashImplementation) throws {
        let table = try Self.referenceTable()
        #expect(table.count == 301)
        for (length, digest) in table {
            #expect(Hex.encode(SHA256.hash(Self.message(length: length), implementation: implementation)) == digest,
                    "length \(length)")
        }
    }

    @Test(arguments: sha256Implementations, [1, 3, 7, 13, 63, 64, 65, 127, 1000])
    func streamingInChunksEqualsOneShot(implementation: HashImplementation, chunkSize: Int) {
        for length in [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 300, 4099] {
            let message = Self.message(length: length)
            var hasher = SHA256(implementation: implementation)
            var index = 0
            while index < message.count {
                let end = min(index + chunkSize, message.count)
                hasher.update(message[index..<end])
                index = end
            }
            #expect(hasher.finalize() == SHA256.hash(message, implementation: .portable), "length \(length) chunk \(chunkSize)")
        }
    }

    /// Two streams absorbed together (two lanes at a time on SHA-NI) give what each gives alone: for
    /// pending bytes before them of none, a few and nearly a block, and inputs shorter than, equal to and
    /// longer than the other's, by whole blocks and by odd bytes.
    @Test(arguments: sha256Implementations)
    func pairedUpdateEqualsTwoUpdates(implementation: HashImplementation) {
        let lengths = [0, 1, 63, 64, 65, 128, 200, 1000, 1027, 4096]
        let message = Self.message(length: 5000)
        for firstPending in [0, 9, 63] {
            for secondPending in [0, 40] {
                for firstLength in lengths {
                    for secondLength in lengths {
                        var first = SHA256(implementation: implementation), second = SHA256(implementation: implementation)
                        first.update(message[0..<firstPending])
                        second.update(message[1..<(1 + secondPending)])
                        var firstAlone = first, secondAlone = second
                        let firstBytes = message[100..<(100 + firstLength)], secondBytes = message[3..<(3 + secondLength)]
                        firstBytes.withUnsafeBytes { firstBuffer in
                            secondBytes.withUnsafeBytes { secondBuffer in
                                SHA256.update(&first, with: firstBuffer, &second, with: secondBuffer)
                            }
                        }
                        firstAlone.update(firstBytes)
                        secondAlone.update(secondBytes)
                        let label = "pending \(firstPending)/\(secondPending), lengths \(firstLength)/\(secondLength)"
                        #expect(first.finalize() == firstAlone.finalize(), "first, \(label)")
                        #expect(second.finalize() == secondAlone.finalize(), "second, \(label)")
                    }
                }
            }
        }
    }

    /// `hashEach` gives `SHA-256(prefix || message)` of every message, two at a time on SHA-NI (padding of
    /// one block and of two), for odd and even counts, also when the digests overwrite the messages.
    @Test(arguments: sha256Implementations)
    func hashEachEqualsOneHashPerMessage(implementation: HashImplementation) {
        for messageByteCount in [32, 54, 55, 64, 100, 119, 120] {
            for messageCount in [0, 1, 2, 3, 8] {
                let messages = Self.message(length: messageCount * messageByteCount)
                let expected = (0..<messageCount).flatMap { index in
                    SHA256.hash([0x01] + messages[(index * messageByteCount)..<((index + 1) * messageByteCount)], implementation: .portable)
                }
                var digests = [UInt8](repeating: 0, count: messageCount * SHA256.digestByteCount)
                messages.withUnsafeBytes { input in
                    digests.withUnsafeMutableBytes { output in
                        SHA256.hashEach(prefix: 0x01, messages: input, messageCount: messageCount, messageByteCount: messageByteCount,
                                        into: output, implementation: implementation)
                    }
                }
                #expect(digests == expected, "\(messageCount) messages of \(messageByteCount) bytes")
                var inPlace = messages
                inPlace.withUnsafeMutableBytes { buffer in
                    SHA256.hashEach(prefix: 0x01, messages: UnsafeRawBufferPointer(buffer), messageCount: messageCount,
                                    messageByteCount: messageByteCount, into: buffer, implementation: implementation)
                }
                #expect(Array(inPlace.prefix(digests.count)) == expected, "in place, \(messageCount) messages of \(messageByteCount) bytes")
            }
        }
    }

    /// `finalizeDigest` and `finalizeDigests` give the digests `finalize` gives, for lengths whose
    /// padding takes one block or two, also when the two hashers need different numbers of padding blocks.
    @Test(arguments: sha256Implementations)
    func finalizedDigestsInPlaceEqualFinalize(implementation: HashImplementation) {
        let lengths = [0, 1, 55, 56, 63, 64, 119, 120, 1000]
        for firstLength in lengths {
            var first = SHA256(implementation: implementation)
            first.update(Self.message(length: firstLength))
            let single = first
            #expect(single.finalizeDigest().bytes == SHA256.hash(Self.message(length: firstLength), implementation: .portable))
            for secondLength in lengths {
                var second = SHA256(implementation: implementation)
                second.update(Self.message(length: secondLength).reversed())
                let (firstDigest, secondDigest) = SHA256.finalizeDigests(first, second)
                let digests = firstDigest.bytes + secondDigest.bytes
                #expect(digests == SHA256.hash(Self.message(length: firstLength), implementation: .portable)
                            + SHA256.hash(Self.message(length: secondLength).reversed(), implementation: .portable),
                        "lengths \(firstLength) and \(secondLength)")
            }
        }
    }

    @Test func nonContiguousSequenceHashesLikeArray() {
        let message = Self.message(length: 200)
        #expect(SHA256.hash(message.lazy.map { $0 }) == SHA256.hash(message))
    }
}

/// The CPU flags the kernel reports in /proc/cpuinfo (empty where there is none).
func cpuInfoFlags() -> Set<String> {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return [] }
    return Set(line.split(separator: " ").map(String.init))
}
