import Testing
import WebhookSigning

@Suite struct DeliveryHeadersTests {
    /// Every header of DESIGN.md "Delivery request", in order.
    static let designHeaders = [
        "content-type", "user-agent", "webhook-id", "webhook-timestamp", "webhook-signature",
        "svix-id", "svix-timestamp", "svix-signature",
        "x-argus-signature", "x-argus-event", "x-argus-delivery", "x-argus-attempt",
    ]

    @Test func everyDesignHeaderExactlyOnce() throws {
        let headers = DeliveryHeaders(
            newestSecret: try Fixture.secret(), olderSecrets: [try Fixture.secret(Fixture.svixSecretText)],
            deliveryID: Fixture.deliveryID, timestampSeconds: Fixture.timestampSeconds, attempt: 3,
            eventType: "security.account_locked", body: Fixture.body, version: "1.2.3")
        #expect(headers.fields.map(\.name) == Self.designHeaders)
        #expect(Set(headers.fields.map(\.name)).count == headers.fields.count)
        #expect(headers.value(forName: "Content-Type") == "application/json")
        #expect(headers.value(forName: "user-agent") == "Argus-Webhooks/1.2.3")
        #expect(headers.value(forName: "webhook-id") == Fixture.deliveryID)
        #expect(headers.value(forName: "x-argus-delivery") == Fixture.deliveryID)
        #expect(headers.value(forName: "svix-id") == Fixture.deliveryID)
        #expect(headers.value(forName: "webhook-timestamp") == "1780000000")
        #expect(headers.value(forName: "svix-timestamp") == "1780000000")
        #expect(headers.value(forName: "x-argus-event") == "security.account_locked")
        #expect(headers.value(forName: "x-argus-attempt") == "3")
        let signature = try #require(headers.value(forName: "webhook-signature"))
        #expect(headers.value(forName: "svix-signature") == signature)
        #expect(signature.hasPrefix("v1,0/W2oxfafJF4+E9oDOfZxxBgOu9plmqi8i28UViREE8= v1,"))
        // Signed with the newest secret only.
        #expect(headers.value(forName: "x-argus-signature") == "sha256=65c51cb1a7a323a2d06baaadfdc04c78c96630f5a93230ad345334ad9306a77a")
    }

    @Test func ringSignsWithEveryUnexpiredSecret() throws {
        let old = try Fixture.secret(Fixture.svixSecretText)
        let new = try Fixture.secret()
        let ring = SecretRing(current: new, previous: [(old, Fixture.timestampSeconds + 1)])
        let during = DeliveryHeaders(
            ring: ring, deliveryID: "d", timestampSeconds: Fixture.timestampSeconds, attempt: 1, eventType: "user.created",
            body: [], version: "t")
        #expect(during.value(forName: "webhook-signature")?.split(separator: " ").count == 2)
        let after = DeliveryHeaders(
            ring: ring, deliveryID: "d", timestampSeconds: Fixture.timestampSeconds + 1, attempt: 1, eventType: "user.created",
            body: [], version: "t")
        #expect(after.value(forName: "webhook-signature")?.split(separator: " ").count == 1)
    }
}
