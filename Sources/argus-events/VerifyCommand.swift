import Archive
import EventLog
import Foundation
import Service

/// `argus-events verify`: checks every CRC, the hash chain, footers and indexes; with `--archive`, also the
/// archive (manifest, digests, records, chain) and its continuity into the local log. Exit 1 names the
/// first bad offset.
struct VerifyCommand: Command {
    static let name = "verify"
    static let usage = "verify [--data-dir D] [--archive TARGET [--s3-endpoint URL] [--region R] [--vkey VKEY]] | [--data-dir D] --checkpoint FILE"

    static func run(_ words: [String]) async throws -> Int32 {
        let arguments = try Arguments(words, valueFlags: ArchiveTargetArguments.valueFlags.union(["--data-dir", "--archive", "--checkpoint", "--vkey"]))
        let dataDirectory = DataDirectory(arguments)
        if let file = arguments.value("--checkpoint") {
            return try verifyCheckpoint(file: file, dataDirectory: dataDirectory)
        }
        let showProgress = Console.standardErrorIsTerminal
        func show(_ label: String) -> @Sendable (Int64, Int64) -> Void {
            { done, total in
                guard showProgress, total > 0 else { return }
                FileHandle.standardError.write(Data("\r\(label): \(done * 100 / total)% (\(done >> 20) of \(total >> 20) MiB)".utf8))
            }
        }
        if let url = arguments.value("--archive") {
            let target = try ArchiveTargetArguments.make(url: url, arguments: arguments)
            let local = FileManager.default.fileExists(atPath: dataDirectory.log) ? dataDirectory.log : nil
            let report = try await ArchiveVerifier.verify(target: target, localLogDirectory: local, progress: show("verifying archive"))
            if showProgress { FileHandle.standardError.write(Data("\n".utf8)) }
            if let failed = printNotesAndFailure(report.summary, notes: report.summary.notes + (report.local?.summary.notes ?? [])) {
                return failed
            }
            let range = report.firstOffset.map { "offsets \($0)..<\(report.nextOffset ?? $0)" } ?? "empty"
            var line = "ok: archive \(target.location): \(counts(report.summary)), \(report.summary.sizeBytes) bytes (\(range))"
            if let localReport = report.local {
                line += "; local: \(counts(localReport.summary)), chain head \(localReport.lastChainHex)"
            }
            Console.print(line)
            return try await verifyArchiveTransparency(target: target, arguments: arguments, dataDirectory: dataDirectory)
        }
        let directory = try dataDirectory.requireLog()
        let report = try LogVerifier.verify(directory: directory, progress: show("verifying"))
        if showProgress { FileHandle.standardError.write(Data("\n".utf8)) }
        if let failed = printNotesAndFailure(report.summary, notes: report.summary.notes) { return failed }
        Console.print("ok: \(counts(report.summary)), \(report.summary.sizeBytes) bytes; chain head \(report.lastChainHex)")
        return try verifyTransparency(dataDirectory: dataDirectory)
    }

    /// Prints `notes` on standard error, then `summary`'s problem as `FAILED at offset N: problem`.
    /// - Returns: exit code 1 when there is a problem, nil when the summary is intact.
    static func printNotesAndFailure(_ summary: VerificationSummary, notes: [String]) -> Int32? {
        for note in notes { Console.error("note: \(note)") }
        guard let offset = summary.firstBadOffset, let problem = summary.problem else { return nil }
        Console.print("FAILED at offset \(offset): \(problem)")
        return 1
    }

    /// `N records in M segments`.
    static func counts(_ summary: VerificationSummary) -> String {
        "\(summary.recordCount) records in \(summary.segmentCount) segments"
    }

    /// The derived transparency data: every hash tile and the stored checkpoint against the log.
    /// Exit 1 when a tile is damaged or missing (the next checkpoint or proof rebuilds them) or the
    /// stored checkpoint does not verify or disagrees with the log.
    static func verifyTransparency(dataDirectory: DataDirectory) throws -> Int32 {
        let layout = dataDirectory.layout
        // Without a key there are no checkpoints and no tiles yet (they come with the first `checkpoint` or `serve`).
        guard FileManager.default.fileExists(atPath: layout.checkpointKey) else {
            Console.print("ok: no checkpoint key yet, so no tiles or checkpoints to check")
            return 0
        }
        let audit: TransparencyLog.Audit
        do {
            audit = try TransparencyLog(layout: layout).audit()
        } catch let error as EventLogError {
            if case .offsetOutOfRange = error {
                Console.error("note: tiles not checked: the local log no longer starts at offset 0 (older segments were retained away): \(error)")
                return 0
            }
            throw error
        }
        for problem in audit.problems { Console.print("FAILED: \(problem)") }
        guard audit.problems.isEmpty else { return 1 }
        var line = "ok: the hash tiles match the log (\(audit.tiles.checkedTileCount) checked, tree size \(audit.tiles.treeSize))"
        if let checkpoint = audit.checkpoint {
            line += "; the checkpoint at size \(checkpoint.treeSize) is signed by \(checkpoint.origin) and matches the log"
        }
        Console.print(line)
        return 0
    }

    /// The archive as a transparency log: its checkpoint (signed by `--vkey`, or by the data directory's
    /// key when there is one) and every hash tile of its size against the archived events. Exit 1 names
    /// each missing or different tile.
    static func verifyArchiveTransparency(target: any ArchiveTarget, arguments: Arguments, dataDirectory: DataDirectory) async throws -> Int32 {
        let scratch = NSTemporaryDirectory() + "argus-verify-tiles-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let audit: ArchiveTransparencyAudit.Report
        do {
            audit = try await ArchiveTransparencyAudit.audit(target: target, verifierKey: arguments.value("--vkey"),
                                                             layout: dataDirectory.layout, scratchDirectory: scratch)
        } catch let error as TransparencyLog.VerifierKeyError {
            throw UsageError("--vkey: \(error)")
        }
        for note in audit.notes { Console.error("note: \(note)") }
        guard audit.problems.isEmpty else {
            for problem in audit.problems { Console.print("FAILED: archive \(problem)") }
            return 1
        }
        if let checkpoint = audit.checkpoint {
            Console.print("ok: the archive's checkpoint at size \(checkpoint.treeSize) "
                + (audit.signatureChecked ? "is signed by \(checkpoint.origin)" : "(signature not checked)")
                + " and its \(audit.checkedTileCount) hash tiles match the archived events")
        }
        return 0
    }

    /// `verify --checkpoint FILE`: 0 when FILE is a checkpoint signed by this log's key and the log
    /// still holds that tree; 1 otherwise (naming why).
    static func verifyCheckpoint(file: String, dataDirectory: DataDirectory) throws -> Int32 {
        _ = try dataDirectory.requireLog()
        guard let data = FileManager.default.contents(atPath: file), data.count <= TransparencyLog.noteSizeBytesMax else {
            throw UsageError("cannot read a checkpoint (at most \(TransparencyLog.noteSizeBytesMax) bytes) from \(file)")
        }
        let transparency = try TransparencyLog(layout: dataDirectory.layout)
        switch try transparency.checkResult(note: String(decoding: data, as: UTF8.self)) {
        case .holds(let checkpoint, let size):
            Console.print("ok: the log (\(size) events) holds the checkpoint of \(checkpoint.origin) at size \(checkpoint.treeSize)")
            return 0
        case .refused(let reason):
            Console.print("FAILED: \(reason)")
            return 1
        }
    }
}
