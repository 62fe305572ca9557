import Foundation
import SystemIO
import Testing
@testable import Crypto

@Suite struct Ed25519Tests {
    struct Vector: Sendable, CustomStringConvertible {
        let name: String, seed: [UInt8], publicKey: [UInt8], message: [UInt8], signature: [UInt8]
        var description: String { name }
    }

    /// RFC 8032 section 7.1, all five Ed25519 vectors (TEST 1, 2, 3, 1024, SHA(abc)).
    static func rfc8032Vectors() throws -> [Vector] {
        let url = try #require(Bundle.module.url(forResource: "ed25519-rfc8032", withExtension: "txt", subdirectory: "Fixtures"))
        let text = try String(contentsOf: url, encoding: .utf8)
        return try text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { line in
            let parts = line.split(separator: " ").map(String.init)
            return Vector(name: parts[0], seed: try Hex.decode(parts[1]), publicKey: try Hex.decode(parts[2]),
                          message: parts[3] == "-" ? [] : try Hex.decode(parts[3]), signature: try Hex.decode(parts[4]))
        }
    }

    @Test func rfc8032SectionSevenOneVectors() throws {
        let vectors = try Self.rfc8032Vectors()
        #expect(vectors.count == 5)
        for vector in vectors {
            let key = try Ed25519PrivateKey(rawRepresentation: vector.seed)
            #expect(key.publicKey.rawRepresentation == vector.publicKey, "\(vector.name) public key")
            #expect(key.signature(for: vector.message) == vector.signature, "\(vector.name) signature")
            let publicKey = try Ed25519PublicKey(rawRepresentation: vector.publicKey)
            #expect(publicKey.isValidSignature(vector.signature, for: vector.message), "\(vector.name) verifies")
        }
    }

    @Test func fieldConstantsAreRight() {
        // d * 121666 = -121665 and sqrt(-1)^2 = -1.
        let d121666 = Ed25519FieldElement.d * Ed25519FieldElement(l0: 121_666, l1: 0, l2: 0, l3: 0, l4: 0)
        #expect(d121666.littleEndianBytes == (-Ed25519FieldElement(l0: 121_665, l1: 0, l2: 0, l3: 0, l4: 0)).littleEndianBytes)
        #expect(Ed25519FieldElement.sqrtMinusOne.squared().littleEndianBytes == (-Ed25519FieldElement.one).littleEndianBytes)
        let x = Ed25519FieldElement(littleEndianBytes: Hex.bytes("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd0f"))
        #expect((x * x.inverted()).littleEndianBytes == Ed25519FieldElement.one.littleEndianBytes)
    }

    @Test func encodingIsCanonicalAtTheModulus() {
        // p - 1 encodes as itself; p + 5 (non-canonical input, 2^255 - 14) reduces to 5.
        var pMinusOne = [UInt8](repeating: 0xff, count: 32)
        pMinusOne[0] = 0xec
        pMinusOne[31] = 0x7f
        #expect(Ed25519FieldElement(littleEndianBytes: pMinusOne).littleEndianBytes == pMinusOne)
        var pPlusFive = pMinusOne
        pPlusFive[0] = 0xf2
        var five = [UInt8](repeating: 0, count: 32)
        five[0] = 5
        #expect(Ed25519FieldElement(littleEndianBytes: pPlusFive).littleEndianBytes == five)
    }

    @Test func signaturesRejectEveryAlteration() throws {
        let key = try Ed25519PrivateKey(rawRepresentation: Hex.bytes("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"))
        let message = Array("msg_1.1700000000.{\"id\":1}".utf8)
        let signature = key.signature(for: message)
        #expect(key.publicKey.isValidSignature(signature, for: message))
        for index in 0..<64 {
            var altered = signature
            altered[index] ^= 0x01
            #expect(!key.publicKey.isValidSignature(altered, for: message), "bit flip in byte \(index)")
        }
        var alteredMessage = message
        alteredMessage[0] ^= 0x20
        #expect(!key.publicKey.isValidSignature(signature, for: alteredMessage))
        #expect(!key.publicKey.isValidSignature(signature.dropLast(), for: message))
        let other = try Ed25519PrivateKey(rawRepresentation: [UInt8](repeating: 7, count: 32))
        #expect(!other.publicKey.isValidSignature(signature, for: message))
    }

    @Test func nonCanonicalSIsRejected() throws {
        // S + L verifies under the cofactorless equation but is not canonical: RFC 8032 says reject.
        let key = try Ed25519PrivateKey(rawRepresentation: [UInt8](repeating: 1, count: 32))
        let message = Array("hello".utf8)
        let signature = key.signature(for: message)
        var sum = Array(signature[32..<64])
        var carry = 0
        for index in 0..<32 {
            let total = Int(sum[index]) + Int(Ed25519Scalar.order[index]) + carry
            sum[index] = UInt8(total & 0xff)
            carry = total >> 8
        }
        #expect(carry == 0 && sum[31] < 0x20)
        #expect(!key.publicKey.isValidSignature(Array(signature[0..<32]) + sum, for: message))
    }

    @Test func invalidAndSmallOrderPublicKeysAreRejected() {
        // The identity (y = 1), a point of order 2 (y = -1), a y with no x, y >= p, wrong length.
        var identity = [UInt8](repeating: 0, count: 32)
        identity[0] = 1
        var minusOne = [UInt8](repeating: 0xff, count: 32)
        minusOne[0] = 0xec
        minusOne[31] = 0x7f
        var noSquareRoot = [UInt8](repeating: 0, count: 32)
        noSquareRoot[0] = 2
        var tooLarge = [UInt8](repeating: 0xff, count: 32)
        tooLarge[31] = 0x7f
        for bytes in [identity, minusOne, noSquareRoot, tooLarge] {
            #expect(throws: Ed25519KeyError.invalidPublicKeyPoint) { try Ed25519PublicKey(rawRepresentation: bytes) }
        }
        #expect(throws: Ed25519KeyError.invalidPublicKeyLength(31)) { try Ed25519PublicKey(rawRepresentation: [UInt8](repeating: 0, count: 31)) }
    }

    @Test func sixtyFourByteSecretKeysMustCarryTheirPublicKey() throws {
        let key = try Ed25519PrivateKey(rawRepresentation: [UInt8](repeating: 9, count: 32))
        let expanded = try Ed25519PrivateKey(rawRepresentation: key.expandedRepresentation)
        #expect(expanded.publicKey == key.publicKey)
        var wrong = key.expandedRepresentation
        wrong[40] ^= 1
        #expect(throws: Ed25519KeyError.publicKeyMismatch) { try Ed25519PrivateKey(rawRepresentation: wrong) }
        #expect(throws: Ed25519KeyError.invalidSecretKeyLength(33)) { try Ed25519PrivateKey(rawRepresentation: [UInt8](repeating: 0, count: 33)) }
        #expect(!key.description.contains(Base64.encode(key.seed)))
    }

    @Test func generatedKeysSignAndVerify() throws {
        for _ in 0..<20 {
            let key = try Ed25519PrivateKey.generate()
            let message = try SecureRandom.bytes(count: 100)
            #expect(key.publicKey.isValidSignature(key.signature(for: message), for: message))
        }
    }

    @Test func scalarReductionOfTheOrderIsZero() {
        var wide = [UInt8](repeating: 0, count: 64)
        for index in 0..<32 { wide[index] = UInt8(Ed25519Scalar.order[index]) }
        #expect(Ed25519Scalar.reduced(wide) == [UInt8](repeating: 0, count: 32))
        let all = [UInt8](repeating: 0xff, count: 64)
        // (2^512 - 1) mod L, from Python: hex((2**512 - 1) % L) little-endian.
        #expect(Hex.encode(Ed25519Scalar.reduced(all)) == Self.reducedAllOnes)
    }

    static let reducedAllOnes = "000f9c44e31106a447938568a71b0ed065bef517d273ecce3d9a307c1b419903"
}
