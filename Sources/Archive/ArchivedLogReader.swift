import EventLog

/// Reads the log in offset order across the archive and the local log: archived segments (fetched
/// through a `SegmentCache`) for offsets whose local segments retention removed, then the local log
/// from its first segment on. Offsets held both locally and in the archive are read locally.
public struct ArchivedLogReader {
    private enum Source {
        case archived(ArchiveManifestEntry, LogReader)
        case local(LogReader)
    }

    /// The archive's manifest.
    public let manifest: ArchiveManifest
    /// Where archived segments are fetched to.
    public let cache: SegmentCache
    /// The local log directory (`<data-dir>/log`).
    public let localDirectory: String
    private var source: Source

    /// Offset of the next event this reader returns.
    public var nextOffset: UInt64 {
        switch source {
        case .archived(_, let reader), .local(let reader): return reader.nextOffset
        }
    }

    /// True while the reader is in archived segments.
    package var isReadingArchive: Bool {
        if case .archived = source { return true }
        return false
    }

    /// Positions a reader at `start`. `.beginning` is the oldest archived event when the archive
    /// reaches further back than the local log; `.end` is the local log's end.
    /// - Throws: `ArchiveError` or `EventLogError`.
    public init(manifest: ArchiveManifest, cache: SegmentCache, localDirectory: String, start: LogReader.Start) async throws {
        self.manifest = manifest
        self.cache = cache
        self.localDirectory = localDirectory
        let localFirst = try SegmentCatalog.baseOffsets(directory: localDirectory).first
        var archived: (ArchiveManifestEntry, LogReader.Start)?
        switch start {
        case .end:
            break
        case .beginning:
            if let first = manifest.baseOffsets.first, localFirst.map({ first < $0 }) ?? true {
                archived = (try await manifest.entry(baseOffset: first), .beginning)
            }
        case .offset(let offset):
            if localFirst.map({ offset < $0 }) ?? true {
                if let entry = try await manifest.entry(containing: offset) {
                    archived = (entry, .offset(offset))
                } else if let first = manifest.baseOffsets.first, offset < first {
                    archived = (try await manifest.entry(baseOffset: first), .beginning)
                }
            }
        case .time(let timestampMs):
            if let entry = try await manifest.firstEntry(endingAtOrAfter: timestampMs),
               localFirst.map({ entry.baseOffset < $0 }) ?? true {
                archived = (entry, .time(timestampMs))
            }
        }
        if let (entry, position) = archived {
            let directory = try await cache.segmentDirectory(for: entry)
            source = .archived(entry, try LogReader(directory: directory, start: position))
        } else {
            source = .local(try LogReader(directory: localDirectory, start: start))
        }
    }

    /// The next event, or nil when everything written so far has been read (call again to follow).
    /// - Throws: `EventLogError` for damaged records; `ArchiveError` when an archived segment cannot be
    ///   fetched, or when offsets are neither archived nor local.
    public mutating func next() async throws -> EventRecord? {
        while true {
            switch source {
            case .local(var reader):
                let record = try reader.next()
                source = .local(reader)
                return record
            case .archived(let entry, var reader):
                if let record = try reader.next() {
                    source = .archived(entry, reader)
                    return record
                }
                let next = reader.nextOffset
                guard next == entry.nextOffset else {
                    throw ArchiveError(.integrity, key: entry.segmentKey, "archived segment ends at offset \(next), manifest says \(entry.nextOffset)")
                }
                let localFirst = try SegmentCatalog.baseOffsets(directory: localDirectory).first
                if let localFirst, next >= localFirst {
                    source = .local(try LogReader(directory: localDirectory, start: .offset(next)))
                } else if manifest.baseOffsets.contains(next) {
                    let following = try await manifest.entry(baseOffset: next)
                    let directory = try await cache.segmentDirectory(for: following)
                    source = .archived(following, try LogReader(directory: directory, start: .offset(next)))
                } else if let localFirst {
                    throw ArchiveError(.integrity, "offsets \(next)..<\(localFirst) are neither archived nor in the local log")
                } else {
                    source = .local(try LogReader(directory: localDirectory, start: .offset(next)))
                    return nil
                }
            }
        }
    }
}
