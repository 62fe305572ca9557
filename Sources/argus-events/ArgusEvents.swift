import Foundation
import Service

/// Entry point: picks the subcommand and maps errors to exit codes (0 ok, 1 failure, 2 usage).
@main
enum ArgusEvents {
    /// Every subcommand; add new ones here.
    static let commands: [any Command.Type] = [
        ServeCommand.self,
        ClientsCommand.self,
        PublishCommand.self,
        TailCommand.self,
        VerifyCommand.self,
        SegmentsCommand.self,
        CursorsCommand.self,
        ArchiveCommand.self,
        SignCommand.self,
        VerifySignatureCommand.self,
        CheckpointCommand.self,
        ProveCommand.self,
    ]

    /// Subcommands for test tools, left out of the usage text.
    static let hiddenCommands: [any Command.Type] = [Ed25519BatchCommand.self, DeliveryWorkerCommand.self]

    static func main() async {
        // Data directories hold secrets, tokens and tenants' events: everything this process creates
        // is for its owner only (directories 0700, files 0600).
        umask(0o077)
        // A test (or any parent) that holds our standard input asks us to die with it; serve's own
        // server process gets the same rule from its supervisor (ServeCommand).
        if ParentWatch.isRequested && !Supervisor.isChild { ParentWatch.start(parent: "parent process") }
        let words = Array(CommandLine.arguments.dropFirst())
        guard let name = words.first, name != "help", name != "--help", name != "-h" else {
            printUsage(to: words.isEmpty ? .standardError : .standardOutput)
            exit(words.isEmpty ? 2 : 0)
        }
        guard let command = (commands + hiddenCommands).first(where: { $0.name == name }) else {
            Console.error("argus-events: unknown command '\(name)'")
            printUsage(to: .standardError)
            exit(2)
        }
        do {
            exit(try await command.run(Array(words.dropFirst())))
        } catch let error as UsageError {
            Console.error("argus-events \(name): \(error.description)")
            Console.error("usage: argus-events \(command.usage)")
            exit(2)
        } catch {
            Console.error("argus-events \(name): \(error)")
            exit(1)
        }
    }

    static func printUsage(to handle: FileHandle) {
        var text = "usage: argus-events <command> [options]\n\ncommands:\n"
        for command in commands { text += "  \(command.usage)\n" }
        handle.write(Data(text.utf8))
    }
}
