/// Index entries of the active segment whose records are written but not yet covered by an
/// `fdatasync`. The writer writes an entry to the index file only after such a sync: the index file
/// and the segment reach the disk in any order, and recovery resumes after the last entry that names
/// its record, so an entry on disk must never lie beyond an unsynced stretch that a power cut may have
/// left partly unwritten. Bounded by the writer's bound on unsynced bytes
/// (`EventLogLimits.groupSizeBytesMax`): at most one entry per `indexIntervalBytes` of them.
struct PendingIndexEntries {
    /// The encoded entries, in order (`SegmentIndex.entrySizeBytes` each).
    private(set) var bytes: [UInt8] = []
    /// Where the first of them is in the segment's index (and in its index file, in entries).
    private(set) var firstEntry = 0

    var count: Int { bytes.count / SegmentIndex.entrySizeBytes }

    /// Where the first pending entry goes in the index file, in bytes.
    var fileOffsetBytes: Int64 { Int64(firstEntry) * Int64(SegmentIndex.entrySizeBytes) }

    /// Adds the encoded entries of a written group, which start at entry `first` of the index.
    mutating func append(_ encoded: [UInt8], first: Int) {
        guard !encoded.isEmpty else { return }
        if bytes.isEmpty { firstEntry = first }
        bytes += encoded
    }

    /// The first `entryCount` entries, removed.
    mutating func removeFirst(_ entryCount: Int) -> [UInt8] {
        firstEntry += entryCount
        if entryCount == count {
            defer { bytes = [] }
            return bytes
        }
        let taken = Array(bytes[..<(entryCount * SegmentIndex.entrySizeBytes)])
        bytes.removeFirst(taken.count)
        return taken
    }
}
