import EventLog

/// The shared scan's sliding window: the most recent records of the log, bounded by count and bytes, so that
/// every webhook that keeps up reads from memory and one reader serves them all.
struct RecordWindow {
    private var storage: [EventRecord] = []
    private var start = 0
    private var sizeBytes = 0
    /// Offset of the oldest record held.
    private(set) var firstOffset: UInt64
    /// Offset after the newest record held.
    private(set) var nextOffset: UInt64

    init(startingAt offset: UInt64) {
        firstOffset = offset
        nextOffset = offset
    }

    var count: Int { storage.count - start }

    mutating func append(_ record: EventRecord) {
        precondition(record.offset == nextOffset, "cache records must be dense")
        storage.append(record)
        sizeBytes += record.data.count + 128
        nextOffset += 1
        while count > DeliveryLimits.Scan.cacheRecordCountMax || (sizeBytes > DeliveryLimits.Scan.cacheSizeBytesMax && count > 1) {
            sizeBytes -= storage[start].data.count + 128
            start += 1
            firstOffset += 1
        }
        if start > 4096 && start * 2 > storage.count {
            storage.removeFirst(start)
            start = 0
        }
    }

    /// The record at `offset` when it is in the window.
    func record(at offset: UInt64) -> EventRecord? {
        guard offset >= firstOffset, offset < nextOffset else { return nil }
        return storage[start + Int(offset - firstOffset)]
    }
}
