import Archive
import EventLog
import JSON

/// Archives sealed segments in the background (every interval, with exponential backoff after a
/// failure), then applies local retention, which deletes a segment only when its archived copy is
/// verified and every webhook's cursor has passed it (`ArgusService.consumersFloor`).
///
/// `adoptsOnly` (`serve --engine` processes that are not the sealer): uploads nothing and publishes no
/// checkpoint; each run only records the local sealed segments whose records the archive's manifest already
/// holds (same record count and chain hashes) and applies the same retention to them.
struct BackgroundArchiver: Sendable {
    let service: ArgusService
    let settings: ArgusServer.Archiving
    var adoptsOnly = false

    /// Longest wait after repeated failures, in seconds.
    static let backoffSecondsMax = 900.0


    /// Runs until the task is cancelled. The `Archiver` does its file reads and state writes on
    /// `BlockingIO`; retention runs there too.
    func run() async {
        let layout = service.configuration.layout
        let logger = service.configuration.logger.with(("component", .string("archive")))
        let target = settings.target
        var delaySeconds = settings.intervalSeconds
        while !Task.isCancelled {
            do {
                let summary = try await Archiver(logDirectory: layout.log, stateDirectory: layout.archiveState, target: target,
                                                 adoptsOnly: adoptsOnly).run()
                if summary.uploadedSegments > 0 {
                    logger.info("archived \(summary.uploadedSegments) segments up to offset \(summary.lastOffset ?? 0) to \(target.location)")
                }
                if !adoptsOnly {
                    // The hash tiles and the checkpoint of what the archive holds.
                    let archivedSize = try await BlockingIO.run { () throws(ArchiveError) in
                        try ArchiveState.load(directory: layout.archiveState).archivedSize(target: target.location)
                    }
                    _ = try await service.transparency.publish(to: target, treeSize: archivedSize)
                }
                // Deleting segments and reading the archive state block: off the cooperative pool.
                let archiver = self
                try await BlockingIO.run { () throws in try archiver.applyRetention(stateDirectory: layout.archiveState, logger: logger) }
                delaySeconds = settings.intervalSeconds
            } catch {
                delaySeconds = min(Self.backoffSecondsMax, delaySeconds * 2)
                logger.error("archiving to \(target.location) failed: \(error); next try in \(Int(delaySeconds)) s")
            }
            try? await Task.sleep(nanoseconds: UInt64(delaySeconds * 1e9))
        }
    }

    private func applyRetention(stateDirectory: String, logger: Logger) throws {
        guard let retention = settings.retention else { return }
        let gate = try ArchiveState.load(directory: stateDirectory).retentionGate
        // The hash tiles cannot be rebuilt without the events retention deletes: they are made durable
        // first, and nothing above the size they are durable at goes.
        let tilesDurableSize = try service.transparency.tiles.synchronize()
        let deleted = try service.log.applyRetention(retention, consumersFloor: min(service.consumersFloor, tilesDurableSize), mayDelete: gate)
        if !deleted.isEmpty {
            logger.info("retention deleted \(deleted.count) archived segments from offset \(deleted[0])")
        }
    }
}
