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
            "# HELP argus_append_duration_seconds Durable append latency (group commit included).",
            "# TYPE argus_append_duration_seconds histogram",
        ]
        for (index, bound) in Self.bucketsSeconds.enumerated() {
            lines.append("argus_append_duration_seconds_bucket{le=\"\(bound)\"} \(snapshot.appendLatencyBuckets[index])")
        }
        lines += [
            "argus_append_duration_seconds_bucket{le=\"+Inf\"} \(snapshot.appendCalls)",
            "argus_append_duration_seconds_sum \(snapshot.appendSecondsTotal)",
            "argus_append_duration_seconds_count \(snapshot.appendCalls)",
        ]
        lines += ["# HELP argus_log_fsync_duration_seconds Duration of the log writer's group-commit fdatasync calls.",
                  "# TYPE argus_log_fsync_duration_seconds histogram"]
        for (index, bound) in SyncStatistics.bucketBoundsSeconds.enumerated() {
            lines.append("argus_log_fsync_duration_seconds_bucket{le=\"\(bound)\"} \(sync.bucketCounts[index])")
        }
        lines += [
            "argus_log_fsync_duration_seconds_bucket{le=\"+Inf\"} \(sync.count)",
            "argus_log_fsync_duration_seconds_sum \(sync.totalSeconds)",
            "argus_log_fsync_duration_seconds_count \(sync.count)",
        ]
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
}
