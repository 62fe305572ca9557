import Crypto
import SystemIO
#if canImport(Glibc)
import Glibc
#endif

/// The writer's view of the segment it appends to. Confined to the writer thread.
struct ActiveSegment {
    let directory: String
    let header: SegmentHeader
    let file: FileDescriptor
    let indexFile: FileDescriptor
    /// End of the last complete record, in bytes; the next append goes here.
    var sizeBytes: Int64
    /// The file's size: `sizeBytes` plus the zero-filled space kept ahead of it (see
    /// `EventLogOptions.preallocationSizeBytes`).
    var allocatedBytes: Int64
    /// Offset the next record gets.
    var nextOffset: UInt64
    /// Chain value after the last record.
    var chain: [UInt8]
    var lastTimestampMs: Int64
    var index: SegmentIndex
    /// Position of the last index entry, in bytes.
    var lastIndexedPosition: Int64
    /// Running SHA-256 of the file's bytes up to `sizeBytes`: fed by the writer as it frames records,
    /// so sealing never re-reads the segment.
    var digest: SHA256

    var name: String { SegmentName.log(baseOffset: header.baseOffset) }
    var path: String { directory + "/" + name }
    var recordCount: UInt64 { nextOffset - header.baseOffset }

    /// Creates a new, empty segment file whose header continues `chainIn`, durably.
    static func create(directory: String, baseOffset: UInt64, chainIn: [UInt8], nowMs: Int64) throws(EventLogError) -> ActiveSegment {
        let header = SegmentHeader(baseOffset: baseOffset, createdMs: nowMs, chainIn: chainIn)
        let path = directory + "/" + SegmentName.log(baseOffset: baseOffset)
        let file = try systemCall { try FileDescriptor.open(path, O_RDWR | O_CREAT | O_TRUNC) }
        let headerBytes = header.encoded()
        try systemCall { try file.write(headerBytes, at: 0) }
        try systemCall { try file.synchronize() }
        let indexFile = try systemCall { try FileDescriptor.open(directory + "/" + SegmentName.index(baseOffset: baseOffset),
                                                O_RDWR | O_CREAT | O_TRUNC) }
        try systemCall { try FileSystem.synchronizeDirectory(directory) }
        var digest = SHA256()
        digest.update(headerBytes)
        return ActiveSegment(directory: directory, header: header, file: file, indexFile: indexFile,
                             sizeBytes: Int64(headerBytes.count), allocatedBytes: Int64(headerBytes.count),
                             nextOffset: baseOffset, chain: chainIn,
                             lastTimestampMs: nowMs, index: SegmentIndex(), lastIndexedPosition: -1, digest: digest)
    }

    /// Records an index entry for a record at `position` when the interval has passed.
    mutating func noteRecord(offset: UInt64, position: Int64, timestampMs: Int64, intervalBytes: Int,
                             pendingIndexBytes: inout [UInt8]) {
        guard lastIndexedPosition < 0 || position - lastIndexedPosition >= Int64(intervalBytes) else { return }
        let entry = SegmentIndex.Entry(offset: offset, position: position, timestampMs: timestampMs)
        index.append(entry)
        pendingIndexBytes += SegmentIndex.encode(entry)
        lastIndexedPosition = position
    }

    /// Writes `preallocationSizeBytes` zeros after `end` (the end of a group just written past the
    /// zero-filled space), before the group's `fdatasync`, which then covers them and the new file size.
    /// A failure (a full disk) only costs the speed-up: the file is cut back to `end`.
    mutating func extendPreallocation(after end: Int64, preallocationSizeBytes: Int) {
        guard preallocationSizeBytes > 0 else {
            allocatedBytes = max(allocatedBytes, end)
            return
        }
        let target = end + Int64(preallocationSizeBytes)
        var position = end
        while position < target {
            let count = Int(min(Int64(Self.zeros.count), target - position))
            let wrote = Self.zeros.withUnsafeBytes { zeros in
                Result { () throws(SystemError) in
                    try file.write(UnsafeRawBufferPointer(rebasing: zeros[..<count]), at: position)
                }
            }
            guard case .success = wrote else {
                _ = try? file.truncate(to: end)
                allocatedBytes = end
                return
            }
            position += Int64(count)
        }
        allocatedBytes = target
    }

    /// Cuts the zero-filled space after the last record (before sealing, and when the log closes).
    mutating func releasePreallocation() throws(EventLogError) {
        guard allocatedBytes > sizeBytes else { return }
        try systemCall { try file.truncate(to: sizeBytes) }
        allocatedBytes = sizeBytes
    }

    private static let zeros = [UInt8](repeating: 0, count: 64 << 10)

    /// Writes the footer, syncs the segment and its index. The segment is immutable afterwards.
    mutating func seal() throws(EventLogError) -> SegmentFooter {
        // The footer must end the file: the zero-filled space goes first.
        try releasePreallocation()
        let segmentDigest = digest.finalize()
        let footer = SegmentFooter(recordCount: recordCount, lastOffset: nextOffset &- 1, lastChain: chain,
                                   segmentDigest: segmentDigest)
        var writer = ByteWriter(capacity: RecordFrame.headerSizeBytes + RecordFrame.footerBodySizeBytes)
        RecordFrame.appendFooter(footer, to: &writer)
        try systemCall { try file.write(writer.bytes, at: sizeBytes) }
        try systemCall { try file.synchronizeData() }
        sizeBytes += Int64(writer.bytes.count)
        allocatedBytes = sizeBytes
        // The index is a rebuildable cache: failing to rewrite it (a full disk) does not undo the seal.
        try? index.write(to: directory + "/" + SegmentName.index(baseOffset: header.baseOffset))
        return footer
    }

    /// The running SHA-256 of the first `sizeBytes` bytes of `file` (not finalized: appends continue it).
    /// Read once when a log is opened; opening cost depends on the active segment only.
    static func runningDigest(of file: FileDescriptor, sizeBytes: Int64) throws(EventLogError) -> SHA256 {
        var hasher = SHA256()
        var position: Int64 = 0
        while position < sizeBytes {
            let count = Int(min(Int64(1 << 20), sizeBytes - position))
            let chunk = try systemCall { try file.read(count: count, at: position) }
            if chunk.count < count {
                throw .corruptSegment(segment: file.path, reason: "shorter than expected while hashing")
            }
            hasher.update(chunk)
            position += Int64(count)
        }
        return hasher
    }
}
