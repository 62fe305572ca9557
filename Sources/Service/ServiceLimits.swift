/// Every limit of the API, in one place, grouped by concern.
public enum ServiceLimits {
    /// Request bodies.
    public enum RequestBody {
        /// Largest request body, in bytes, except the batch route.
        package static let sizeBytesMax = 1 << 20
        /// Largest `POST /v1/events` body that is checked on the server's I/O thread (no task hop), in
        /// bytes; larger ones (up to `sizeBytesMax`) are parsed on the concurrency pool, so one
        /// request never holds the I/O thread for more than a few microseconds of parsing.
        package static let inlinePublishSizeBytesMax = 16 << 10
        /// Largest body of `POST /v1/events/batch`, in bytes.
        package static let batchSizeBytesMax = 8 << 20

        /// Largest request body for a route, in bytes: `batchSizeBytesMax` for the batch route,
        /// `sizeBytesMax` for every other.
        static func sizeBytesMax(method: String, path: String) -> Int {
            path == "/v1/events/batch" ? batchSizeBytesMax : sizeBytesMax
        }
    }

    /// Published events and event reads.
    public enum Events {
        /// Largest `data` of one event, as compact JSON, in bytes.
        package static let dataSizeBytesMax = 256 * 1024
        /// Most events in one batch.
        package static let batchCountMax = 1000
        /// Most log records one `GET /v1/events` call scans before it returns a cursor, and `GET /v1/events/{id}/proof`
        /// reads looking for the id (from the id's time on).
        package static let scanCountMax = 10_000
    }

    /// Longest organization id, in bytes.
    package static let organizationIDSizeBytesMax = 128

    /// Signed checkpoints and the Merkle tiles behind them.
    public enum Transparency {
        /// `serve` signs a checkpoint at most this often while the log grows, in seconds.
        package static let checkpointIntervalSeconds: Double = 10
        /// How often `serve` looks for a seal or growth to sign, in seconds.
        package static let checkpointPollSeconds: Double = 0.5
        /// Leaf hashes of the latest appends the log writer keeps for Merkle tile upkeep (8 MiB); upkeep
        /// reads from the log whatever fell out (more than this many events within one interval).
        public static let recentLeafHashCountMax = 262_144
    }

    /// Webhook settings.
    public enum Webhooks {
        /// Longest webhook description, in bytes.
        package static let descriptionSizeBytesMax = 1024
        /// Most filters on one webhook.
        package static let eventTypeFilterCountMax = 100
        /// Most webhooks per organization.
        package static let countPerOrganizationMax = 1000
        /// `max_in_flight` bounds and default.
        package static let maxInFlight = ParameterBounds(range: 1...100, defaultValue: 16)
        /// Bounds of a webhook's `rate_limit_per_second`.
        package static let rateLimitPerSecondRange = 1...10_000
    }

    /// Retry policy bounds (DESIGN.md): at most 10 retries, delays from 100 ms, at most one day.
    public enum Retries {
        package static let countMax = 10
        package static let delayMsRange: ClosedRange<Int64> = 100...86_400_000
    }

    /// Pages of list routes.
    public enum Pages {
        /// Page sizes (`limit`): the bounds and the default.
        package static let size = ParameterBounds(range: 1...1000, defaultValue: 100)
        /// A page that would grow past this many bytes ends early with `next_after`.
        package static let sizeBytesMax = 4 << 20
    }

    /// `Idempotency-Key`s of publishes.
    public enum Idempotency {
        /// Longest `Idempotency-Key`, in bytes.
        package static let keySizeBytesMax = 255
        /// How long a key is remembered (its first answer replayed), in seconds.
        package static let retentionSeconds: Int64 = 24 * 3600
        /// Most idempotency keys remembered at once; beyond it the organization holding the most loses its oldest.
        package static let keyCountMax = 1_000_000
        /// Most idempotency keys remembered per organization; beyond it that organization's oldest are forgotten.
        package static let keyCountPerOrganizationMax = 100_000
    }

    /// Delivery-portal sessions.
    public enum Portal {
        /// Bounds of a portal session's `expires_in` (one minute to one day), and the lifetime when it is not
        /// given, in seconds.
        package static let sessionSeconds = ParameterBounds<Int64>(range: 60...86_400, defaultValue: 3600)
    }

    /// `GET /v1/webhooks/{id}/stats/timeseries`: the window (`hours`, one hour to a week), the bucket width
    /// (`bucket_seconds`, a minute to a day), their defaults, and the most buckets one answer holds.
    public enum Series {
        package static let hours = ParameterBounds(range: 1...168, defaultValue: 24)
        package static let bucketSeconds = ParameterBounds(range: 60...86_400, defaultValue: 3600)
        package static let bucketCountMax = 1440
    }

    /// Registered OAuth clients.
    public enum Clients {
        /// Most registered OAuth clients (more answer 409 `limit_reached`).
        package static let countMax = 10_000
        /// Longest client description, in bytes.
        public static let descriptionSizeBytesMax = 1024
    }

    /// OAuth access tokens.
    public enum Tokens {
        /// Access-token lifetime, in seconds.
        package static let lifetimeSeconds: Int64 = 3600
        /// Most live access tokens across all clients (more answer 503 `temporarily_unavailable`).
        package static let liveCountMax = 1_000_000
        /// Most live tokens of one client (more answer 429 `too_many_tokens`).
        package static let liveCountPerClientMax = 1000
        /// Most `/oauth/token` requests per second of one client (more answer 429 with `Retry-After`).
        package static let requestsPerSecondPerClientMax = 20
    }

    /// Client connections of `serve`.
    public enum Connections {
        /// Most client connections `serve` keeps open, whatever the descriptor limit allows.
        package static let countCeiling = 16_384
        /// Descriptors `serve` keeps free of client connections: outgoing deliveries (the global
        /// in-flight cap), the HTTP client's idle kept-alive connections (at most 1,024) and the log's,
        /// stores' and archive's files.
        package static let descriptorsReservedForDeliveriesAndFiles = 1024 + 1024 + 256

        /// The connection cap for a soft `RLIMIT_NOFILE` of `descriptorLimit`: below it with room for
        /// deliveries and files (at most half the limit is reserved), at least 16, at most `countCeiling`.
        public static func countMax(descriptorLimit: Int) -> Int {
            let reserved = min(descriptorLimit / 2, descriptorsReservedForDeliveriesAndFiles)
            return max(16, min(countCeiling, descriptorLimit - reserved))
        }
    }
}
