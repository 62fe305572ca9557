import Crypto
import JSON
import SystemIO
#if canImport(Glibc)
import Glibc
#endif

/// Opening a log: find the active segment, check its header, scan its unindexed tail, cut a torn
/// tail. Sealed segments are not read, so opening time does not grow with the log.
enum Recovery {
    static func openActiveSegment(directory: String, options: EventLogOptions) throws(EventLogError) -> ActiveSegment {
        let bases = try SegmentCatalog.baseOffsets(directory: directory)
        guard let activeBase = bases.last else {
            return try ActiveSegment.create(directory: directory, baseOffset: 0, chainIn: [UInt8](repeating: 0, count: 32),
                                            nowMs: SystemClock.nowMs())
        }
        let name = SegmentName.log(baseOffset: activeBase)
        let path = directory + "/" + name
        let file = try systemCall { try FileDescriptor.open(path, O_RDWR) }
        var fileSize = try systemCall { try file.size() }
        let header: SegmentHeader
        do throws(EventLogError) {
            header = try SegmentHeader.decode(try systemCall { try file.read(count: SegmentHeader.sizeBytes, at: 0) }, segment: name)
            guard header.baseOffset == activeBase else {
                throw EventLogError.corruptSegment(segment: name, reason: "header names base offset \(header.baseOffset)")
            }
        } catch {
            // A crash while creating the segment leaves a short header: recreate it, unless it held data.
            guard fileSize < Int64(SegmentHeader.sizeBytes) else { throw error }
            options.logger.warning("recovery: recreating segment \(name) whose header was torn (\(fileSize) bytes)")
            let chainIn = try previousChain(directory: directory, bases: bases, activeBase: activeBase)
            return try ActiveSegment.create(directory: directory, baseOffset: activeBase, chainIn: chainIn,
                                            nowMs: SystemClock.nowMs())
        }

        let indexPath = directory + "/" + SegmentName.index(baseOffset: activeBase)
        var index = try SegmentIndex.load(path: indexPath, segmentSizeBytes: fileSize, baseOffset: activeBase)
        var scanner = SegmentScanner(file: file, position: Int64(SegmentHeader.sizeBytes))
        var chain = header.chainIn
        var expectedOffset = activeBase
        var lastTimestampMs = header.createdMs
        // Resume from the last index entry that points at the record it names.
        if let (entry, record, size) = try lastIntactEntry(of: &index, file: file) {
            scanner.seek(to: entry.position + Int64(size))
            chain = record.chainHash
            expectedOffset = record.offset + 1
            lastTimestampMs = record.timestampMs
        }
        var lastIndexedPosition = index.entries.last?.position ?? -1
        var indexChanged = false
        /// Cuts the file at `position` when only a torn tail or zeros follow (logging `note` with the bytes cut),
        /// else throws `damage` as a corrupt record: acknowledged records may lie behind it.
        func cutTail(at position: Int64, damage: String, note: (Int64) -> String) throws(EventLogError) {
            guard try isTornTail(file: file, position: position, fileSize: fileSize) else {
                throw EventLogError.corruptRecord(segment: name, position: position, expectedOffset: expectedOffset, reason: damage)
            }
            options.logger.warning(note(fileSize - position))
            try systemCall { try file.truncate(to: position) }
            try systemCall { try file.synchronize() }
            fileSize = position
            scanner = SegmentScanner(file: file, position: position)
        }
        while true {
            switch try scanner.next() {
            case .event(let record, let position, _):
                guard record.offset == expectedOffset else {
                    throw EventLogError.corruptRecord(segment: name, position: position, expectedOffset: expectedOffset,
                                                      reason: "found offset \(record.offset)")
                }
                guard RecordFrame.expectedChain(of: record, previous: chain) == record.chainHash else {
                    throw EventLogError.corruptRecord(segment: name, position: position, expectedOffset: expectedOffset,
                                                      reason: "hash chain mismatch")
                }
                if lastIndexedPosition < 0 || position - lastIndexedPosition >= Int64(options.indexIntervalBytes) {
                    index.append(.init(offset: record.offset, position: position, timestampMs: record.timestampMs))
                    lastIndexedPosition = position
                    indexChanged = true
                }
                chain = record.chainHash
                expectedOffset += 1
                lastTimestampMs = record.timestampMs
            case .footer(let footer, let position, let size):
                // Sealed but the next segment was never created: finish the roll.
                let footerEnd = position + Int64(size)
                guard footer.lastChain == chain, footer.recordCount == expectedOffset - activeBase, footerEnd <= fileSize else {
                    throw EventLogError.corruptSegment(segment: name, reason: "footer does not match its records")
                }
                if footerEnd < fileSize {
                    // A crash while sealing: the footer reached the disk, the cut of the zero-filled space
                    // before it did not. Zeros after the footer are cut; anything else is damage.
                    guard try isZeroFilled(file: file, from: footerEnd, to: fileSize) else {
                        throw EventLogError.corruptSegment(segment: name, reason: "data after the footer at position \(footerEnd)")
                    }
                    options.logger.info("recovery: cut \(fileSize - footerEnd) bytes of zero-filled space after the footer of \(name)")
                    try systemCall { try file.truncate(to: footerEnd) }
                    try systemCall { try file.synchronize() }
                }
                if indexChanged { try index.write(to: indexPath) }
                options.logger.info("recovery: segment \(name) was sealed; starting segment at offset \(expectedOffset)")
                return try ActiveSegment.create(directory: directory, baseOffset: expectedOffset, chainIn: chain,
                                                nowMs: SystemClock.nowMs())
            case .end(let position):
                if position < fileSize {
                    options.logger.warning("recovery: cut a torn tail of \(fileSize - position) bytes at offset \(expectedOffset) in \(name)")
                    try systemCall { try file.truncate(to: position) }
                    try systemCall { try file.synchronize() }
                }
                if indexChanged { try index.write(to: indexPath) }
                let indexFile = try systemCall { try FileDescriptor.open(indexPath, O_RDWR | O_CREAT) }
                if !indexChanged { try systemCall({ try indexFile.truncate(to: Int64(index.entries.count * SegmentIndex.entrySizeBytes)) }) }
                let digest = try ActiveSegment.runningDigest(of: file, sizeBytes: position)
                return ActiveSegment(directory: directory, header: header, file: file, indexFile: indexFile,
                                     sizeBytes: position, allocatedBytes: position, nextOffset: expectedOffset, chain: chain,
                                     lastTimestampMs: lastTimestampMs, index: index,
                                     lastIndexedPosition: lastIndexedPosition, digest: digest)
            case .unwritten(let position):
                // The writer's zero-filled space after its last record (a crash left it): dropped, the writer
                // makes it again. Data after it is damage, unless a sector here was never written (see `isTornTail`).
                let onlyZeros = try isZeroFilled(file: file, from: position, to: fileSize)
                try cutTail(at: position, damage: "a zero frame header followed by data", note: { count in
                    onlyZeros ? "recovery: dropped \(count) bytes of zero-filled space after offset \(expectedOffset) in \(name)"
                        : "recovery: cut a torn tail of \(count) bytes at offset \(expectedOffset) in \(name) (a sector of the last group never reached the disk; what follows it is that group's)"
                })
            case .invalid(let position, let reason):
                try cutTail(at: position, damage: reason,
                            note: { "recovery: cut a torn tail of \($0) bytes (\(reason)) at offset \(expectedOffset) in \(name)" })
            }
        }
    }

    /// Whether a bad frame (or a zero frame header) at `position` is a torn tail: part of the last group,
    /// which no `fdatasync` completed, so nothing in it was acknowledged. The one rule recovery, `verify`
    /// and readers apply.
    ///
    /// First, only zeros may lie more than `EventLogLimits.groupSizeBytesMax` after it: the writer never
    /// has more bytes than that written and not synced, so data further on is in groups that were synced
    /// (acknowledged), and the bad frame is damage. Then it must be the last frame of the file, or be
    /// followed only by zeros (after the end its length names, or from its start when the length is out
    /// of range: a frame cut short inside the writer's zero-filled space), or, with data after it, hold a
    /// disk sector of only zeros: the last group overwrote the zero-filled space, which no file size
    /// orders, so a power cut during its `fdatasync` can leave any of its sectors unwritten and later ones
    /// written (that data is the same unacknowledged group's).
    static func isTornTail(file: FileDescriptor, position: Int64, fileSize: Int64) throws(EventLogError) -> Bool {
        guard try isZeroFilled(file: file, from: position + Int64(EventLogLimits.groupSizeBytesMax), to: fileSize) else {
            return false
        }
        let lengthBytes = try systemCall { try file.read(count: 4, at: position) }
        var cursor = position
        var frameEnd = position + Int64(RecordFrame.headerSizeBytes)
        if lengthBytes.count == 4 {
            let length = lengthBytes.withUnsafeBytes { Int64($0.uint32(at: 0)) }
            let claimedEnd = position + Int64(RecordFrame.headerSizeBytes) + length
            if claimedEnd >= fileSize { return true }
            if length <= Int64(EventLogLimits.frameBodySizeBytesMax) {
                cursor = claimedEnd
                frameEnd = claimedEnd
            }
        }
        if try isZeroFilled(file: file, from: cursor, to: fileSize) { return true }
        return try hasUnwrittenSector(file: file, from: position, to: min(fileSize, max(frameEnd, position + unwrittenRunBytesMin)))
    }

    /// The last entry of `index` that points at the record it names (read intact from `file`), that record
    /// and its frame size; the entries after it are removed. Recovery resumes after it, so a bad frame
    /// before it is never cut as a torn tail (`verify` reports one there as damage).
    static func lastIntactEntry(of index: inout SegmentIndex,
                                file: FileDescriptor) throws(EventLogError) -> (SegmentIndex.Entry, EventRecord, Int)? {
        while let entry = index.entries.last {
            var scanner = SegmentScanner(file: file, position: entry.position)
            if case .event(let record, _, let size) = try scanner.next(), record.offset == entry.offset,
               record.timestampMs == entry.timestampMs {
                return (entry, record, size)
            }
            index.removeEntries(from: index.entries.count - 1)
        }
        return nil
    }

    /// Disk sector size the unwritten-sector check assumes, in bytes (the smallest a disk writes).
    static let sectorSizeBytes: Int64 = 512
    /// Zeros that count as an unwritten sector where the sector starts before the frame, in bytes (a
    /// zeroed frame header alone, 8 bytes, is damage).
    static let unwrittenRunBytesMin: Int64 = 16

    /// Whether a sector overlapping `start..<end` is all zeros from `start` (or its own start) to its end:
    /// at least `unwrittenRunBytesMin` bytes of zeros reaching a sector boundary.
    static func hasUnwrittenSector(file: FileDescriptor, from start: Int64, to end: Int64) throws(EventLogError) -> Bool {
        var sector = start / sectorSizeBytes * sectorSizeBytes
        while sector < end {
            let runStart = max(sector, start)
            let runEnd = sector + sectorSizeBytes
            if runEnd - runStart >= unwrittenRunBytesMin, try isZeroFilled(file: file, from: runStart, to: runEnd) { return true }
            sector = runEnd
        }
        return false
    }

    /// Whether the bytes of `file` from `start` up to `end` (or its end, if sooner) are all zeros.
    static func isZeroFilled(file: FileDescriptor, from start: Int64, to end: Int64) throws(EventLogError) -> Bool {
        var cursor = start
        while cursor < end {
            let chunk = try systemCall { try file.read(count: Int(min(Int64(1 << 20), end - cursor)), at: cursor) }
            if chunk.isEmpty { break }
            if chunk.contains(where: { $0 != 0 }) { return false }
            cursor += Int64(chunk.count)
        }
        return true
    }

    /// The chain value the segment after the newest sealed one must continue from.
    private static func previousChain(directory: String, bases: [UInt64], activeBase: UInt64) throws(EventLogError) -> [UInt8] {
        guard bases.count >= 2 else { return [UInt8](repeating: 0, count: 32) }
        let previous = bases[bases.count - 2]
        guard let footer = try SegmentCatalog.footer(directory: directory, baseOffset: previous) else {
            throw .corruptSegment(segment: SegmentName.log(baseOffset: previous), reason: "not sealed, yet a later segment exists")
        }
        return footer.lastChain
    }
}
