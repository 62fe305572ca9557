/// Every limit of the API, in one place.
public enum ServiceLimits {
    /// Largest request body, in bytes, except the batch route.
    package static let bodySizeBytesMax = 1 << 20
    /// Largest `POST /v1/events` body that is checked on the server's I/O thread (no task hop), in
    /// bytes; larger ones (up to `bodySizeBytesMax`) are parsed on the concurrency pool, so one
    /// request never holds the I/O thread for more than a few microseconds of parsing.
    package static let inlinePublishBodySizeBytesMax = 16 << 10
    /// Largest body of `POST /v1/events/batch`, in bytes.
    package static let batchBodySizeBytesMax = 8 << 20

    /// Largest request body for a route, in bytes: `batchBodySizeBytesMax` for the batch route,
    /// `bodySizeBytesMax` for every other.
    static func bodySizeBytesMax(method: String, path: String) -> Int {
        path == "/v1/events/batch" ? batchBodySizeBytesMax : bodySizeBytesMax
    }
    /// Largest `data` of one event, as compact JSON, in bytes.
    package static let eventDataSizeBytesMax = 256 * 1024
    /// Most events in one batch.
    package static let batchEventCountMax = 1000
    /// `serve` signs a checkpoint at most this often while the log grows, in seconds.
    package static let checkpointIntervalSeconds: Double = 10
    /// How often `serve` looks for a seal or growth to sign, in seconds.
    package static let checkpointPollSeconds: Double = 0.5
    /// Leaf hashes of the latest appends the log writer keeps for Merkle tile upkeep (8 MiB); upkeep
    /// reads from the log whatever fell out (more than this many events within one interval).
    public static let recentLeafHashCountMax = 262_144
    /// Longest organization id, in bytes.
    package static let organizationIDSizeBytesMax = 128
    /// Longest webhook description, in bytes.
    package static let descriptionSizeBytesMax = 1024
    /// Most filters on one webhook.
    package static let eventTypeFilterCountMax = 100
    /// Most webhooks per organization.
    package static let webhookCountPerOrganizationMax = 1000
    /// `max_in_flight` bounds and default.
    package static let maxInFlightRange = 1...100
    package static let maxInFlightDefault = 16
    /// Bounds of a webhook's `rate_limit_per_second`.
    package static let rateLimitPerSecondRange = 1...10_000
    /// Retry policy bounds (DESIGN.md): at most 10 retries, delays from 100 ms, at most one day.
    package static let retryCountMax = 10
    package static let retryDelayMsRange: ClosedRange<Int64> = 100...86_400_000
    /// Page sizes of list routes (`limit`): the bounds and the default.
    package static let pageSizeRange = 1...1000
    package static let pageSizeDefault = 100
    /// Most bytes of JSON in one list page; a page that would grow past it ends early with `next_after`.
    package static let pageSizeBytesMax = 4 << 20
    /// Most log records one `GET /v1/events` call scans before it returns a cursor, and `GET /v1/events/{id}/proof`
    /// reads looking for the id (from the id's time on).
    package static let eventScanCountMax = 10_000
    /// Longest `Idempotency-Key`, in bytes.
    package static let idempotencyKeySizeBytesMax = 255
    /// How long a key is remembered (its first answer replayed), in seconds.
    package static let idempotencyRetentionSeconds: Int64 = 24 * 3600
    /// Most idempotency keys remembered at once; beyond it the organization holding the most loses its oldest.
    package static let idempotencyKeyCountMax = 1_000_000
    /// Most idempotency keys remembered per organization; beyond it that organization's oldest are forgotten.
    package static let idempotencyKeyCountPerOrganizationMax = 100_000
    /// Bounds of a portal session's `expires_in`, in seconds (one minute to one day).
    package static let portalSessionSecondsRange: ClosedRange<Int64> = 60...86_400
    /// A portal session's lifetime when `expires_in` is not given, in seconds.
    package static let portalSessionSecondsDefault: Int64 = 3600
    /// `GET /v1/webhooks/{id}/stats/timeseries`: the window (`hours`, one hour to a week), the bucket width
    /// (`bucket_seconds`, a minute to a day), their defaults, and the most buckets one answer holds.
    package static let seriesHoursRange = 1...168
    package static let seriesHoursDefault = 24
    package static let seriesBucketSecondsRange = 60...86_400
    package static let seriesBucketSecondsDefault = 3600
    package static let seriesBucketCountMax = 1440
    /// Access-token lifetime, in seconds.
    package static let accessTokenLifetimeSeconds: Int64 = 3600
    /// Most registered OAuth clients (more answer 409 `limit_reached`).
    package static let clientCountMax = 10_000
    /// Most live access tokens across all clients (more answer 503 `temporarily_unavailable`).
    package static let liveTokenCountMax = 1_000_000
    /// Most live tokens of one client (more answer 429 `too_many_tokens`).
    package static let liveTokenCountPerClientMax = 1000
    /// Most `/oauth/token` requests per second of one client (more answer 429 with `Retry-After`).
    package static let tokenRequestsPerSecondPerClientMax = 20
    /// Longest client description, in bytes.
    public static let clientDescriptionSizeBytesMax = 1024
    /// Most client connections `serve` keeps open, whatever the descriptor limit allows.
    package static let connectionCountCeiling = 16_384
    /// Descriptors `serve` keeps free of client connections: outgoing deliveries (the global
    /// in-flight cap), the HTTP client's idle kept-alive connections (at most 1,024) and the log's,
    /// stores' and archive's files.
    package static let descriptorsReservedForDeliveriesAndFiles = 1024 + 1024 + 256

    /// The connection cap for a soft `RLIMIT_NOFILE` of `descriptorLimit`: below it with room for
    /// deliveries and files (at most half the limit is reserved), at least 16, at most
    /// `connectionCountCeiling`.
    public static func connectionCountMax(descriptorLimit: Int) -> Int {
        let reserved = min(descriptorLimit / 2, descriptorsReservedForDeliveriesAndFiles)
        return max(16, min(connectionCountCeiling, descriptorLimit - reserved))
    }
}
