import Foundation
import Testing
import WebhookSigning

@Suite struct SecretRingTests {
    let start = Date(timeIntervalSince1970: 1_780_000_000)

    @Test func rotationKeepsTheOldSecretSigningForTheGracePeriod() throws {
        let old = try Fixture.secret()
        let new = try Fixture.secret(Fixture.svixSecretText)
        let ring = SecretRing(current: old).rotated(to: new, now: start)
        #expect(ring.current == new)
        #expect(ring.previous.map(\.expiresAtUnixSeconds) == [1_780_000_000 + 86_400])
        // Newest first while both sign.
        #expect(ring.signingSecrets(at: start) == [new, old])
        #expect(ring.signingSecrets(at: start.addingTimeInterval(86_399)) == [new, old])
        // Expired exactly at the end of the grace period.
        #expect(ring.signingSecrets(at: start.addingTimeInterval(86_400)) == [new])

        // Both verify while unexpired; a delivery signed after expiry no longer verifies with the old one.
        for secret in [old, new] {
            let headers = Fixture.headers(secrets: ring.signingSecrets(atUnixSeconds: Fixture.timestampSeconds))
            try WebhookVerifier(secret: secret).verify(body: Fixture.body, headers: headers, nowUnixSeconds: Fixture.timestampSeconds)
        }
        let later = Fixture.timestampSeconds + 86_400
        let laterHeaders = DeliveryHeaders(
            ring: ring, deliveryID: "d", timestampSeconds: later, attempt: 1, eventType: "user.created",
            body: Fixture.body, version: "test").fields
        #expect(throws: WebhookVerificationError.noMatchingSignature) {
            try WebhookVerifier(secret: old).verify(body: Fixture.body, headers: laterHeaders, nowUnixSeconds: later)
        }
        try WebhookVerifier(secret: new).verify(body: Fixture.body, headers: laterHeaders, nowUnixSeconds: later)
    }

    @Test func severalRotationsListNewestFirstAndDropExpired() throws {
        let first = try WebhookSecret.generate()
        var ring = SecretRing(current: first)
        let second = try ring.rotate(now: start, graceSeconds: 100)
        let third = try ring.rotate(now: start.addingTimeInterval(50), graceSeconds: 100)
        #expect(ring.current == third)
        #expect(ring.signingSecrets(at: start.addingTimeInterval(60)) == [third, second, first])
        #expect(ring.signingSecrets(at: start.addingTimeInterval(100)) == [third, second])
        #expect(ring.signingSecrets(at: start.addingTimeInterval(150)) == [third])
        #expect(ring.pruned(now: start.addingTimeInterval(100)).previous.map(\.secret) == [second])
        // Rotating again drops what has expired by then.
        let fourth = try ring.rotate(now: start.addingTimeInterval(120))
        #expect(ring.previous.map(\.secret) == [third, second])
        #expect(ring.signingSecrets(at: start.addingTimeInterval(120)) == [fourth, third, second])
        #expect(ring.signingSecrets(at: start.addingTimeInterval(150)) == [fourth, third])
    }

    @Test func defaultGraceIsTwentyFourHours() throws {
        var ring = SecretRing(current: try WebhookSecret.generate())
        try ring.rotate(now: start)
        #expect(SecretRing.defaultGraceSeconds == 86_400)
        #expect(ring.previous.first?.expiresAtUnixSeconds == start.wholeUnixSeconds + 86_400)
    }

    @Test func roundTripsThroughJSON() throws {
        let ring = SecretRing(current: try Fixture.secret()).rotated(to: try Fixture.secret(Fixture.svixSecretText), now: start)
        let data = try JSONEncoder().encode(ring)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains(#""expires_at":1780086400"#))
        #expect(try JSONDecoder().decode(SecretRing.self, from: data) == ring)
    }
}
