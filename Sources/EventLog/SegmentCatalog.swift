import SystemIO
/// What is known about the segments of a log directory without a lock: names, headers, footers.
public enum SegmentCatalog {
    /// Base offsets of every segment file in `directory`, ascending.
    public static func baseOffsets(directory: String) throws(EventLogError) -> [UInt64] {
        try systemCall { try FileSystem.names(in: directory) }.compactMap(SegmentName.baseOffset(ofLogFile:)).sorted()
    }

    /// The footer of a sealed segment, or nil when the segment is not sealed.
    public static func footer(directory: String, baseOffset: UInt64) throws(EventLogError) -> SegmentFooter? {
        let path = directory + "/" + SegmentName.log(baseOffset: baseOffset)
        guard let file = try systemCall({ try FileDescriptor.openIfExists(path) }) else { return nil }
        let size = try systemCall { try file.size() }
        let footerSize = Int64(RecordFrame.headerSizeBytes + RecordFrame.footerBodySizeBytes)
        guard size >= Int64(SegmentHeader.sizeBytes) + footerSize else { return nil }
        let bytes = try systemCall { try file.read(count: Int(footerSize), at: size - footerSize) }
        let parsed = bytes.withUnsafeBytes { RecordFrame.parse($0) }
        if case .footer(let footer, _) = parsed { return footer }
        return nil
    }

    /// The header of a segment.
    public static func header(directory: String, baseOffset: UInt64) throws(EventLogError) -> SegmentHeader {
        let name = SegmentName.log(baseOffset: baseOffset)
        guard let file = try systemCall({ try FileDescriptor.openIfExists(directory + "/" + name) }) else {
            throw .corruptSegment(segment: name, reason: "missing")
        }
        return try SegmentHeader.decode(try systemCall { try file.read(count: SegmentHeader.sizeBytes, at: 0) }, segment: name)
    }

    /// A summary row for `argus-events segments`.
    public struct Summary: Sendable {
        public var baseOffset: UInt64
        /// Offset of the last record, nil for an empty segment.
        public var lastOffset: UInt64?
        public var recordCount: UInt64
        public var sizeBytes: Int64
        package var createdMs: Int64
        /// Time of the first and the last record, in ms, nil for an empty segment.
        public var firstTimestampMs: Int64?
        public var lastTimestampMs: Int64?
        public var sealed: Bool
    }

    /// Summarises every segment. Sealed segments cost two small reads; the active one is scanned.
    public static func summaries(directory: String) throws(EventLogError) -> [Summary] {
        var rows: [Summary] = []
        for base in try baseOffsets(directory: directory) {
            let name = SegmentName.log(baseOffset: base)
            guard let file = try systemCall({ try FileDescriptor.openIfExists(directory + "/" + name) }) else { continue }
            let size = try systemCall { try file.size() }
            let header = try SegmentHeader.decode(try systemCall { try file.read(count: SegmentHeader.sizeBytes, at: 0) }, segment: name)
            var scanner = SegmentScanner(file: file, position: Int64(SegmentHeader.sizeBytes))
            var first: EventRecord?
            if case .event(let record, _, _) = try scanner.next() { first = record }
            if let footer = try footer(directory: directory, baseOffset: base) {
                let last = try lastRecord(directory: directory, baseOffset: base, fileSize: size)
                rows.append(Summary(baseOffset: base, lastOffset: footer.lastOffset, recordCount: footer.recordCount,
                                    sizeBytes: size, createdMs: header.createdMs, firstTimestampMs: first?.timestampMs,
                                    lastTimestampMs: last?.timestampMs, sealed: true))
            } else {
                var last = first
                var count: UInt64 = first == nil ? 0 : 1
                scanLoop: while true {
                    switch try scanner.next() {
                    case .event(let record, _, _):
                        last = record
                        count += 1
                    default: break scanLoop
                    }
                }
                // Up to the last record: the writer's zero-filled space after it holds nothing.
                rows.append(Summary(baseOffset: base, lastOffset: last?.offset, recordCount: count, sizeBytes: min(size, scanner.position),
                                    createdMs: header.createdMs, firstTimestampMs: first?.timestampMs,
                                    lastTimestampMs: last?.timestampMs, sealed: false))
            }
        }
        return rows
    }

    /// The last record of a sealed segment, found through its index.
    static func lastRecord(directory: String, baseOffset: UInt64, fileSize: Int64) throws(EventLogError) -> EventRecord? {
        let name = SegmentName.log(baseOffset: baseOffset)
        guard let file = try systemCall({ try FileDescriptor.openIfExists(directory + "/" + name) }) else { return nil }
        let index = try SegmentIndex.load(path: directory + "/" + SegmentName.index(baseOffset: baseOffset),
                                          segmentSizeBytes: fileSize, baseOffset: baseOffset)
        var scanner = SegmentScanner(file: file, position: index.entries.last?.position ?? Int64(SegmentHeader.sizeBytes))
        var last: EventRecord?
        while case .event(let record, _, _) = try scanner.next() { last = record }
        return last
    }
}
