import Synchronization

/// How long the writer's `fdatasync` calls took: a histogram for `/metrics`.
public struct SyncStatistics: Sendable, Equatable {
    /// Upper bounds of the histogram buckets, in seconds.
    public static let bucketBoundsSeconds = [0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1, 1.0]

    /// Number of `fdatasync` calls.
    public var count = 0
    /// Their total duration, in seconds.
    public var totalSeconds = 0.0
    /// Calls at or below each bound of `bucketBoundsSeconds` (cumulative, as Prometheus wants).
    public var bucketCounts = [Int](repeating: 0, count: SyncStatistics.bucketBoundsSeconds.count)

    mutating func record(seconds: Double) {
        count += 1
        totalSeconds += seconds
        for (index, bound) in Self.bucketBoundsSeconds.enumerated() where seconds <= bound { bucketCounts[index] += 1 }
    }
}

/// Shared between the writer thread, which records, and readers of the statistics.
final class SyncRecorder: Sendable {
    private let statistics = Mutex(SyncStatistics())

    func record(seconds: Double) { statistics.withLock { $0.record(seconds: seconds) } }

    var snapshot: SyncStatistics { statistics.withLock { $0 } }
}
