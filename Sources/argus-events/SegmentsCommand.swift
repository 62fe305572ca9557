import Archive
import EventLog
import Foundation

/// `argus-events segments`: one row per segment.
struct SegmentsCommand: Command {
    static let name = "segments"
    static let usage = "segments " + ListingArguments.usage

    static func run(_ words: [String]) async throws -> Int32 {
        let listing = try ListingArguments(words)
        let dataDirectory = listing.dataDirectory
        let rows = try SegmentCatalog.summaries(directory: try dataDirectory.requireLog())
        // ARCHIVED: uploaded and verified on an archive target, from the local archive state.
        let state = try ArchiveState.load(directory: dataDirectory.layout.archiveState)
        func archived(_ base: UInt64) -> Bool { state.isArchivedAndVerified(baseOffset: base) }
        func time(_ ms: Int64?) -> String { ms.map { Timestamp.format(ms: $0) } ?? "-" }
        listing.print(rows, header: ["BASE", "LAST", "RECORDS", "BYTES", "FIRST TIME", "LAST TIME", "SEALED", "ARCHIVED"], cells: { row in
            [String(row.baseOffset), row.lastOffset.map(String.init) ?? "-", String(row.recordCount), String(row.sizeBytes),
             time(row.firstTimestampMs), time(row.lastTimestampMs), row.sealed ? "yes" : "no", archived(row.baseOffset) ? "yes" : "no"]
        }, jsonLine: { row in row.jsonLine(archived: archived(row.baseOffset)) })
        return 0
    }
}
