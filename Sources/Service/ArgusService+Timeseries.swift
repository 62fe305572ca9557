import Delivery
import EventLog
import HTTPServer
import JSON

extension ArgusService {
    /// `GET /v1/webhooks/{id}/stats/timeseries?hours=24&bucket_seconds=3600`: attempts and failed attempts per
    /// bucket over the last `hours`, from the delivery history (the deliveries it keeps listable). Buckets are
    /// aligned to multiples of `bucket_seconds` since 1970 (UTC); the last one holds now and is still filling.
    /// - Throws: 400 `invalid_query` for a parameter out of `ServiceLimits.Series` or more than
    ///   `bucketCountMax` buckets. (`webhook` is visible to the token: `respondFromDeliverer` answered 404 otherwise.)
    func timeseries(_ request: HTTPRequest, webhook: Webhook) async throws -> HTTPResponse {
        let hours = try Self.queryInteger(request, "hours", within: ServiceLimits.Series.hours)
        let bucketSeconds = try Self.queryInteger(request, "bucket_seconds", within: ServiceLimits.Series.bucketSeconds)
        let bucketCount = (hours * 3600 + bucketSeconds - 1) / bucketSeconds
        guard bucketCount <= ServiceLimits.Series.bucketCountMax else {
            throw APIError(400, "invalid_query", "hours * 3600 / bucket_seconds must be at most \(ServiceLimits.Series.bucketCountMax) buckets")
        }
        let bucketMs = Int64(bucketSeconds) * 1000
        let endMs = (configuration.nowMs() / bucketMs + 1) * bucketMs
        let (history, webhookID) = (dispatcher.history, webhook.id)
        // Loading an index that is not in memory reads the webhook's history file.
        let series = await BlockingIO.run { () -> AttemptSeries in
            var series = AttemptSeries(startMs: endMs - Int64(bucketCount) * bucketMs, bucketMs: bucketMs, bucketCount: bucketCount)
            history.attemptSeries(webhookID: webhookID, into: &series)
            return series
        }
        return json(200, .object([
            ("webhook_id", .string(webhook.id)), ("start", .string(Timestamp.format(ms: series.startMs))),
            ("end", .string(Timestamp.format(ms: series.endMs))), ("bucket_seconds", .integer(bucketSeconds)),
            ("complete", .bool(series.isComplete)),
            ("attempts", .integer(series.buckets.reduce(0) { $0 + $1.attempts })), ("failed", .integer(series.buckets.reduce(0) { $0 + $1.failed })),
            ("buckets", .array(series.buckets.map { bucket in
                .object([("start", .string(Timestamp.format(ms: bucket.startMs))), ("attempts", .integer(bucket.attempts)),
                         ("failed", .integer(bucket.failed))])
            })),
        ]))
    }

    /// The query parameter `name` as an integer in `bounds.range`, `bounds.defaultValue` when absent.
    /// - Throws: 400 `invalid_query` when it is not an integer in the range.
    static func queryInteger(_ request: HTTPRequest, _ name: String, within bounds: ParameterBounds<Int>) throws(APIError) -> Int {
        let range = bounds.range
        guard let text = request.queryValue(name) else { return bounds.defaultValue }
        guard text.utf8.count <= 12, let value = Int(text), range.contains(value) else {
            throw APIError(400, "invalid_query", "\(name) must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }
}
