/// The header names of a delivery request (DESIGN.md "Delivery request"), lowercase.
public enum WebhookHeaderName {
    /// `content-type`.
    public static let contentType = "content-type"
    /// `user-agent`.
    package static let userAgent = "user-agent"

    /// The three headers of a Standard Webhooks signature, under one naming: the message id, the
    /// timestamp and the signatures.
    public struct SignatureSet: Sendable, Equatable {
        /// The delivery id (receivers deduplicate on it).
        public let id: String
        /// Unix seconds of the attempt.
        public let timestamp: String
        /// Space-separated `v1,<base64>` (and `v1a,<base64>`) entries.
        public let signature: String
    }

    /// `webhook-id`, `webhook-timestamp`, `webhook-signature`.
    public static let standard = SignatureSet(id: "webhook-id", timestamp: "webhook-timestamp", signature: "webhook-signature")
    /// `svix-id`, `svix-timestamp`, `svix-signature`: the same values under Svix's names.
    package static let svix = SignatureSet(id: "svix-id", timestamp: "svix-timestamp", signature: "svix-signature")

    /// `x-argus-signature`: `sha256=<lowercase hex HMAC of the body>`.
    package static let argusSignature = "x-argus-signature"
    /// `x-argus-event`: the event type.
    package static let argusEvent = "x-argus-event"
    /// `x-argus-delivery`: the delivery id.
    package static let argusDelivery = "x-argus-delivery"
    /// `x-argus-attempt`: the 1-based attempt number.
    package static let argusAttempt = "x-argus-attempt"
}
