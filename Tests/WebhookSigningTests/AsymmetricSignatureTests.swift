import Crypto
import Foundation
import SystemIO
import Testing
import WebhookSigning

/// Standard Webhooks `v1a` (Ed25519) secrets, headers, rotation and verification.
@Suite struct AsymmetricSignatureTests {
    /// The seed 0x00...0x1f as a `whsk_` key.
    static let seedText = "whsk_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

    @Test func whskParsesThirtyTwoAndSixtyFourByteFormsAndNeverShowsTheKey() throws {
        let secret = try WebhookSecret(parsing: Self.seedText)
        #expect(secret.scheme == .ed25519)
        #expect(secret.encoded == Self.seedText)
        #expect(!secret.description.contains("AAEC") && !secret.debugDescription.contains("AAEC"))
        let key = try #require(secret.signingKey)
        let long = try WebhookSecret(parsing: "whsk_" + Base64.encode(key.expandedRepresentation))
        #expect(long == secret)
        var wrongPublic = key.expandedRepresentation
        wrongPublic[63] ^= 1
        #expect(throws: WebhookSecretError.self) { try WebhookSecret(parsing: "whsk_" + Base64.encode(wrongPublic)) }
        #expect(throws: WebhookSecretError.self) { try WebhookSecret(parsing: "whsk_" + Base64.encode([UInt8](repeating: 1, count: 48))) }
        let publicText = try #require(secret.publicKeyText)
        #expect(try WebhookPublicKey.parse(publicText) == key.publicKey)
        #expect(throws: WebhookSecretError.missingPrefix) { try WebhookPublicKey.parse("whsec_" + publicText.dropFirst(5)) }
    }

    @Test func deliveriesCarryV1aSignaturesOfIdTimestampAndBodyAndNoArgusSignature() throws {
        let secret = try WebhookSecret(parsing: Self.seedText)
        let headers = DeliveryHeaders(newestSecret: secret, deliveryID: Fixture.deliveryID, timestampSeconds: Fixture.timestampSeconds,
                                      attempt: 1, eventType: "user.created", body: Fixture.body, version: "test")
        #expect(headers.value(forName: WebhookHeaderName.argusSignature) == nil)
        let signature = try #require(headers.value(forName: WebhookHeaderName.standard.signature))
        #expect(headers.value(forName: WebhookHeaderName.svix.signature) == signature)
        #expect(signature.hasPrefix("v1a,"))
        let raw = try Base64.decode(String(signature.dropFirst(4)))
        let message = Array("\(Fixture.deliveryID).\(Fixture.timestampSeconds).".utf8) + Fixture.body
        let key = try #require(secret.signingKey)
        #expect(key.publicKey.isValidSignature(raw, for: message))
        #expect(raw == key.signature(for: message), "deterministic")

        let verifier = WebhookVerifier(secrets: [], publicKeys: [key.publicKey])
        #expect(throws: Never.self) { try verifier.verify(body: Fixture.body, headers: headers.fields, nowUnixSeconds: Fixture.timestampSeconds) }
        var tampered = Fixture.body
        tampered[2] ^= 1
        #expect(throws: WebhookVerificationError.noMatchingSignature) {
            try verifier.verify(body: tampered, headers: headers.fields, nowUnixSeconds: Fixture.timestampSeconds)
        }
        let stranger = WebhookVerifier(secrets: [], publicKeys: [try Ed25519PrivateKey.generate().publicKey])
        #expect(throws: WebhookVerificationError.noMatchingSignature) {
            try stranger.verify(body: Fixture.body, headers: headers.fields, nowUnixSeconds: Fixture.timestampSeconds)
        }
        // An HMAC secret does not verify a v1a-only delivery.
        #expect(throws: WebhookVerificationError.noMatchingSignature) {
            try WebhookVerifier(secret: try Fixture.secret()).verify(body: Fixture.body, headers: headers.fields, nowUnixSeconds: Fixture.timestampSeconds)
        }
    }

    @Test func rotationKeepsTheSchemeAndSignsWithBothKeysNewestFirstFor24Hours() throws {
        let start = Date(timeIntervalSince1970: TimeInterval(Fixture.timestampSeconds))
        let ring = try SecretRing(current: try WebhookSecret(parsing: Self.seedText)).rotated(now: start)
        #expect(ring.current.scheme == .ed25519)
        #expect(ring.current != ring.previous[0].secret)
        let during = DeliveryHeaders(ring: ring, deliveryID: Fixture.deliveryID, timestampSeconds: Fixture.timestampSeconds + 60,
                                     attempt: 1, eventType: "user.created", body: Fixture.body, version: "test")
        let entries = try #require(during.value(forName: WebhookHeaderName.standard.signature)).split(separator: " ")
        #expect(entries.count == 2 && entries.allSatisfy { $0.hasPrefix("v1a,") })
        let message = Array("\(Fixture.deliveryID).\(Fixture.timestampSeconds + 60).".utf8) + Fixture.body
        let newest = try Base64.decode(String(entries[0].dropFirst(4)))
        let older = try Base64.decode(String(entries[1].dropFirst(4)))
        #expect(try #require(ring.current.signingKey).publicKey.isValidSignature(newest, for: message))
        #expect(try #require(ring.previous[0].secret.signingKey).publicKey.isValidSignature(older, for: message))
        let after = DeliveryHeaders(ring: ring, deliveryID: Fixture.deliveryID, timestampSeconds: Fixture.timestampSeconds + 86_400,
                                    attempt: 1, eventType: "user.created", body: Fixture.body, version: "test")
        #expect(try #require(after.value(forName: WebhookHeaderName.standard.signature)).split(separator: " ").count == 1)
    }

    @Test func theRingPersistsEd25519Secrets() throws {
        let ring = SecretRing(current: try WebhookSecret.generateEd25519())
        let decoded = try JSONDecoder().decode(SecretRing.self, from: try JSONEncoder().encode(ring))
        #expect(decoded == ring)
        #expect(decoded.current.scheme == .ed25519)
    }
}
