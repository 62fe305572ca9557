import Archive
import EventLog
import Foundation
import Service

/// `argus-events archive`: uploads sealed segments not yet archived, with a manifest entry each,
/// verifying every object after upload, then the hash tiles and signed checkpoint of what the archive
/// holds (`TransparencyLog.publish`). Never deletes anything.
struct ArchiveCommand: Command {
    static let name = "archive"
    static let usage = "archive [--data-dir D] --target file:///DIR | s3://BUCKET/PREFIX [--s3-endpoint URL] [--region R] [--object-lock-days N]"

    static func run(_ words: [String]) async throws -> Int32 {
        let arguments = try Arguments(words, valueFlags: ArchiveTargetArguments.valueFlags.union(["--data-dir", "--target", "--object-lock-days"]))
        let dataDirectory = DataDirectory(arguments)
        let logDirectory = try dataDirectory.requireLog()
        let url = try arguments.required("--target")
        let lockDays = try arguments.integer("--object-lock-days", in: 1...36_500)
        let target = try ArchiveTargetArguments.make(url: url, arguments: arguments, objectLockDays: lockDays)
        let stateDirectory = dataDirectory.layout.archiveState
        try ArchiveState.load(directory: stateDirectory).saveTargetSettings(ArchiveTargetArguments.settings(url: url, arguments: arguments))

        let showProgress = Console.standardErrorIsTerminal
        let archiver = Archiver(logDirectory: logDirectory, stateDirectory: stateDirectory, target: target)
        let summary = try await archiver.run { progress in
            guard showProgress, progress.bytesTotal > 0 else { return }
            let width = 30
            let filled = Int(progress.bytesDone * Int64(width) / progress.bytesTotal)
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            FileHandle.standardError.write(Data(("\r[\(bar)] \(progress.bytesDone * 100 / progress.bytesTotal)% "
                + "\(progress.segmentsDone)/\(progress.segmentsTotal) segments, "
                + "\(progress.bytesDone >> 20) of \(progress.bytesTotal >> 20) MiB").utf8))
        }
        if showProgress && summary.uploadedSegments + summary.resumedSegments > 0 { FileHandle.standardError.write(Data("\n".utf8)) }
        let megabytesPerSecond = summary.seconds > 0 ? Double(summary.uploadedBytes) / 1e6 / summary.seconds : 0
        var line: String
        if summary.uploadedSegments == 0 {
            line = "nothing new to archive to \(target.location)"
        } else {
            line = "archived \(summary.uploadedSegments) segments (offsets \(summary.firstOffset ?? 0)..\(summary.lastOffset ?? 0), "
                + "\(summary.uploadedBytes) bytes) to \(target.location) in \(String(format: "%.2f", summary.seconds)) s "
                + "(\(String(format: "%.1f", megabytesPerSecond)) MB/s)"
        }
        line += "; \(summary.alreadyArchived) already archived"
        if summary.resumedSegments > 0 { line += ", \(summary.resumedSegments) resumed from an interrupted run" }
        line += "; the active segment is archived once sealed; nothing deleted"
        Console.print(line)
        // The archive as a transparency log: hash tiles and the checkpoint of exactly what it holds.
        let archivedSize = try ArchiveState.load(directory: stateDirectory).archivedSize(target: target.location)
        let publication = try await TransparencyLog(layout: dataDirectory.layout).publish(to: target, treeSize: archivedSize)
        if publication.treeSize > 0 {
            Console.print(publication.alreadyThere
                ? "the archive's checkpoint already covers its \(publication.treeSize) events"
                : "checkpoint of the archive's \(publication.treeSize) events and \(publication.uploadedTileCount) hash tiles uploaded")
        }
        return 0
    }
}
