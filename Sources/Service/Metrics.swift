import EventLog
import Synchronization
import SystemIO

/// Counters and latency sums exposed at `GET /metrics` in the Prometheus text format.
final class Metrics: Sendable {
    private struct State {
        var responsesByStatus: [Int: Int] = [:]
        var appendedEvents = 0
        var appendCalls = 0
        var appendSecondsTotal = 0.0
        var appendLatencyBuckets = [Int](repeating: 0, count: Metrics.bucketsSeconds.count)
    }

    static let bucketsSeconds = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0]

    private let state = Mutex(State())

    func countResponse(status: Int) { state.withLock { $0.responsesByStatus[status, default: 0] += 1 } }

    func recordAppend(eventCount: Int, duration: Duration) {
        let seconds = duration.inSeconds
        state.withLock { state in
            state.appendedEvents += eventCount
            state.appendCalls += 1
            state.appendSecondsTotal += seconds
            for (index, bound) in Self.bucketsSeconds.enumerated() where seconds <= bound { state.appendLatencyBuckets[index] += 1 }
        }
    }

    func render(nextOffset: UInt64, sync: SyncStatistics,
                delivery: (delivered: Int, failedAttempts: Int, unresolved: Int, waitingRetry: Int, lagSum: UInt64)) -> String {
        let snapshot = state.withLock { $0 }
        var lines = [
            "# HELP argus_api_responses_total API responses by HTTP status.", "# TYPE argus_api_responses_total counter",
        ]
        for (status, count) in snapshot.responsesByStatus.sorted(by: { $0.key < $1.key }) {
            lines.append("argus_api_responses_total{status=\"\(status)\"} \(count)")
        }
        lines += [
            "# HELP argus_events_appended_total Events appended through the API.", "# TYPE argus_events_appended_total counter",
            "argus_events_appended_total \(snapshot.appendedEvents)",
            "# HELP argus_log_next_offset Offset the next event will get.", "# TYPE argus_log_next_offset gauge",
            "argus_log_next_offset \(nextOffset)",
        ]
        lines += Self.histogram("argus_append_duration_seconds", help: "Durable append latency (group commit included).",
                                boundsSeconds: Self.bucketsSeconds, bucketCounts: snapshot.appendLatencyBuckets,
                                count: snapshot.appendCalls, sumSeconds: snapshot.appendSecondsTotal)
        lines += Self.histogram("argus_log_fsync_duration_seconds", help: "Duration of the log writer's group-commit fdatasync calls.",
                                boundsSeconds: SyncStatistics.bucketBoundsSeconds, bucketCounts: sync.bucketCounts,
                                count: sync.count, sumSeconds: sync.totalSeconds)
        lines += [
            "# HELP argus_deliveries_total Delivery attempts by outcome.", "# TYPE argus_deliveries_total counter",
            "argus_deliveries_total{outcome=\"succeeded\"} \(delivery.delivered)",
            "argus_deliveries_total{outcome=\"failed_attempt\"} \(delivery.failedAttempts)",
            "# HELP argus_deliveries_unresolved Deliveries in flight or waiting for a retry.", "# TYPE argus_deliveries_unresolved gauge",
            "argus_deliveries_unresolved \(delivery.unresolved)",
            "# HELP argus_retry_queue_depth Deliveries waiting for a retry.", "# TYPE argus_retry_queue_depth gauge",
            "argus_retry_queue_depth \(delivery.waitingRetry)",
            "# HELP argus_delivery_lag_events Sum over webhooks of events between the cursor and the head.",
            "# TYPE argus_delivery_lag_events gauge", "argus_delivery_lag_events \(delivery.lagSum)",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    /// One Prometheus histogram in the text format: HELP and TYPE, a bucket per bound (`bucketCounts` are
    /// cumulative), `+Inf`, the sum in seconds and the count.
    private static func histogram(_ name: String, help: String, boundsSeconds: [Double], bucketCounts: [Int], count: Int,
                                  sumSeconds: Double) -> [String] {
        var lines = ["# HELP \(name) \(help)", "# TYPE \(name) histogram"]
        for (index, bound) in boundsSeconds.enumerated() {
            lines.append("\(name)_bucket{le=\"\(bound)\"} \(bucketCounts[index])")
        }
        return lines + ["\(name)_bucket{le=\"+Inf\"} \(count)", "\(name)_sum \(sumSeconds)", "\(name)_count \(count)"]
    }
}
