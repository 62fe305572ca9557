/// The header names of a delivery request (DESIGN.md "Delivery request"), lowercase.
public enum WebhookHeaderName {
    /// `content-type`.
    public static let contentType = "content-type"
    /// `user-agent`.
    package static let userAgent = "user-agent"
    /// `webhook-id`: the delivery id.
    public static let id = "webhook-id"
    /// `webhook-timestamp`: Unix seconds of the attempt.
    public static let timestamp = "webhook-timestamp"
    /// `webhook-signature`: space-separated `v1,<base64>` entries.
    public static let signature = "webhook-signature"
    /// `svix-id`: the same value as `webhook-id`.
    package static let svixID = "svix-id"
    /// `svix-timestamp`: the same value as `webhook-timestamp`.
    package static let svixTimestamp = "svix-timestamp"
    /// `svix-signature`: the same value as `webhook-signature`.
    package static let svixSignature = "svix-signature"
    /// `x-argus-signature`: `sha256=<lowercase hex HMAC of the body>`.
    package static let argusSignature = "x-argus-signature"
    /// `x-argus-event`: the event type.
    package static let argusEvent = "x-argus-event"
    /// `x-argus-delivery`: the delivery id.
    package static let argusDelivery = "x-argus-delivery"
    /// `x-argus-attempt`: the 1-based attempt number.
    package static let argusAttempt = "x-argus-attempt"
}
