/// Every limit of the API, in one place.
public enum ServiceLimits {
    /// Largest request body, in bytes, except the batch route.
    public static let bodySizeBytesMax = 1 << 20
    /// Largest body of `POST /v1/events/batch`, in bytes.
    public static let batchBodySizeBytesMax = 8 << 20
    /// Largest `data` of one event, as compact JSON, in bytes.
    public static let eventDataSizeBytesMax = 256 * 1024
    /// Most events in one batch.
    public static let batchEventCountMax = 1000
    /// Longest organization id, in bytes.
    public static let organizationIDSizeBytesMax = 128
    /// Longest webhook description, in bytes.
    public static let descriptionSizeBytesMax = 1024
    /// Most filters on one webhook.
    public static let eventTypeFilterCountMax = 100
    /// Most webhooks per organization.
    public static let webhookCountPerOrganizationMax = 1000
    /// Page sizes of list routes.
    public static let pageSizeDefault = 100
    public static let pageSizeMax = 1000
    /// Most log records one `GET /v1/events` call scans before it returns a cursor.
    public static let eventScanCountMax = 10_000
    /// Longest `Idempotency-Key`, in bytes, and how long a key is remembered, in seconds.
    public static let idempotencyKeySizeBytesMax = 255
    public static let idempotencyRetentionSeconds: Int64 = 24 * 3600
    /// Most idempotency keys remembered at once; the oldest are forgotten first.
    public static let idempotencyKeyCountMax = 1_000_000
    /// Access-token lifetime, in seconds.
    public static let accessTokenLifetimeSeconds: Int64 = 3600
    /// Most clients; most live tokens.
    public static let clientCountMax = 10_000
    public static let liveTokenCountMax = 1_000_000
    /// `max_in_flight` bounds and default.
    public static let maxInFlightRange = 1...100
    public static let maxInFlightDefault = 16
    /// Bounds of a webhook's `rate_limit_per_second`.
    public static let rateLimitPerSecondRange = 1...10_000
    /// Retry policy bounds (DESIGN.md): at most 10 retries, delays from 100 ms, at most one day.
    public static let retryCountMax = 10
    public static let retryDelayMsMin: Int64 = 100
    public static let retryDelayMsMax: Int64 = 86_400_000
}
