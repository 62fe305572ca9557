import Crypto
import Foundation
import Testing
import WebhookSigning

@Suite struct WebhookVerifierTests {
    let now = Fixture.timestampSeconds

    func verifier() throws -> WebhookVerifier { WebhookVerifier(secret: try Fixture.secret()) }
    func headers() throws -> [HeaderField] { Fixture.headers(secrets: [try Fixture.secret()]) }

    @Test func roundTrip() throws {
        let verified = try verifier().verify(body: Fixture.body, headers: try headers(), nowUnixSeconds: now)
        #expect(verified.id == Fixture.deliveryID && verified.timestampSeconds == now && verified.checkedArgusSignature)
        // A generated secret, an empty body and the Date entry point.
        let secret = try WebhookSecret.generate()
        let date = Date()
        let fields = DeliveryHeaders(
            newestSecret: secret, deliveryID: "msg_1", timestampSeconds: date.wholeUnixSeconds, attempt: 1,
            eventType: "webhook.test", body: [], version: "t").fields
        try WebhookVerifier(secret: secret).verify(body: [], headers: fields, now: date)
    }

    @Test func headerNamesAreCaseInsensitive() throws {
        let shouted = try headers().map { HeaderField(name: $0.name.uppercased(), value: $0.value) }
        try verifier().verify(body: Fixture.body, headers: shouted, nowUnixSeconds: now)
        let mixed = try headers().map { HeaderField(name: $0.name == "webhook-signature" ? "Webhook-Signature" : $0.name, value: $0.value) }
        try verifier().verify(body: Fixture.body, headers: mixed, nowUnixSeconds: now)
    }

    @Test func svixHeadersAloneVerify() throws {
        let svixOnly = try headers().filter { !$0.name.hasPrefix("webhook-") }
        try verifier().verify(body: Fixture.body, headers: svixOnly, nowUnixSeconds: now)
        let standardOnly = try headers().filter { !$0.name.hasPrefix("svix-") && !$0.name.hasPrefix("x-argus") }
        let verified = try verifier().verify(body: Fixture.body, headers: standardOnly, nowUnixSeconds: now)
        #expect(!verified.checkedArgusSignature)
    }

    @Test func toleranceBoundariesBothWays() throws {
        let verifier = try verifier()
        let fields = try headers()
        try verifier.verify(body: Fixture.body, headers: fields, nowUnixSeconds: now + 300)
        try verifier.verify(body: Fixture.body, headers: fields, nowUnixSeconds: now - 300)
        #expect(throws: WebhookVerificationError.timestampTooOld(ageSeconds: 301, toleranceSeconds: 300)) {
            try verifier.verify(body: Fixture.body, headers: fields, nowUnixSeconds: now + 301)
        }
        #expect(throws: WebhookVerificationError.timestampTooNew(aheadSeconds: 301, toleranceSeconds: 300)) {
            try verifier.verify(body: Fixture.body, headers: fields, nowUnixSeconds: now - 301)
        }
        #expect(throws: WebhookVerificationError.timestampTooOld(ageSeconds: .max, toleranceSeconds: 300)) {
            try verifier.verify(body: Fixture.body, headers: fields, nowUnixSeconds: .min)
        }
    }

    @Test(arguments: ["webhook-id", "webhook-timestamp", "webhook-signature"])
    func missingEachHeader(name: String) throws {
        let fields = Fixture.replacing(name, with: nil, in: try headers()).filter { !$0.name.hasPrefix("svix-") }
        #expect(throws: WebhookVerificationError.missingHeader(name: name)) {
            try verifier().verify(body: Fixture.body, headers: fields, nowUnixSeconds: now)
        }
    }

    @Test(arguments: ["svix-id", "svix-timestamp", "svix-signature"])
    func missingEachSvixHeader(name: String) throws {
        let fields = Fixture.replacing(name, with: nil, in: try headers()).filter { !$0.name.hasPrefix("webhook-") }
        #expect(throws: WebhookVerificationError.missingHeader(name: name)) {
            try verifier().verify(body: Fixture.body, headers: fields, nowUnixSeconds: now)
        }
    }

    @Test func noHeadersAtAll() throws {
        #expect(throws: WebhookVerificationError.missingHeader(name: "webhook-id")) {
            try verifier().verify(body: Fixture.body, headers: [], nowUnixSeconds: now)
        }
    }

    @Test(arguments: [
        ("webhook-timestamp", "17800000OO"), ("webhook-timestamp", "1780000000.5"), ("webhook-timestamp", "-1780000000"),
        ("webhook-timestamp", "+1780000000"), ("webhook-timestamp", "0x6a18"), ("webhook-timestamp", "99999999999999999999"),
        ("webhook-timestamp", ""), ("webhook-id", "  "),
        ("webhook-signature", "0/W2oxfafJF4+E9oDOfZxxBgOu9plmqi8i28UViREE8="),
        ("webhook-signature", "v1 0/W2oxfafJF4+E9oDOfZxxBgOu9plmqi8i28UViREE8="),
        ("webhook-signature", "v1,0/W2oxfafJF4+E9oDOfZxxBgOu9plmqi8i28UViREE8"),
        ("webhook-signature", "v1,0/W2oxfafJF4+E9oDOfZxxBgOu9plmqi8i28UViREE8=!"),
        ("webhook-signature", "v1,0_W2oxfafJF4-E9oDOfZxxBgOu9plmqi8i28UViREE8="),
        ("webhook-signature", "v1,0/W2oxfafJF4+E9oDOfZxxBgOu9plmqi8i28UViREE8= garbage"),
        ("x-argus-signature", "65c51cb1a7a323a2d06baaadfdc04c78c96630f5a93230ad345334ad9306a77a"),
        ("x-argus-signature", "sha256=65C51CB1A7A323A2D06BAAADFDC04C78C96630F5A93230AD345334AD9306A77A"),
        ("x-argus-signature", "sha256=65c51cb1"),
        ("x-argus-signature", "sha1=65c51cb1a7a323a2d06baaadfdc04c78c96630f5a93230ad345334ad9306a77a"),
    ])
    func malformedHeader(name: String, value: String) throws {
        let fields = Fixture.replacing(name, with: value, in: try headers())
        do {
            try verifier().verify(body: Fixture.body, headers: fields, nowUnixSeconds: now)
            Issue.record("accepted \(name): \(value)")
        } catch WebhookVerificationError.malformedHeader(let reportedName, let reason) {
            #expect(reportedName == name)
            // The reason never echoes the signature.
            #expect(!reason.contains("W2oxfaf") && !reason.contains("65c51cb1"))
        } catch {
            Issue.record("expected malformedHeader(\(name)), got \(error)")
        }
    }

    @Test func duplicateHeaderIsMalformed() throws {
        let fields = try headers() + [HeaderField(name: "Webhook-Timestamp", value: "1780000000")]
        #expect(throws: WebhookVerificationError.malformedHeader(name: "webhook-timestamp", reason: "appears 2 times")) {
            try verifier().verify(body: Fixture.body, headers: fields, nowUnixSeconds: now)
        }
    }

    @Test func unknownVersionsAreSkippedAndExtraSpacesTolerated() throws {
        let signature = "v1,0/W2oxfafJF4+E9oDOfZxxBgOu9plmqi8i28UViREE8="
        for value in ["v1a,abc= " + signature, "  \(signature)  ", "v2,xyz \(signature)"] {
            let fields = Fixture.replacing("webhook-signature", with: value, in: try headers())
            try verifier().verify(body: Fixture.body, headers: fields, nowUnixSeconds: now)
        }
        let onlyOther = Fixture.replacing("webhook-signature", with: "v1a,0/W2oxfafJF4+E9oDOfZxxBgOu9plmqi8i28UViREE8=", in: try headers())
        #expect(throws: WebhookVerificationError.noMatchingSignature) {
            try verifier().verify(body: Fixture.body, headers: onlyOther, nowUnixSeconds: now)
        }
    }

    @Test func tamperedBodyIsRejected() throws {
        var tampered = Fixture.body
        tampered[tampered.count - 3] ^= 0x01
        #expect(throws: WebhookVerificationError.noMatchingSignature) {
            try verifier().verify(body: tampered, headers: try headers(), nowUnixSeconds: now)
        }
        #expect(throws: WebhookVerificationError.noMatchingSignature) {
            try verifier().verify(body: Fixture.body + [0x20], headers: try headers(), nowUnixSeconds: now)
        }
    }

    @Test func tamperedIdOrTimestampIsRejected() throws {
        let otherID = Fixture.replacing("webhook-id", with: "6f1c2a4e-8b3d-4c5e-9f70-1a2b3c4d5e6e", in: try headers())
        #expect(throws: WebhookVerificationError.noMatchingSignature) {
            try verifier().verify(body: Fixture.body, headers: otherID, nowUnixSeconds: now)
        }
        let otherTime = Fixture.replacing("webhook-timestamp", with: "1780000001", in: try headers())
        #expect(throws: WebhookVerificationError.noMatchingSignature) {
            try verifier().verify(body: Fixture.body, headers: otherTime, nowUnixSeconds: now)
        }
    }

    @Test func wrongSecretIsRejected() throws {
        let wrong = WebhookVerifier(secret: try Fixture.secret(Fixture.svixSecretText))
        #expect(throws: WebhookVerificationError.noMatchingSignature) {
            try wrong.verify(body: Fixture.body, headers: try headers(), nowUnixSeconds: now)
        }
        let generated = WebhookVerifier(secret: try WebhookSecret.generate())
        #expect(throws: WebhookVerificationError.noMatchingSignature) {
            try generated.verify(body: Fixture.body, headers: try headers(), nowUnixSeconds: now)
        }
    }

    @Test func argusSignatureMismatchIsRejected() throws {
        let wrongMAC = "sha256=" + String(repeating: "0", count: 64)
        let fields = Fixture.replacing("x-argus-signature", with: wrongMAC, in: try headers())
        #expect(throws: WebhookVerificationError.argusSignatureMismatch) {
            try verifier().verify(body: Fixture.body, headers: fields, nowUnixSeconds: now)
        }
    }

    @Test func olderSecretVerifiesDuringRotationWithoutArgusCheck() throws {
        let newest = try Fixture.secret(Fixture.svixSecretText)
        let older = try Fixture.secret()
        let fields = Fixture.headers(secrets: [newest, older])
        let asOlder = try WebhookVerifier(secret: older).verify(body: Fixture.body, headers: fields, nowUnixSeconds: now)
        #expect(!asOlder.checkedArgusSignature)
        let asNewest = try WebhookVerifier(secret: newest).verify(body: Fixture.body, headers: fields, nowUnixSeconds: now)
        #expect(asNewest.checkedArgusSignature)
        let asBoth = try WebhookVerifier(secrets: [older, newest]).verify(body: Fixture.body, headers: fields, nowUnixSeconds: now)
        #expect(asBoth.checkedArgusSignature)
    }

    /// Every error the verifier really throws, for each way a delivery can fail, with a real secret:
    /// no description, debug description or reflection holds the secret, its key or a signature.
    @Test func thrownErrorsNeverContainSecretsOrSignatures() throws {
        let secret = try Fixture.secret()
        let verifier = WebhookVerifier(secret: secret)
        let fields = Fixture.headers(secrets: [secret])
        let signature = try #require(fields.first { $0.name == "webhook-signature" }?.value)
        let argus = try #require(fields.first { $0.name == "x-argus-signature" }?.value)
        let wrongArgus = "sha256=" + String(argus.dropFirst(7).reversed())
        let cases: [(String, [UInt8], [HeaderField], Int64)] = [
            ("missing", Fixture.body, Fixture.replacing("webhook-id", with: nil, in: fields).filter { !$0.name.hasPrefix("svix-") }, now),
            ("malformed signature", Fixture.body, Fixture.replacing("webhook-signature", with: signature + "!", in: fields), now),
            ("malformed argus", Fixture.body, Fixture.replacing("x-argus-signature", with: argus.uppercased(), in: fields), now),
            ("duplicate", Fixture.body, fields + [HeaderField(name: "webhook-signature", value: signature)], now),
            ("old", Fixture.body, fields, now + 10_000),
            ("new", Fixture.body, fields, now - 10_000),
            ("tampered", Fixture.body + [0x20], fields, now),
            ("argus mismatch", Fixture.body, Fixture.replacing("x-argus-signature", with: wrongArgus, in: fields), now),
        ]
        let forbidden = [Fixture.secretText, String(Fixture.secretText.dropFirst(6)), "AAECAwQF", Hex.encode(secret.keyBytes),
                         String(signature.dropFirst(3)), String(argus.dropFirst(7))]
        var thrown = 0
        for (label, body, headers, time) in cases {
            do {
                try verifier.verify(body: body, headers: headers, nowUnixSeconds: time)
                Issue.record("\(label): accepted")
            } catch {
                thrown += 1
                for text in ["\(error)", String(reflecting: error), error.localizedDescription] {
                    #expect(!text.isEmpty)
                    for secretText in forbidden {
                        #expect(!text.contains(secretText), "\(label): \(text) contains \(secretText)")
                    }
                }
            }
        }
        #expect(thrown == cases.count)
        // Parsing a malformed secret never echoes it either.
        for text in ["whsec_SuperSecretKeyMaterial0123456789abcdef!", "whsec_SuperSecretKeyMaterial", "SuperSecretKeyMaterial0123456789abcdefgh="] {
            do {
                _ = try WebhookSecret(parsing: text)
                Issue.record("parsed \(text)")
            } catch {
                #expect(!"\(error)".contains("SuperSecret") && !String(reflecting: error).contains("SuperSecret"), "\(error)")
            }
        }
    }
}
