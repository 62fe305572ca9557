/// Attempts and failed attempts of one webhook counted in equal, consecutive time buckets (a pure value;
/// `DeliveryHistory.attemptSeries` fills it from the deliveries it keeps listable).
public struct AttemptSeries: Sendable, Equatable {
    /// One bucket: attempts that started in `[startMs, startMs + bucketMs)`.
    public struct Bucket: Sendable, Equatable {
        /// Start of the bucket, in ms since 1970.
        public var startMs: Int64
        /// Attempts that started in the bucket.
        public var attempts = 0
        /// Of those, the ones that were not acknowledged (no 2xx: other statuses, timeouts, network errors).
        public var failed = 0
    }

    /// Start of the first bucket, in ms since 1970.
    public let startMs: Int64
    /// Width of every bucket, in ms (at least 1).
    public let bucketMs: Int64
    /// The buckets, oldest first.
    public private(set) var buckets: [Bucket]
    /// False when the history may no longer hold every attempt of the window: the webhook has more deliveries
    /// than the history keeps listable and the oldest one kept started inside the window, or a delivery kept
    /// only its latest `DeliveryLimits.Attempts.countPerDeliveryMax` attempts.
    public var isComplete = true

    /// An empty series of `bucketCount` buckets of `bucketMs` from `startMs` (both clamped to at least 1).
    public init(startMs: Int64, bucketMs: Int64, bucketCount: Int) {
        self.startMs = startMs
        self.bucketMs = max(1, bucketMs)
        buckets = (0..<max(1, bucketCount)).map { Bucket(startMs: startMs + Int64($0) * max(1, bucketMs)) }
    }

    /// End of the last bucket (exclusive), in ms since 1970.
    public var endMs: Int64 { startMs + Int64(buckets.count) * bucketMs }

    /// Counts `attempt` in its bucket; an attempt outside the window is ignored.
    public mutating func count(_ attempt: DeliveryAttempt) {
        guard attempt.startedAtMs >= startMs, attempt.startedAtMs < endMs else { return }
        let index = Int((attempt.startedAtMs - startMs) / bucketMs)
        buckets[index].attempts += 1
        if !Self.isAcknowledged(attempt) { buckets[index].failed += 1 }
    }

    /// True for a 2xx answer (as `AttemptOutcome.acknowledged`).
    static func isAcknowledged(_ attempt: DeliveryAttempt) -> Bool {
        attempt.statusCode.map { (200..<300).contains($0) } ?? false
    }
}
