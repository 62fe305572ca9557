import Archive
import EventLog
import Foundation
import JSON
import Service

/// `serve --archive-target ...`: archives sealed segments in the background (every interval, with
/// exponential backoff after a failure), then applies local retention, which deletes a segment only
/// when its archived copy is verified and every webhook's cursor has passed it.
struct BackgroundArchiver: Sendable {
    let service: ArgusService
    let logDirectory: String
    let stateDirectory: String
    let target: any ArchiveTarget
    let intervalSeconds: Double
    let retention: RetentionPolicy?

    /// Longest wait after repeated failures, in seconds.
    static let backoffSecondsMax = 900.0

    static func log(_ level: String, _ message: String) {
        Console.error(JSONValue.object([("level", .string(level)), ("component", .string("archive")), ("message", .string(message))]).text)
    }

    func start() -> Task<Void, Never> {
        Task.detached {
            var delaySeconds = intervalSeconds
            while !Task.isCancelled {
                do {
                    let summary = try await Archiver(logDirectory: logDirectory, stateDirectory: stateDirectory, target: target).run()
                    if summary.uploadedSegments > 0 {
                        Self.log("info", "archived \(summary.uploadedSegments) segments up to offset \(summary.lastOffset ?? 0) to \(target.location)")
                    }
                    try applyRetention()
                    delaySeconds = intervalSeconds
                } catch {
                    delaySeconds = min(Self.backoffSecondsMax, delaySeconds * 2)
                    Self.log("error", "archiving to \(target.location) failed: \(error); next try in \(Int(delaySeconds)) s")
                }
                try? await Task.sleep(nanoseconds: UInt64(delaySeconds * 1e9))
            }
        }
    }

    private func applyRetention() throws {
        guard let retention else { return }
        let webhooks = service.webhooks.all()
        let floor = webhooks.map { service.cursors.offset(of: $0.id) ?? $0.startOffset }.min() ?? service.log.nextOffset
        let gate = try ArchiveState.load(directory: stateDirectory).retentionGate
        let deleted = try service.log.applyRetention(retention, consumersFloor: floor, mayDelete: gate)
        if !deleted.isEmpty {
            Self.log("info", "retention deleted \(deleted.count) archived segments from offset \(deleted[0])")
        }
    }
}
