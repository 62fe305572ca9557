import Testing
import WebhookSigning

@Suite struct DeliverySignatureStreamTests {
    /// A body fed in pieces of any size signs like the whole body given at once to the one-shot signers.
    @Test(arguments: [1, 7, 64, 1000, 70_000])
    func piecesSignLikeTheWholeBody(pieceSizeBytes: Int) throws {
        let newest = try Fixture.secret()
        let older = try Fixture.secret(Fixture.svixSecretText)
        let body: [UInt8] = (0..<200_000).map { (index: Int) -> UInt8 in UInt8(truncatingIfNeeded: index * 13 + index / 255) }
        var stream = DeliverySignatureStream(newestSecret: newest, olderSecrets: [older], deliveryID: Fixture.deliveryID,
                                             timestampSeconds: Fixture.timestampSeconds)
        var start = 0
        while start < body.count {
            let end = min(start + pieceSizeBytes, body.count)
            body[start..<end].withUnsafeBytes { stream.update($0) }
            start = end
        }
        let signatures = stream.finalize()
        #expect(signatures.standard == WebhookSigner.standardSignatureHeader(
            secrets: [newest, older], id: Fixture.deliveryID, timestampSeconds: Fixture.timestampSeconds, body: body))
        #expect(signatures.argus == WebhookSigner.argusSignature(secret: newest, body: body))
    }

    @Test func knownAnswerThroughTheStream() throws {
        var stream = DeliverySignatureStream(newestSecret: try Fixture.secret(), deliveryID: Fixture.deliveryID,
                                             timestampSeconds: Fixture.timestampSeconds)
        stream.update(Array(Fixture.body.prefix(5)))
        stream.update(Array(Fixture.body.dropFirst(5)))
        let signatures = stream.finalize()
        #expect(signatures.standard == "v1,0/W2oxfafJF4+E9oDOfZxxBgOu9plmqi8i28UViREE8=")
        #expect(signatures.argus == "sha256=65c51cb1a7a323a2d06baaadfdc04c78c96630f5a93230ad345334ad9306a77a")
    }
}
