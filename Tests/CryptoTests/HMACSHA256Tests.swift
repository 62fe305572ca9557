import Testing
@testable import Crypto

@Suite struct HMACSHA256Tests {
    static func bytes(_ hex: String) -> [UInt8] { (try? Hex.decode(hex)) ?? [] }

    // RFC 4231 section 4, test cases 1 to 7 (case 5 is truncated to 128 bits).
    @Test(arguments: sha256Implementations)
    func rfc4231TestCases(implementation: HashImplementation) {
        let cases: [(key: [UInt8], data: [UInt8], mac: String, truncatedByteCount: Int?)] = [
            ([UInt8](repeating: 0x0b, count: 20), Array("Hi There".utf8),
             "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7", nil),
            (Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
             "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", nil),
            ([UInt8](repeating: 0xaa, count: 20), [UInt8](repeating: 0xdd, count: 50),
             "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe", nil),
            (Self.bytes("0102030405060708090a0b0c0d0e0f10111213141516171819"), [UInt8](repeating: 0xcd, count: 50),
             "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b", nil),
            ([UInt8](repeating: 0x0c, count: 20), Array("Test With Truncation".utf8),
             "a3b6167473100ee06e0c796c2955552b", 16),
            ([UInt8](repeating: 0xaa, count: 131), Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
             "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54", nil),
            ([UInt8](repeating: 0xaa, count: 131),
             Array("This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.".utf8),
             "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2", nil),
        ]
        for (number, testCase) in cases.enumerated() {
            var mac = HMACSHA256(key: testCase.key, implementation: implementation).authenticationCode(for: testCase.data)
            if let truncated = testCase.truncatedByteCount { mac = Array(mac.prefix(truncated)) }
            #expect(Hex.encode(mac) == testCase.mac, "RFC 4231 test case \(number + 1)")
        }
    }

    @Test(arguments: sha256Implementations)
    func streamingEqualsOneShot(implementation: HashImplementation) {
        let key = Array("key".utf8)
        let message = (0..<1000).map { UInt8($0 % 251) }
        let hmac = HMACSHA256(key: key, implementation: implementation)
        var stream = hmac.makeStream()
        stream.update(message[0..<333])
        stream.update(message[333...])
        #expect(stream.finalize() == hmac.authenticationCode(for: message))
        #expect(hmac.authenticationCode(for: message) == HMACSHA256.authenticationCode(for: message, key: key))
    }
}
