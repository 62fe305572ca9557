import EventLog
import Synchronization

/// The compliance archive followed by the local log, as one `EventSource` for every reader of the
/// service: offsets the local log still holds are read locally; older ones (which retention removed
/// after a verified upload) are fetched from the archive through the bounded `SegmentCache`, each
/// segment verified against its manifest entry before use, in order and densely across the boundary.
///
/// Chain continuity is checked where segments meet: an archived segment continues the previous entry's
/// chain-out, and the first local segment continues the chain-out of the entry it follows.
/// Failures are never skipped: an unreadable or damaged archive is `.archiveUnavailable` (retry), and
/// offsets neither store holds are `.eventsUnavailable` with the earliest available offset after them.
public final class ArchivedEventSource: EventSource {
    /// The local log (and the durable head).
    public let log: EventLog
    /// Where archived segments are fetched to, and the archive they come from.
    public let cache: SegmentCache
    private let manifest = Mutex<ArchiveManifest?>(nil)
    /// Segment boundaries whose chain continuity was checked, by the base offset after the boundary.
    private let checkedBoundaries = Mutex<Set<UInt64>>([])
    private let readers = ReaderPool<LogReader>(capacity: EventLogLimits.pooledReaderCountMax)

    /// A source over `log` and the archive of `cache`. Nothing is contacted until a read needs it.
    public init(log: EventLog, cache: SegmentCache) {
        self.log = log
        self.cache = cache
    }

    public var nextOffset: UInt64 { log.nextOffset }

    public func read(from offset: UInt64, countMax: Int) async throws(EventSourceError) -> [EventRecord] {
        do throws(EventSourceError) {
            return try await log.read(from: offset, countMax: countMax)
        } catch .eventsUnavailable(_, let localFirst) {
            return try await readArchived(from: offset, countMax: countMax, localFirst: localFirst ?? log.nextOffset)
        }
    }

    public func firstOffset(atOrAfterTimeMs timestampMs: Int64) async throws(EventSourceError) -> UInt64 {
        do throws(EventSourceError) {
            return try await log.firstOffset(atOrAfterTimeMs: timestampMs)
        } catch .eventsUnavailable(let offset, let localFirst) {
            let manifest = try await loadManifest(at: offset, reload: false)
            let entry = try await archive(at: offset) { () async throws(ArchiveError) in try await manifest.firstEntry(endingAtOrAfter: timestampMs) }
            guard let entry else {
                // Everything archived is older: the answer is the local log's first event, unless events between are gone.
                guard let lastBase = manifest.baseOffsets.last else { throw .eventsUnavailable(offset: offset, earliestAvailableOffset: localFirst) }
                let last = try await archive(at: offset) { () async throws(ArchiveError) in try await manifest.entry(baseOffset: lastBase) }
                let first = localFirst ?? nextOffset
                guard last.nextOffset >= first else { throw .eventsUnavailable(offset: last.nextOffset, earliestAvailableOffset: first) }
                return first
            }
            var start = entry.baseOffset
            while true {
                let records = try await read(from: start, countMax: 256)
                guard !records.isEmpty else { return nextOffset }
                if let hit = records.first(where: { $0.timestampMs >= timestampMs }) { return hit.offset }
                start = records[records.count - 1].offset + 1
            }
        }
    }

    /// Reads archived offsets below `localFirst`, within one archived segment per call.
    private func readArchived(from offset: UInt64, countMax: Int, localFirst: UInt64) async throws(EventSourceError) -> [EventRecord] {
        var manifest = try await loadManifest(at: offset, reload: false)
        var found = try await archive(at: offset) { () async throws(ArchiveError) in try await manifest.entry(containing: offset) }
        if found == nil {
            // The archive may have grown since it was listed.
            manifest = try await loadManifest(at: offset, reload: true)
            found = try await archive(at: offset) { () async throws(ArchiveError) in try await manifest.entry(containing: offset) }
        }
        guard let entry = found else {
            let next = manifest.baseOffsets.first(where: { $0 > offset }).map { min($0, localFirst) } ?? localFirst
            throw .eventsUnavailable(offset: offset, earliestAvailableOffset: next)
        }
        try await checkContinuity(of: entry, manifest: manifest, localFirst: localFirst)
        let directory = try await archive(at: offset) { () async throws(ArchiveError) in try await cache.segmentDirectory(for: entry) }
        let readers = readers
        return try await BlockingIO.run { () throws(EventSourceError) in
            do {
                var reader = try readers.take(at: offset) ?? LogReader(directory: directory, start: .offset(offset))
                var records: [EventRecord] = []
                let wanted = Int(min(UInt64(countMax), entry.nextOffset - offset))
                while records.count < wanted, let record = try reader.next() { records.append(record) }
                guard records.first?.offset == offset, records.count == wanted else {
                    throw EventLogError.corruptSegment(segment: entry.segmentKey, reason: "offset \(offset) not found in the verified copy")
                }
                if reader.nextOffset < entry.nextOffset { readers.put(reader, at: reader.nextOffset) }
                return records
            } catch {
                throw .archiveUnavailable(offset: offset, reason: "reading the cached copy of \(entry.segmentKey): \(error)")
            }
        }
    }

    /// Checks that `entry` continues the previous archived segment, and that the local log continues
    /// `entry` when it starts right after it. Each boundary is checked once.
    private func checkContinuity(of entry: ArchiveManifestEntry, manifest: ArchiveManifest, localFirst: UInt64) async throws(EventSourceError) {
        if entry.baseOffset > 0, !checkedBoundaries.withLock({ $0.contains(entry.baseOffset) }),
           let previousBase = manifest.baseOffsets.last(where: { $0 < entry.baseOffset }) {
            let previous = try await archive(at: entry.baseOffset) { () async throws(ArchiveError) in try await manifest.entry(baseOffset: previousBase) }
            guard previous.nextOffset == entry.baseOffset, previous.chainOut == entry.chainIn else {
                throw .archiveUnavailable(offset: entry.baseOffset, reason: "manifest entry \(entry.manifestKey) does not continue \(previous.manifestKey) (offsets or hash chain)")
            }
            checkedBoundaries.withLock { _ = $0.insert(entry.baseOffset) }
        }
        guard entry.nextOffset == localFirst, !checkedBoundaries.withLock({ $0.contains(localFirst) }) else { return }
        let directory = log.directory
        let header = await BlockingIO.run { () -> SegmentHeader? in try? SegmentCatalog.header(directory: directory, baseOffset: localFirst) }
        // A segment retention removed meanwhile is checked when a read reaches its successor.
        guard let header else { return }
        guard header.chainIn == entry.chainOut else {
            throw .archiveUnavailable(offset: localFirst, reason: "local segment \(SegmentName.log(baseOffset: localFirst)) does not continue the archive's hash chain (\(entry.manifestKey))")
        }
        checkedBoundaries.withLock { _ = $0.insert(localFirst) }
    }

    /// The archive's manifest, listed on first use and again when `reload` asks.
    private func loadManifest(at offset: UInt64, reload: Bool) async throws(EventSourceError) -> ArchiveManifest {
        if !reload, let loaded = manifest.withLock({ $0 }) { return loaded }
        let target = cache.target
        let loaded = try await archive(at: offset) { () async throws(ArchiveError) in try await ArchiveManifest.load(target: target) }
        manifest.withLock { $0 = loaded }
        return loaded
    }

    /// Runs an archive operation, reporting its failure as `.archiveUnavailable` at `offset` (or at the
    /// failure's own offset, such as the first bad record of a damaged segment).
    private func archive<T>(at offset: UInt64, _ body: () async throws(ArchiveError) -> T) async throws(EventSourceError) -> T {
        do {
            return try await body()
        } catch {
            throw .archiveUnavailable(offset: error.offset ?? offset, reason: error.description)
        }
    }
}
