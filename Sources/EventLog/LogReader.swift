import SystemIO
/// Reads events in offset order from any position, across segment rolls, from this process or
/// another one (no lock). It never returns a record that is incomplete or fails its CRC; when it
/// reaches what is written so far, `next()` returns nil and can be called again later.
public struct LogReader: Sendable {
    /// Where reading starts.
    public enum Start: Sendable, Equatable {
        /// The oldest retained event.
        case beginning
        /// The event at this offset (or the oldest retained one, if it is older).
        case offset(UInt64)
        /// The first event appended at or after this time, in ms since 1970.
        case time(Int64)
        /// After the last event written so far.
        case end
    }

    public let directory: String
    private let limit: (@Sendable () -> UInt64)?
    /// The writer's active segment and its durable size (`EventLog.makeReader`): that segment is read
    /// no further than the size, so a reader at the head never copies the zero-filled space ahead.
    private let activeExtent: (@Sendable () -> ActiveExtent)?
    private var segmentBase: UInt64?
    private var scanner: SegmentScanner?
    /// Offset of the next event this reader will return.
    public private(set) var nextOffset: UInt64 = 0
    private var minimumTimestampMs: Int64?
    private var retriedInvalid = false
    /// The segment being read is behind the writer's active one (`activeExtent` named a later base; the active
    /// base only grows): it is sealed and read to its end without taking the writer's lock again.
    private var readingSealedSegment = false
    /// Where a frame read bad at the end of the last segment, as a torn tail (a reader without a durable bound):
    /// while the frame there still reads bad, the segment is still the last (the writer completes a frame
    /// before it seals the segment and creates the next), so the directory is not listed again at each call.
    private var tornTail: (base: UInt64, position: Int64)?

    /// Positions a reader in `directory` at `start`.
    /// - Parameter limit: when given, offsets at or above its value are not read (the durable head).
    public init(directory: String, start: Start, limit: (@Sendable () -> UInt64)? = nil) throws(EventLogError) {
        try self.init(directory: directory, start: start, limit: limit, activeExtent: nil)
    }

    init(directory: String, start: Start, limit: (@Sendable () -> UInt64)?,
         activeExtent: (@Sendable () -> ActiveExtent)?) throws(EventLogError) {
        self.directory = directory
        self.limit = limit
        self.activeExtent = activeExtent
        let bases = try SegmentCatalog.baseOffsets(directory: directory)
        guard let firstBase = bases.first else { return }
        switch start {
        case .beginning:
            try open(base: firstBase, at: firstBase)
        case .offset(let offset):
            let target = max(offset, firstBase)
            let base = bases.last(where: { $0 <= target }) ?? firstBase
            try open(base: base, at: target)
        case .end:
            let base = bases[bases.count - 1]
            try open(base: base, at: UInt64.max)
            while try next() != nil {}
        case .time(let timestampMs):
            minimumTimestampMs = timestampMs
            // Binary search for the last segment whose first record is before `timestampMs`.
            var low = 0
            var high = bases.count
            while low < high {
                let middle = (low + high) / 2
                if let first = try firstTimestamp(base: bases[middle]), first < timestampMs {
                    low = middle + 1
                } else {
                    high = middle
                }
            }
            let segmentIndex = max(0, low - 1)
            try open(base: bases[segmentIndex], at: bases[segmentIndex], timeMs: timestampMs)
        }
    }

    private func firstTimestamp(base: UInt64) throws(EventLogError) -> Int64? {
        guard let file = try systemCall({ try FileDescriptor.openIfExists(directory + "/" + SegmentName.log(baseOffset: base)) }) else { return nil }
        var scanner = SegmentScanner(file: file, position: Int64(SegmentHeader.sizeBytes))
        if case .event(let record, _, _) = try scanner.next() { return record.timestampMs }
        return nil
    }

    /// Opens segment `base` and positions at the index entry before `offset` (or before `timeMs`).
    private mutating func open(base: UInt64, at offset: UInt64, timeMs: Int64? = nil) throws(EventLogError) {
        let name = SegmentName.log(baseOffset: base)
        guard let file = try systemCall({ try FileDescriptor.openIfExists(directory + "/" + name) }) else {
            throw .corruptSegment(segment: name, reason: "missing")
        }
        let header = try SegmentHeader.decode(try systemCall { try file.read(count: SegmentHeader.sizeBytes, at: 0) }, segment: name)
        let index = try SegmentIndex.load(path: directory + "/" + SegmentName.index(baseOffset: base),
                                          segmentSizeBytes: try systemCall { try file.size() }, baseOffset: base)
        let entry = timeMs.map { index.entry(before: $0) } ?? index.entry(atOrBefore: offset)
        var scanner = SegmentScanner(file: file, position: entry?.position ?? Int64(SegmentHeader.sizeBytes))
        var start = entry?.offset ?? header.baseOffset
        if let entry {
            // Check the entry: a damaged index only costs a scan from the segment's start.
            if case .event(let record, _, _) = try scanner.next(), record.offset == entry.offset {
                scanner.seek(to: entry.position)
            } else {
                scanner.seek(to: Int64(SegmentHeader.sizeBytes))
                start = header.baseOffset
            }
        }
        self.scanner = scanner
        segmentBase = base
        readingSealedSegment = false
        nextOffset = start
        // Skip to `offset`.
        if timeMs == nil && offset > start {
            while nextOffset < offset, try nextRecord() != nil {}
        }
    }

    /// The next event, or nil when everything written so far (up to the limit) has been read.
    /// - Throws: `.corruptRecord` when a complete record fails its checks.
    public mutating func next() throws(EventLogError) -> EventRecord? {
        while let record = try nextRecord() {
            if let minimum = minimumTimestampMs {
                if record.timestampMs < minimum { continue }
                minimumTimestampMs = nil
            }
            return record
        }
        return nil
    }

    private mutating func nextRecord() throws(EventLogError) -> EventRecord? {
        if segmentBase == nil {
            // The directory was empty when the reader was made.
            guard let first = try SegmentCatalog.baseOffsets(directory: directory).first else { return nil }
            try open(base: first, at: first)
        }
        while true {
            if let limit, nextOffset >= limit() { return nil }
            guard var current = scanner, let base = segmentBase else { return nil }
            if !readingSealedSegment, let activeExtent {
                let extent = activeExtent()
                current.endBytes = extent.baseOffset == base ? extent.sizeBytes : nil
                readingSealedSegment = extent.baseOffset > base
            }
            let step = try current.next()
            scanner = current
            switch step {
            case .event(let record, let position, _):
                guard record.offset == nextOffset else {
                    throw .corruptRecord(segment: SegmentName.log(baseOffset: base), position: position,
                                         expectedOffset: nextOffset, reason: "found offset \(record.offset)")
                }
                retriedInvalid = false
                tornTail = nil
                nextOffset += 1
                return record
            case .footer(_, let footerPosition, _):
                let bases = try SegmentCatalog.baseOffsets(directory: directory)
                guard let following = bases.first(where: { $0 > base }) else {
                    // The writer seals a segment before it creates the next one: read the footer again later.
                    scanner?.seek(to: footerPosition)
                    return nil
                }
                guard following == nextOffset else {
                    throw .corruptSegment(segment: SegmentName.log(baseOffset: following),
                                          reason: "starts at offset \(following), expected \(nextOffset)")
                }
                try open(base: following, at: following)
            case .end, .unwritten:
                return nil
            case .invalid(let position, let reason):
                // A writer that restarted may have cut and rewritten the tail we buffered: read it again once.
                if !retriedInvalid {
                    retriedInvalid = true
                    scanner = SegmentScanner(file: current.file, position: position)
                    continue
                }
                // Read without a durable bound (another process, or this one through the public init): the writer may be copying this frame into its
                // zero-filled space right now (its header in, the rest still zeros). While only zeros follow
                // the end its length names, it is not written yet: read it again at the next call.
                // Only in the last segment: a sealed one is never written again, so a bad frame there is damage.
                if limit == nil, activeExtent == nil, try isLastSegment(base, tornAt: position),
                   try Recovery.isTornTail(file: current.file, position: position, fileSize: systemCall { try current.file.size() }) {
                    tornTail = (base, position)
                    scanner = SegmentScanner(file: current.file, position: position)
                    return nil
                }
                throw .corruptRecord(segment: SegmentName.log(baseOffset: base), position: position,
                                     expectedOffset: nextOffset, reason: reason)
            }
        }
    }

    /// Whether `base` is the last segment in the directory, for a bad frame at `position` in it: listed, unless
    /// the same frame read as a torn tail of the last segment before (`tornTail`).
    private func isLastSegment(_ base: UInt64, tornAt position: Int64) throws(EventLogError) -> Bool {
        if let tornTail, tornTail.base == base, tornTail.position == position { return true }
        return try SegmentCatalog.baseOffsets(directory: directory).last == base
    }
}
