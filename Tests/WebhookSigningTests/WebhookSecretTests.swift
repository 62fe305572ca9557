import Crypto
import Foundation
import Testing
import WebhookSigning

@Suite struct WebhookSecretTests {
    @Test func parsesAndReencodes() throws {
        let secret = try Fixture.secret()
        #expect(secret.keyBytes == Array(0..<32))
        #expect(secret.encoded == Fixture.secretText)
    }

    @Test func acceptsTheSvixExampleSecret() throws {
        #expect(try Fixture.secret(Fixture.svixSecretText).keyBytes.count == 24)
    }

    @Test func generatesThirtyTwoRandomBytes() throws {
        let first = try WebhookSecret.generate()
        let second = try WebhookSecret.generate()
        #expect(first.keyBytes.count == 32)
        #expect(first != second)
        #expect(first.encoded.hasPrefix("whsec_"))
        #expect(try WebhookSecret(parsing: first.encoded) == first)
    }

    @Test func rejectsMalformedText() {
        #expect(throws: WebhookSecretError.missingPrefix) { try WebhookSecret(parsing: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=") }
        #expect(throws: WebhookSecretError.missingPrefix) { try WebhookSecret(parsing: "WHSEC_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=") }
        for text in ["whsec_", "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8= ",
                     "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n", "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh-_"] {
            #expect(throws: WebhookSecretError.self) { try WebhookSecret(parsing: text) }
        }
        // Too short (16 bytes) and too long (65 bytes).
        #expect(throws: WebhookSecretError.wrongKeyLength(byteCount: 16, accepted: 24...64)) {
            try WebhookSecret(parsing: "whsec_" + Base64.encode([UInt8](repeating: 1, count: 16)))
        }
        #expect(throws: WebhookSecretError.wrongKeyLength(byteCount: 65, accepted: 24...64)) {
            try WebhookSecret(parsing: "whsec_" + Base64.encode([UInt8](repeating: 1, count: 65)))
        }
    }

    @Test func errorsNeverContainTheText() {
        let text = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8!"
        do {
            _ = try WebhookSecret(parsing: text)
            Issue.record("accepted a malformed secret")
        } catch {
            #expect(!error.description.contains("AAECAwQF"))
        }
    }

    @Test func descriptionIsRedacted() throws {
        let secret = try Fixture.secret()
        for text in [secret.description, secret.debugDescription, "\(secret)", String(reflecting: secret), "\([secret])"] {
            #expect(!text.contains("AAECAwQF"), "\(text)")
            #expect(text.contains("redacted"))
        }
    }

    @Test func codableAsTheSecretText() throws {
        let secret = try Fixture.secret()
        let data = try JSONEncoder().encode([secret])
        #expect(String(decoding: data, as: UTF8.self) == #"["whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="]"#)
        #expect(try JSONDecoder().decode([WebhookSecret].self, from: data) == [secret])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([WebhookSecret].self, from: Data(#"["whsec_nope"]"#.utf8)) }
    }
}
