import Crypto
import SystemIO
#if canImport(Glibc)
import Glibc
#endif

/// What `LogVerifier.verifySegment` found in one segment file: where it sits in the log, the chain
/// it continues and produces, and the first problem, if any.
public struct SegmentVerification: Sendable, Equatable {
    /// Base offset from the segment header.
    public var baseOffset: UInt64
    /// Offset of the last record, nil for an empty segment.
    public var lastOffset: UInt64?
    /// Event records checked.
    public var recordCount: UInt64
    /// Time of the first and last record, in ms since 1970; nil for an empty segment.
    public var firstTimestampMs: Int64?
    public var lastTimestampMs: Int64?
    /// Chain value the header continues from (32 bytes).
    public var chainIn: [UInt8]
    /// Chain value after the last record (32 bytes; equals `chainIn` for an empty segment).
    public var chainOut: [UInt8]
    /// File size in bytes.
    public var sizeBytes: Int64
    /// SHA-256 of the whole file, footer included (32 bytes); empty unless the segment is sealed and intact.
    public var sha256: [UInt8]
    /// True when the segment ends with a footer whose counts, chain and SHA-256 match.
    public var sealed: Bool
    /// First offset that is missing, altered or out of place; nil when intact.
    public var firstBadOffset: UInt64?
    /// What is wrong at `firstBadOffset`; nil when intact.
    public var problem: String?

    /// True when every check passed and the segment is sealed.
    public var isIntact: Bool { problem == nil }
}

extension LogVerifier {
    /// Verifies one sealed segment file on its own, wherever it lives (a log directory, an archive, a
    /// cache): header CRC, every record's CRC, dense offsets, the hash chain from the header's chain-in,
    /// and the footer (count, last offset, last chain, SHA-256). Also computes the SHA-256 of the whole
    /// file. The same checks as `verify(directory:)` runs per segment; no index is needed.
    /// - Parameters:
    ///   - path: the segment file.
    ///   - expectedBaseOffset: when given, the header must name this base offset.
    ///   - expectedChainIn: when given, the header must continue this chain value.
    ///   - checkRecords: false for the fast check of a sealed segment: header, footer, and the footer's
    ///     SHA-256 over every byte before it (which detects any change since the segment was sealed) in one
    ///     read, with chain out, counts and times taken from the footer and the first and last records,
    ///     without re-deriving the chain record by record.
    /// - Returns: a report; an unsealed, truncated or damaged segment is a problem in it, not a throw.
    /// - Throws: `EventLogError.system` when the file cannot be read (a missing file included).
    public static func verifySegment(path: String, expectedBaseOffset: UInt64? = nil,
                                     expectedChainIn: [UInt8]? = nil,
                                     checkRecords: Bool = true) throws(EventLogError) -> SegmentVerification {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        let file = try systemCall { try FileDescriptor.open(path, O_RDONLY) }
        let size = try systemCall { try file.size() }
        var result = SegmentVerification(baseOffset: expectedBaseOffset ?? 0, lastOffset: nil, recordCount: 0,
                                         firstTimestampMs: nil, lastTimestampMs: nil, chainIn: [], chainOut: [],
                                         sizeBytes: size, sha256: [], sealed: false, firstBadOffset: nil, problem: nil)
        func failed(_ offset: UInt64, _ problem: String) -> SegmentVerification {
            var copy = result
            copy.firstBadOffset = offset
            copy.problem = "\(name): \(problem)"
            return copy
        }
        let header: SegmentHeader
        let headerBytes = try systemCall { try file.read(count: SegmentHeader.sizeBytes, at: 0) }
        do throws(EventLogError) {
            header = try SegmentHeader.decode(headerBytes, segment: name)
        } catch {
            return failed(expectedBaseOffset ?? 0, "\(error)")
        }
        result.baseOffset = header.baseOffset
        result.chainIn = header.chainIn
        result.chainOut = header.chainIn
        if let expectedBaseOffset, header.baseOffset != expectedBaseOffset {
            return failed(expectedBaseOffset, "header names base offset \(header.baseOffset)")
        }
        if let expectedChainIn, header.chainIn != expectedChainIn {
            return failed(header.baseOffset, "header does not continue the hash chain")
        }
        if !checkRecords {
            return try quickCheck(file: file, header: header, sizeBytes: size, result: result, failed: failed)
        }
        switch try scanSegment(file: file, name: name, header: header, headerBytes: headerBytes, sizeBytes: size,
                               allowTornTail: false) {
        case .failed(let offset, let problem):
            return failed(offset, problem)
        case .passed(let check):
            result.recordCount = check.nextOffset - header.baseOffset
            result.lastOffset = result.recordCount == 0 ? nil : check.nextOffset - 1
            result.firstTimestampMs = check.firstTimestampMs
            result.lastTimestampMs = check.lastTimestampMs
            result.chainOut = check.chainOut
            guard let digest = check.fileDigest else { return failed(check.nextOffset, "segment is not sealed") }
            result.sha256 = digest
            result.sealed = true
            return result
        }
    }

    /// The `checkRecords: false` path of `verifySegment`.
    private static func quickCheck(file: FileDescriptor, header: SegmentHeader, sizeBytes size: Int64, result: SegmentVerification,
                                   failed: (UInt64, String) -> SegmentVerification) throws(EventLogError) -> SegmentVerification {
        let base = header.baseOffset
        let footerSize = Int64(RecordFrame.headerSizeBytes + RecordFrame.footerBodySizeBytes)
        guard size >= Int64(SegmentHeader.sizeBytes) + footerSize else { return failed(base, "segment is not sealed") }
        let footerPosition = size - footerSize
        let footerBytes = try systemCall { try file.read(count: Int(footerSize), at: footerPosition) }
        guard case .footer(let footer, _) = footerBytes.withUnsafeBytes({ RecordFrame.parse($0) }) else {
            return failed(base, "segment is not sealed")
        }
        let (beforeFooter, whole) = try digests(of: file, footerPosition: footerPosition, sizeBytes: size)
        guard beforeFooter == footer.segmentDigest else { return failed(base, "segment SHA-256 does not match its footer") }
        var result = result
        result.recordCount = footer.recordCount
        result.lastOffset = footer.recordCount == 0 ? nil : footer.lastOffset
        result.chainOut = footer.lastChain
        if footer.recordCount > 0 {
            guard footer.lastOffset == base + footer.recordCount - 1 else {
                return failed(base, "footer counts \(footer.recordCount) records up to \(footer.lastOffset)")
            }
            var scanner = SegmentScanner(file: file, position: Int64(SegmentHeader.sizeBytes))
            guard case .event(let first, _, _) = try scanner.next(), first.offset == base else {
                return failed(base, "first record is missing or misplaced")
            }
            result.firstTimestampMs = first.timestampMs
            // The last record, from the last index entry when the index is there.
            let directory = file.path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
            let index = try SegmentIndex.load(path: directory + "/" + SegmentName.index(baseOffset: base),
                                              segmentSizeBytes: size, baseOffset: base)
            scanner.seek(to: index.entries.last?.position ?? Int64(SegmentHeader.sizeBytes))
            var last = first
            while case .event(let record, _, _) = try scanner.next() { last = record }
            guard last.offset == footer.lastOffset, last.chainHash == footer.lastChain else {
                return failed(footer.lastOffset, "last record does not match the footer")
            }
            result.lastTimestampMs = last.timestampMs
        }
        result.sha256 = whole
        result.sealed = true
        return result
    }
}
