/// What a successful verification established about a delivery; made only by `WebhookVerifier`.
public struct VerifiedWebhook: Sendable, Equatable {
    /// The authenticated message id (`webhook-id`); receivers deduplicate on it.
    public let id: String
    /// The authenticated timestamp, in Unix seconds.
    public let timestampSeconds: Int64
    /// True when `x-argus-signature` was present and checked too.
    package let checkedArgusSignature: Bool
}
