/// A hash tile that is missing or does not hold what it should (the tiles are derived data:
/// `MerkleTileStore` rebuilds them from the log).
public struct MerkleTileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file concerned.
    public let path: String
    /// What is wrong with it.
    public let reason: String

    package init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "Merkle tile \(path): \(reason)" }
}
