import Foundation
import Service

/// `argus-events checkpoint`: prints the latest signed checkpoint (signing one for the current size
/// when the log grew), or with `--vkey` the verifier key.
struct CheckpointCommand: Command {
    static let name = "checkpoint"
    static let usage = "checkpoint [--data-dir D] [--vkey] [--origin O]"

    static func run(_ words: [String]) async throws -> Int32 {
        let arguments = try Arguments(words, valueFlags: ["--data-dir", "--origin"], switchFlags: ["--vkey": "--vkey"])
        let dataDirectory = DataDirectory(arguments)
        _ = try dataDirectory.requireLog()
        let transparency = try TransparencyLog(layout: dataDirectory.layout, origin: arguments.value("--origin"))
        if arguments.isSet("--vkey") {
            Console.print(transparency.verifierKey)
        } else {
            FileHandle.standardOutput.write(Data(try transparency.latestCheckpoint().utf8))
        }
        return 0
    }
}
