/// The local log as an `EventSource`: reads below its first retained segment are `.eventsUnavailable`
/// (the archive, when there is one, is `ArchivedEventSource`'s business). Reads run on the blocking-I/O
/// queue, never in the cooperative pool, and continue pooled readers where the last read stopped.
extension EventLog: EventSource {
    /// Offset of the oldest event the local log still holds (the first segment's base; `nextOffset`
    /// when there is no segment).
    /// - Throws: `EventLogError.system` when the directory cannot be listed.
    public func firstRetainedOffset() throws(EventLogError) -> UInt64 {
        try SegmentCatalog.baseOffsets(directory: directory).first ?? nextOffset
    }

    public func read(from offset: UInt64, countMax: Int) async throws(EventSourceError) -> [EventRecord] {
        precondition(countMax > 0, "countMax must be positive")
        guard offset < nextOffset else { return [] }
        return try await BlockingIO.run { () throws(EventSourceError) in try self.readBlocking(from: offset, countMax: countMax) }
    }

    /// The blocking form of `read(from:countMax:)`, for callers already on a thread of their own.
    public func readBlocking(from offset: UInt64, countMax: Int) throws(EventSourceError) -> [EventRecord] {
        var reader: LogReader
        if let pooled = readers.take(at: offset) {
            reader = pooled
        } else {
            let first = try Self.local { () throws(EventLogError) in try firstRetainedOffset() }
            guard offset >= first else { throw .eventsUnavailable(offset: offset, earliestAvailableOffset: first) }
            reader = try Self.local { () throws(EventLogError) in try makeReader(from: .offset(offset)) }
            // Retention removed the segment between the listing and the open.
            guard reader.nextOffset == offset else { throw .eventsUnavailable(offset: offset, earliestAvailableOffset: reader.nextOffset) }
        }
        var records: [EventRecord] = []
        while records.count < countMax, let record = try Self.local({ () throws(EventLogError) in try reader.next() }) {
            records.append(record)
        }
        readers.put(reader, at: reader.nextOffset)
        return records
    }

    public func firstOffset(atOrAfterTimeMs timestampMs: Int64) async throws(EventSourceError) -> UInt64 {
        try await BlockingIO.run { () throws(EventSourceError) in
            let first = try Self.local { () throws(EventLogError) in try self.firstRetainedOffset() }
            let oldest = try Self.local { () throws(EventLogError) in
                var reader = try self.makeReader(from: .offset(first))
                return try reader.next()
            }
            if first > 0, let oldest, oldest.timestampMs > timestampMs {
                // Events before the first retained one, no longer held, may have been appended after `timestampMs`.
                throw .eventsUnavailable(offset: first - 1, earliestAvailableOffset: first)
            }
            return try Self.local { () throws(EventLogError) in
                var reader = try self.makeReader(from: .time(timestampMs))
                return try reader.next()?.offset ?? self.nextOffset
            }
        }
    }

    /// Runs a local read, reporting its failure as `.log`.
    private static func local<T>(_ body: () throws(EventLogError) -> T) throws(EventSourceError) -> T {
        do { return try body() } catch { throw .log(error) }
    }
}
