/// The header names of a delivery request (DESIGN.md "Delivery request"), lowercase.
public enum WebhookHeaderName {
    /// `content-type`.
    public static let contentType = "content-type"
    /// `user-agent`.
    public static let userAgent = "user-agent"
    /// `webhook-id`: the delivery id.
    public static let id = "webhook-id"
    /// `webhook-timestamp`: Unix seconds of the attempt.
    public static let timestamp = "webhook-timestamp"
    /// `webhook-signature`: space-separated `v1,<base64>` entries.
    public static let signature = "webhook-signature"
    /// `svix-id`: the same value as `webhook-id`.
    public static let svixID = "svix-id"
    /// `svix-timestamp`: the same value as `webhook-timestamp`.
    public static let svixTimestamp = "svix-timestamp"
    /// `svix-signature`: the same value as `webhook-signature`.
    public static let svixSignature = "svix-signature"
    /// `x-argus-signature`: `sha256=<lowercase hex HMAC of the body>`.
    public static let argusSignature = "x-argus-signature"
    /// `x-argus-event`: the event type.
    public static let argusEvent = "x-argus-event"
    /// `x-argus-delivery`: the delivery id.
    public static let argusDelivery = "x-argus-delivery"
    /// `x-argus-attempt`: the 1-based attempt number.
    public static let argusAttempt = "x-argus-attempt"
}
