import SystemIO
/// When sealed segments may be deleted.
public struct RetentionPolicy: Sendable {
    /// Delete the oldest sealed segments while the log is larger than this, in bytes; nil for no limit.
    public var sizeBytesMax: Int64?
    /// Delete sealed segments whose newest record is older than this, in seconds; nil for no limit.
    public var ageSecondsMax: Double?

    public init(sizeBytesMax: Int64? = nil, ageSecondsMax: Double? = nil) {
        self.sizeBytesMax = sizeBytesMax
        self.ageSecondsMax = ageSecondsMax
    }
}

extension EventLog {
    /// Deletes whole sealed segments, oldest first, that the policy allows to go and that every consumer
    /// has passed (`consumersFloor` is the lowest cursor: a segment goes only when its last offset is below
    /// it) and that `mayDelete` approves (archival: uploaded and verified). The active segment never goes.
    /// - Returns: base offsets of the deleted segments.
    public func applyRetention(_ policy: RetentionPolicy, consumersFloor: UInt64,
                               mayDelete: (UInt64) -> Bool = { _ in true },
                               nowMs: Int64? = nil) throws(EventLogError) -> [UInt64] {
        let now = nowMs ?? SystemClock.nowMs()
        let summaries = try SegmentCatalog.summaries(directory: directory)
        var totalBytes = summaries.reduce(Int64(0)) { $0 + $1.sizeBytes }
        var deleted: [UInt64] = []
        for summary in summaries where summary.sealed {
            let tooBig = policy.sizeBytesMax.map { totalBytes > $0 } ?? false
            let tooOld = policy.ageSecondsMax.map { maxAge in
                summary.lastTimestampMs.map { Double(now - $0) / 1000 > maxAge } ?? false
            } ?? false
            guard tooBig || tooOld else { break }
            guard let last = summary.lastOffset, last < consumersFloor, mayDelete(summary.baseOffset) else { break }
            try systemCall { try FileSystem.remove(directory + "/" + SegmentName.log(baseOffset: summary.baseOffset)) }
            try systemCall { try FileSystem.remove(directory + "/" + SegmentName.index(baseOffset: summary.baseOffset)) }
            totalBytes -= summary.sizeBytes
            deleted.append(summary.baseOffset)
        }
        if !deleted.isEmpty { try systemCall({ try FileSystem.synchronizeDirectory(directory) }) }
        return deleted
    }
}
