import Archive
import EventLog
import Foundation
import Service

/// Where `tail` reads from: the local log, or archived segments (fetched into
/// `<data-dir>/archive-cache`) followed by the local log when the start lies before the oldest
/// local segment. The archive is the one named by `--archive`, else the last target `archive` used
/// on this data directory; it is contacted only when the local log no longer holds the start.
enum TailSource {
    case local(LogReader)
    case archived(ArchivedLogReader)
    /// `--engine`: the engine's stream.
    case engine(EngineTailReader)

    /// Opens a source at `start`.
    static func open(dataDirectory: DataDirectory, start: LogReader.Start, arguments: Arguments) async throws -> TailSource {
        let directory = dataDirectory.log
        guard try needsArchive(directory: directory, start: start) else {
            return .local(try LogReader(directory: directory, start: start))
        }
        let target: any ArchiveTarget
        if let url = arguments.value("--archive") {
            target = try ArchiveTargetArguments.make(url: url, arguments: arguments)
        } else if let saved = try ArchiveTargetArguments.saved(layout: dataDirectory.layout) {
            target = saved
        } else {
            return .local(try LogReader(directory: directory, start: start))
        }
        let manifest = try await ArchiveManifest.load(target: target)
        let cache = SegmentCache(directory: dataDirectory.layout.archiveCache, target: target)
        return .archived(try await ArchivedLogReader(manifest: manifest, cache: cache, localDirectory: directory, start: start))
    }

    /// True when the local log cannot serve `start` because retention removed what it asks for.
    private static func needsArchive(directory: String, start: LogReader.Start) throws -> Bool {
        let bases = try SegmentCatalog.baseOffsets(directory: directory)
        guard let first = bases.first else { return start != .end }
        switch start {
        case .end: return false
        case .beginning: return first > 0
        case .offset(let offset): return offset < first
        case .time(let timestampMs):
            guard first > 0 else { return false }
            let summary = try SegmentCatalog.summaries(directory: directory).first
            return (summary?.firstTimestampMs ?? .max) > timestampMs
        }
    }

    /// The next event, or nil when everything written so far has been read.
    mutating func next() async throws -> EventRecord? {
        switch self {
        case .local(var reader):
            let record = try reader.next()
            self = .local(reader)
            return record
        case .archived(var reader):
            let record = try await reader.next()
            self = .archived(reader)
            return record
        case .engine(var reader):
            let record = try await reader.next()
            self = .engine(reader)
            return record
        }
    }
}
