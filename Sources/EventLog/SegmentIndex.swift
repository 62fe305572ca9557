import SystemIO
#if canImport(Glibc)
import Glibc
#endif

/// The sparse offset and time index of one segment: an entry at the segment's first record and
/// then every `indexIntervalBytes` of records. Timestamps are non-decreasing along the log, so one
/// table serves both seeks. The file is a cache: it is rebuilt from the segment when missing or
/// damaged, and it is never fsynced on its own.
///
/// File format: 24-byte entries `offset u64 | position u64 | timestampMs i64`, little-endian.
struct SegmentIndex: Sendable {
    struct Entry: Sendable, Equatable {
        var offset: UInt64
        var position: Int64
        var timestampMs: Int64
    }

    static let entrySizeBytes = 24

    private(set) var entries: [Entry] = []

    init(entries: [Entry] = []) { self.entries = entries }

    /// Loads `path`, keeping only a prefix of entries that is well-formed: strictly increasing
    /// offsets and positions, non-decreasing times, positions inside the segment.
    static func load(path: String, segmentSizeBytes: Int64, baseOffset: UInt64) throws(EventLogError) -> SegmentIndex {
        guard let file = try systemCall({ try FileDescriptor.openIfExists(path) }) else { return SegmentIndex() }
        let size = try systemCall { try file.size() }
        let bytes = try systemCall { try file.read(count: Int(size), at: 0) }
        var entries: [Entry] = []
        bytes.withUnsafeBytes { buffer in
            var position = 0
            while position + entrySizeBytes <= buffer.count {
                let entry = Entry(offset: buffer.uint64(at: position), position: buffer.int64(at: position + 8),
                                  timestampMs: buffer.int64(at: position + 16))
                if let last = entries.last {
                    guard entry.offset > last.offset, entry.position > last.position,
                          entry.timestampMs >= last.timestampMs else { break }
                } else {
                    guard entry.offset == baseOffset, entry.position == Int64(SegmentHeader.sizeBytes) else { break }
                }
                guard entry.position < segmentSizeBytes else { break }
                entries.append(entry)
                position += entrySizeBytes
            }
        }
        return SegmentIndex(entries: entries)
    }

    static func encode(_ entry: Entry) -> [UInt8] {
        var writer = ByteWriter(capacity: entrySizeBytes)
        writer.append(entry.offset)
        writer.append(entry.position)
        writer.append(entry.timestampMs)
        return writer.bytes
    }

    /// Writes the whole index to `path` (used after a rebuild).
    func write(to path: String) throws(EventLogError) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(entries.count * Self.entrySizeBytes)
        for entry in entries { bytes += Self.encode(entry) }
        let file = try systemCall { try FileDescriptor.open(path, O_WRONLY | O_CREAT | O_TRUNC) }
        try systemCall { try file.write(bytes, at: 0) }
    }

    mutating func append(_ entry: Entry) { entries.append(entry) }

    mutating func removeEntries(from index: Int) { entries.removeSubrange(index...) }

    /// The last entry at or before `offset`, or nil when `offset` precedes the first entry.
    func entry(atOrBefore offset: UInt64) -> Entry? {
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].offset <= offset { low = middle + 1 } else { high = middle }
        }
        return low == 0 ? nil : entries[low - 1]
    }

    /// The last entry whose time is strictly before `timestampMs` (a scan from it reaches the first
    /// record at or after that time), or nil.
    func entry(before timestampMs: Int64) -> Entry? {
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].timestampMs < timestampMs { low = middle + 1 } else { high = middle }
        }
        return low == 0 ? nil : entries[low - 1]
    }
}
