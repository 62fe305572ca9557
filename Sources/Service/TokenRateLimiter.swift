/// Token buckets per OAuth client: at most `requestsPerSecond` token requests per second on
/// average, with bursts of up to `requestsPerSecond`. A pure value: the caller passes the time.
struct TokenRateLimiter: Sendable {
    private struct Bucket: Sendable {
        /// Requests still allowed, in thousandths.
        var allowanceMilli: Int64
        var updatedAtMs: Int64
    }

    let requestsPerSecond: Int64
    /// Most clients tracked; beyond it, buckets that have refilled completely are dropped.
    let clientCountMax: Int
    private var buckets: [String: Bucket] = [:]

    init(requestsPerSecond: Int, clientCountMax: Int) {
        precondition(requestsPerSecond > 0)
        self.requestsPerSecond = Int64(requestsPerSecond)
        self.clientCountMax = clientCountMax
    }

    /// Takes one request from `clientID`'s bucket at `nowMs`.
    /// - Returns: nil when allowed, else how long until one request is allowed again, in ms (at least 1).
    mutating func admit(_ clientID: String, nowMs: Int64) -> Int64? {
        let capacityMilli = requestsPerSecond * 1000
        var bucket = buckets[clientID] ?? Bucket(allowanceMilli: capacityMilli, updatedAtMs: nowMs)
        // Refill `requestsPerSecond` per 1000 ms, i.e. `requestsPerSecond` thousandths per ms.
        let elapsedMs = max(0, nowMs - bucket.updatedAtMs)
        bucket.allowanceMilli = min(capacityMilli, bucket.allowanceMilli + min(elapsedMs, 1000) * requestsPerSecond)
        bucket.updatedAtMs = max(bucket.updatedAtMs, nowMs)
        guard bucket.allowanceMilli >= 1000 else {
            buckets[clientID] = bucket
            let missingMilli = 1000 - bucket.allowanceMilli
            return max(1, (missingMilli + requestsPerSecond - 1) / requestsPerSecond)
        }
        bucket.allowanceMilli -= 1000
        if buckets[clientID] == nil, buckets.count >= clientCountMax { dropRefilled(nowMs: nowMs) }
        buckets[clientID] = bucket
        return nil
    }

    /// Forgets `clientID` (a deleted client).
    mutating func forget(_ clientID: String) { buckets[clientID] = nil }

    /// Drops buckets that a second without requests has refilled: they equal a fresh bucket.
    private mutating func dropRefilled(nowMs: Int64) {
        buckets = buckets.filter { nowMs - $0.value.updatedAtMs < 1000 }
    }
}
