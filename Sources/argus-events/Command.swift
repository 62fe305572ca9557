/// One `argus-events` subcommand.
protocol Command: Sendable {
    /// The word that selects it, such as `tail`.
    static var name: String { get }
    /// One line of usage, shown by `argus-events help`.
    static var usage: String { get }
    /// Runs with the words after the command name; returns the exit code (0 ok, 1 failure found).
    /// Throws `UsageError` for exit code 2; any other error is printed and exits 1.
    static func run(_ words: [String]) async throws -> Int32
}
