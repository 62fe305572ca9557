import Foundation
import Service

/// `argus-events prove`: an inclusion proof (`--offset N [--tree-size M]`) or a consistency proof
/// (`--from M --tree-size N`) as one JSON object. Sizes beyond the log are usage errors (exit 2).
struct ProveCommand: Command {
    static let name = "prove"
    static let usage = "prove [--data-dir D] --offset N [--tree-size M] | --from M --tree-size N"

    static func run(_ words: [String]) async throws -> Int32 {
        let arguments = try Arguments(words, valueFlags: ["--data-dir", "--offset", "--from", "--tree-size"])
        let dataDirectory = DataDirectory(arguments)
        _ = try dataDirectory.requireLog()
        let offset = try number(arguments, "--offset")
        let from = try number(arguments, "--from")
        let treeSize = try number(arguments, "--tree-size")
        guard (offset == nil) != (from == nil) else { throw UsageError("use --offset N or --from M --tree-size N") }
        let transparency = try TransparencyLog(layout: dataDirectory.layout)
        do {
            if let offset {
                Console.print(try transparency.inclusionProofLine(offset: offset, treeSize: treeSize))
            } else {
                guard let from, let treeSize else { throw UsageError("--from needs --tree-size") }
                Console.print(try transparency.consistencyProofLine(from: from, to: treeSize))
            }
        } catch let error as TransparencyLog.ProofBoundsError {
            throw UsageError(error.description)
        }
        return 0
    }

    /// A non-negative decimal flag value, bounded by UInt64.
    static func number(_ arguments: Arguments, _ flag: String) throws(UsageError) -> UInt64? {
        guard let text = arguments.value(flag) else { return nil }
        guard let value = UInt64(text) else { throw UsageError("\(flag) must be a number from 0 to \(UInt64.max)") }
        return value
    }
}
