import Glibc
import SystemIO

extension EventLog {
    /// The number of events readable now in the log in `directory`, made durable first: the segment
    /// holding the last of them is `fdatasync`ed from here (any descriptor of a file flushes its
    /// pages), so a process that is not the writer (`argus-events checkpoint`) can sign that size
    /// without a crash taking it back, whatever the writer's fsync policy.
    /// - Throws: `EventLogError.system` when the log cannot be read or the sync fails.
    public static func syncedReadableSize(directory: String) throws(EventLogError) -> UInt64 {
        let size = try LogReader(directory: directory, start: .end).nextOffset
        guard size > 0 else { return 0 }
        // Sealing syncs a segment, so only the segment holding offset size - 1 (and, after a roll meanwhile,
        // nothing newer that is counted) can hold unsynced events.
        guard let base = try SegmentCatalog.baseOffsets(directory: directory).last(where: { $0 <= size - 1 }) else { return size }
        let path = directory + "/" + SegmentName.log(baseOffset: base)
        try systemCall { () throws in
            guard let file = try FileDescriptor.openIfExists(path, O_RDONLY) else { return }
            try file.synchronizeData()
        }
        return size
    }
}
