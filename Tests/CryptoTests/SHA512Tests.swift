import Foundation
import Testing
@testable import Crypto

@Suite struct SHA512Tests {
    // FIPS 180-4 / NIST CAVP example vectors.
    @Test(arguments: [
        ("", "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"),
        ("abc", "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"),
        ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909"),
    ])
    func nistVectors(message: String, digest: String) {
        #expect(Hex.encode(SHA512.hash(Array(message.utf8))) == digest)
    }

    @Test func oneMillionA() {
        let message = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(Hex.encode(SHA512.hash(message)) == "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973ebde0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b")
    }

    static func referenceTable() throws -> [(Int, String)] {
        let url = try #require(Bundle.module.url(forResource: "sha512-lengths", withExtension: "txt", subdirectory: "Fixtures"))
        let text = try String(contentsOf: url, encoding: .utf8)
        return text.split(separator: "\n").map { line in
            let parts = line.split(separator: " ")
            return (Int(parts[0]) ?? -1, String(parts[1]))
        }
    }

    @Test func everyLengthFrom0To300MatchesHashlib() throws {
        let table = try Self.referenceTable()
        #expect(table.count == 301)
        for (length, digest) in table {
            #expect(Hex.encode(SHA512.hash(SHA256Tests.message(length: length))) == digest, "length \(length)")
        }
    }

    @Test(arguments: [1, 3, 7, 111, 127, 128, 129, 1000])
    func streamingInChunksEqualsOneShot(chunkSize: Int) {
        for length in [0, 1, 111, 112, 127, 128, 129, 239, 240, 256, 300, 4099] {
            let message = SHA256Tests.message(length: length)
            var hasher = SHA512()
            var index = 0
            while index < message.count {
                let end = min(index + chunkSize, message.count)
                hasher.update(message[index..<end])
                index = end
            }
            #expect(hasher.finalize() == SHA512.hash(message), "length \(length) chunk \(chunkSize)")
        }
    }
}
