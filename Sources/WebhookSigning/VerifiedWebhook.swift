/// What a successful verification established about a delivery.
public struct VerifiedWebhook: Sendable, Equatable {
    /// The authenticated message id (`webhook-id`); receivers deduplicate on it.
    public let id: String
    /// The authenticated timestamp, in Unix seconds.
    public let timestampSeconds: Int64
    /// True when `x-argus-signature` was present and checked too.
    package let checkedArgusSignature: Bool

    /// A verification result; made by `WebhookVerifier`, public for tests and callers' fakes.
    public init(id: String, timestampSeconds: Int64, checkedArgusSignature: Bool) {
        self.id = id
        self.timestampSeconds = timestampSeconds
        self.checkedArgusSignature = checkedArgusSignature
    }
}
