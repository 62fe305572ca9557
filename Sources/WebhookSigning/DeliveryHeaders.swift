/// The complete, ordered header list of a delivery request (DESIGN.md "Delivery request"),
/// built in one place so the dispatcher, the CLI and the tests agree.
///
/// Every signing secret contributes one `v1,` (HMAC) or `v1a,` (Ed25519) entry to
/// `webhook-signature` (newest first); `x-argus-signature` is signed with the newest secret only,
/// and left out when that secret is Ed25519.
public struct DeliveryHeaders: Sendable, Equatable {
    /// The media type of every delivery body.
    public static let contentType = "application/json"

    /// The headers, in the order they are sent.
    public let fields: [HeaderField]

    /// Builds the headers of one delivery attempt.
    /// - Parameters:
    ///   - newestSecret: the current secret; signs both schemes.
    ///   - olderSecrets: other unexpired secrets, newest first; add `webhook-signature` entries.
    ///   - deliveryID: `webhook-id`, `svix-id` and `x-argus-delivery`.
    ///   - timestampSeconds: Unix seconds of this attempt.
    ///   - attempt: the 1-based attempt number.
    ///   - eventType: the event's type, such as `user.created`.
    ///   - body: the exact bytes that are sent.
    ///   - version: the service version for `user-agent: Argus-Webhooks/<version>`.
    public init(
        newestSecret: WebhookSecret, olderSecrets: [WebhookSecret] = [],
        deliveryID: String, timestampSeconds: Int64, attempt: Int, eventType: String,
        body: [UInt8], version: String
    ) {
        var stream = DeliverySignatureStream(newestSecret: newestSecret, olderSecrets: olderSecrets, deliveryID: deliveryID,
                                             timestampSeconds: timestampSeconds)
        stream.update(body)
        self.init(signatures: stream.finalize(), deliveryID: deliveryID, timestampSeconds: timestampSeconds,
                  attempt: attempt, eventType: eventType, version: version)
    }

    /// Builds the headers around signatures already computed (by a `DeliverySignatureStream` fed the body).
    public init(signatures: DeliverySignatureStream.Signatures, deliveryID: String, timestampSeconds: Int64, attempt: Int,
                eventType: String, version: String) {
        let timestamp = String(timestampSeconds)
        let signature = signatures.standard
        var fields = [
            HeaderField(name: WebhookHeaderName.contentType, value: Self.contentType),
            HeaderField(name: WebhookHeaderName.userAgent, value: "Argus-Webhooks/\(version)"),
        ]
        for names in [WebhookHeaderName.standard, WebhookHeaderName.svix] {
            fields += [
                HeaderField(name: names.id, value: deliveryID),
                HeaderField(name: names.timestamp, value: timestamp),
                HeaderField(name: names.signature, value: signature),
            ]
        }
        fields += [
            HeaderField(name: WebhookHeaderName.argusEvent, value: eventType),
            HeaderField(name: WebhookHeaderName.argusDelivery, value: deliveryID),
            HeaderField(name: WebhookHeaderName.argusAttempt, value: String(attempt)),
        ]
        if let argus = signatures.argus {
            fields.insert(HeaderField(name: WebhookHeaderName.argusSignature, value: argus), at: 8)
        }
        self.fields = fields
    }

    /// Builds the headers with every secret of `ring` that signs at `timestampSeconds`.
    public init(
        ring: SecretRing, deliveryID: String, timestampSeconds: Int64, attempt: Int, eventType: String,
        body: [UInt8], version: String
    ) {
        let secrets = ring.signingSecrets(atUnixSeconds: timestampSeconds)
        self.init(
            newestSecret: ring.current, olderSecrets: Array(secrets.dropFirst()), deliveryID: deliveryID,
            timestampSeconds: timestampSeconds, attempt: attempt, eventType: eventType, body: body, version: version)
    }

    /// The value of the header `name` (case-insensitive), or nil.
    public func value(forName name: String) -> String? {
        let lowercased = name.lowercased()
        return fields.first { $0.name == lowercased }?.value
    }
}
