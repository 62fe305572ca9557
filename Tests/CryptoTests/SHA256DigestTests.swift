import Testing
@testable import Crypto

/// `SHA256.Digest`, the inline (non-allocating) form of a digest, against `finalize()`'s bytes.
@Suite struct SHA256DigestTests {
    /// `finalizeDigest()` gives the bytes `finalize()` gives, for every implementation and for lengths
    /// around the padding boundaries (one block of padding, two).
    @Test(arguments: sha256Implementations)
    func finalizeDigestEqualsFinalize(implementation: HashImplementation) {
        for length in [0, 1, 3, 55, 56, 63, 64, 65, 119, 120, 1000] {
            let message = SHA256Tests.message(length: length)
            var first = SHA256(implementation: implementation)
            first.update(message)
            let second = first
            let digest = second.finalizeDigest()
            let bytes = first.finalize()
            #expect(digest.bytes == bytes, "length \(length)")
            #expect(digest.hex == Hex.encode(bytes), "length \(length)")
            #expect(digest.withUnsafeBytes { Array($0) } == bytes, "length \(length)")
            #expect(digest == SHA256.Digest(bytes: bytes), "length \(length)")
            #expect(digest == SHA256.Digest(lowercaseHex: Hex.encode(bytes)), "length \(length)")
        }
    }

    @Test func oneShotDigestsMatchTheVectors() {
        for (message, expected) in SHA256Tests.vectors {
            #expect(SHA256.digest(Array(message.utf8)).hex == expected, "\(message)")
            #expect(SHA256.digest(message.utf8).hex == expected, "\(message)")
            #expect(SHA256.digest(AnySequence(message.utf8)).hex == expected, "\(message) (not contiguous)")
            Array(message.utf8).withUnsafeBytes { buffer in
                #expect(SHA256.digest(buffer).hex == expected, "\(message) (buffer)")
            }
        }
    }

    @Test func equalDigestsHashAlikeAndDifferentOnesDiffer() {
        let abc = SHA256.digest("abc".utf8)
        let empty = SHA256.digest([UInt8]())
        var set: Set<SHA256.Digest> = [abc, empty]
        #expect(!set.insert(SHA256.digest(Array("abc".utf8))).inserted)
        #expect(set.count == 2 && abc != empty)
    }

    /// Only 64 lowercase hex digits name a digest: a stored key spelled another way must not match.
    @Test func onlyCanonicalTextIsAccepted() {
        let hex = SHA256Tests.vectors[1].1
        #expect(SHA256.Digest(lowercaseHex: hex)?.hex == hex)
        #expect(SHA256.Digest(lowercaseHex: hex.uppercased()) == nil)
        #expect(SHA256.Digest(lowercaseHex: String(hex.dropLast())) == nil)
        #expect(SHA256.Digest(lowercaseHex: hex + "0") == nil)
        #expect(SHA256.Digest(lowercaseHex: String(hex.dropLast()) + "g") == nil)
        #expect(SHA256.Digest(lowercaseHex: "") == nil)
        #expect(SHA256.Digest(bytes: [UInt8](repeating: 1, count: 31)) == nil)
        #expect(SHA256.Digest(bytes: [UInt8](repeating: 1, count: 33)) == nil)
    }
}
