import Crypto
import EventLog
import Foundation

/// `argus-events verify`: checks every CRC, the hash chain, footers and indexes; exit 1 names the first bad offset.
struct VerifyCommand: Command {
    static let name = "verify"
    static let usage = "verify [--data-dir D]"

    static func run(_ words: [String]) async throws -> Int32 {
        let arguments = try Arguments(words, valueFlags: ["--data-dir"])
        guard arguments.positionals.isEmpty else { throw UsageError("unexpected argument \(arguments.positionals[0])") }
        let directory = try DataDirectory(arguments).requireLog()
        let showProgress = Console.standardErrorIsTerminal
        let report = try LogVerifier.verify(directory: directory) { done, total in
            guard showProgress, total > 0 else { return }
            FileHandle.standardError.write(Data("\rverifying: \(done * 100 / total)% (\(done >> 20) of \(total >> 20) MiB)".utf8))
        }
        if showProgress { FileHandle.standardError.write(Data("\n".utf8)) }
        for note in report.notes { Console.error("note: \(note)") }
        if let offset = report.firstBadOffset, let problem = report.problem {
            Console.print("FAILED at offset \(offset): \(problem)")
            return 1
        }
        Console.print("ok: \(report.recordCount) records in \(report.segmentCount) segments, \(report.sizeBytes) bytes; chain head \(Hex.encode(report.lastChain))")
        return 0
    }
}
