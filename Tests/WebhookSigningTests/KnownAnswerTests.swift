import Testing
import WebhookSigning

/// Signatures computed independently with Python's hmac, hashlib and base64, not by this code.
@Suite struct KnownAnswerTests {
    // python3 -c 'import hmac,hashlib,base64; k=bytes(range(32)); b="{\"id\":\"evt_1\",\"type\":\"user.created\",\"data\":{\"name\":\"Zoë\"}}".encode();
    //   print(base64.b64encode(hmac.new(k, b"6f1c2a4e-8b3d-4c5e-9f70-1a2b3c4d5e6f.1780000000."+b, hashlib.sha256).digest()));
    //   print(hmac.new(k, b, hashlib.sha256).hexdigest())'
    @Test func fixedVectorFromPython() throws {
        let secret = try Fixture.secret()
        #expect(WebhookSigner.standardSignature(
            secret: secret, id: Fixture.deliveryID, timestampSeconds: Fixture.timestampSeconds, body: Fixture.body)
            == "v1,0/W2oxfafJF4+E9oDOfZxxBgOu9plmqi8i28UViREE8=")
        #expect(WebhookSigner.argusSignature(secret: secret, body: Fixture.body)
            == "sha256=65c51cb1a7a323a2d06baaadfdc04c78c96630f5a93230ad345334ad9306a77a")
    }

    /// The example of the Svix documentation ("Verifying webhooks manually").
    @Test func svixDocumentationExample() throws {
        let secret = try Fixture.secret(Fixture.svixSecretText)
        let body = Array(#"{"test": 2432232314}"#.utf8)
        let signature = WebhookSigner.standardSignature(
            secret: secret, id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestampSeconds: 1_614_265_330, body: body)
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        let headers = [
            HeaderField(name: "svix-id", value: "msg_p5jXN8AQM9LWM0D4loKWxJek"),
            HeaderField(name: "svix-timestamp", value: "1614265330"),
            HeaderField(name: "svix-signature", value: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
        ]
        let verified = try WebhookVerifier(secret: secret).verify(body: body, headers: headers, nowUnixSeconds: 1_614_265_330)
        #expect(verified.id == "msg_p5jXN8AQM9LWM0D4loKWxJek")
        #expect(verified.timestampSeconds == 1_614_265_330)
    }

    @Test func severalSecretsAreSpaceSeparatedNewestFirst() throws {
        let newest = try Fixture.secret()
        let older = try Fixture.secret(Fixture.svixSecretText)
        let header = WebhookSigner.standardSignatureHeader(
            secrets: [newest, older], id: Fixture.deliveryID, timestampSeconds: Fixture.timestampSeconds, body: Fixture.body)
        let entries = header.split(separator: " ").map(String.init)
        #expect(entries.count == 2)
        #expect(entries[0] == "v1,0/W2oxfafJF4+E9oDOfZxxBgOu9plmqi8i28UViREE8=")
        #expect(entries[1] == WebhookSigner.standardSignature(
            secret: older, id: Fixture.deliveryID, timestampSeconds: Fixture.timestampSeconds, body: Fixture.body))
    }
}
