/// One `argus-bench` suite, such as `crypto`; later `log`, `api`, `deliver`, `archive`.
protocol Benchmark: Sendable {
    /// The word that selects it.
    static var name: String { get }
    /// One line for the suite list.
    static var summary: String { get }
    /// Options, shown after a usage error.
    static var usage: String { get }
    /// Runs with the words after the suite name; returns the exit code.
    static func run(_ words: [String]) async throws -> Int32
}

/// A mistake in a suite's options; exit code 2.
struct BenchmarkUsageError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
