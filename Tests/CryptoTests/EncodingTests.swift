import SystemIO
import Testing
@testable import Crypto

@Suite struct EncodingTests {
    // RFC 4648 section 10.
    @Test func base64Rfc4648Vectors() throws {
        let vectors = [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="),
                       ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")]
        for (plain, encoded) in vectors {
            #expect(Base64.encode(Array(plain.utf8)) == encoded)
            #expect(try Base64.decode(encoded) == Array(plain.utf8))
        }
    }

    @Test func base64URLRoundTripsWithoutPadding() throws {
        let bytes: [UInt8] = [0xfb, 0xff, 0xfe, 0x00, 0x3e]
        let encoded = Base64.encode(bytes, alphabet: .url)
        #expect(encoded == "-__-AD4")
        #expect(try Base64.decode(encoded, alphabet: .url) == bytes)
        #expect(try Base64.decode(encoded + "=", alphabet: .url) == bytes)
    }

    @Test(arguments: ["Zg", "Zg=", "Zg===", "Z===", "Zm9v YmFy", "Zm9v\nYmFy", "Zh==", "Zm9-", "Z", "====", "Zm9vY", "Zm=v"])
    func base64RejectsMalformed(text: String) {
        #expect(throws: EncodingError.self) { try Base64.decode(text) }
    }

    @Test func base64RoundTripsEveryLength() throws {
        for length in 0..<100 {
            let bytes = (0..<length).map { UInt8(($0 * 37 + 11) % 256) }
            #expect(try Base64.decode(Base64.encode(bytes)) == bytes)
            #expect(try Base64.decode(Base64.encode(bytes, alphabet: .url), alphabet: .url) == bytes)
        }
    }

    @Test func hexRoundTripAndRejects() throws {
        #expect(Hex.encode([0x00, 0xAB, 0xff]) == "00abff")
        #expect(try Hex.decode("00ABff") == [0x00, 0xAB, 0xFF])
        #expect(throws: EncodingError.self) { try Hex.decode("abc") }
        #expect(throws: EncodingError.self) { try Hex.decode("zz") }
        #expect(try Hex.decode("") == [])
    }

    @Test func constantTimeEquals() {
        #expect(ConstantTime.equals([1, 2, 3], [1, 2, 3]))
        #expect(!ConstantTime.equals([1, 2, 3], [1, 2, 4]))
        #expect(!ConstantTime.equals([1, 2, 3], [1, 2]))
        #expect(ConstantTime.equals([UInt8](), [UInt8]()))
    }

    @Test func secureRandomGivesDistinctBytesOfTheRightCount() throws {
        let first = try SecureRandom.bytes(count: 32)
        let second = try SecureRandom.bytes(count: 32)
        #expect(first.count == 32)
        #expect(first != second)
        #expect(try SecureRandom.bytes(count: 0).isEmpty)
    }
}
