/// A small structured logger: each entry is a level, a message and metadata, written as one JSON
/// line (`{"level":"info","message":"...",...}`) escaped once by the JSON encoder, so a quote or a
/// newline in a message or an error never breaks the line. Passed in (configuration values carry
/// one), never global; `Logger.discarding` drops everything.
public struct Logger: Sendable {
    /// How serious an entry is.
    public enum Level: String, Sendable, Comparable, CaseIterable {
        case debug, info, warning, error

        public static func < (lhs: Level, rhs: Level) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }
    }

    /// Entries below this level are dropped.
    package var minimumLevel: Level
    /// Members written into every entry after `level` (such as `component`).
    public var metadata: [(String, JSONValue)]
    private let sink: @Sendable (String) -> Void

    /// A logger that hands each line (without a newline) to `sink`.
    public init(minimumLevel: Level = .info, metadata: [(String, JSONValue)] = [], sink: @escaping @Sendable (String) -> Void) {
        self.minimumLevel = minimumLevel
        self.metadata = metadata
        self.sink = sink
    }

    /// Drops every entry.
    public static let discarding = Logger(minimumLevel: .error, sink: { _ in })

    /// This logger with `metadata` added to every entry.
    public func with(_ metadata: (String, JSONValue)...) -> Logger {
        var copy = self
        copy.metadata += metadata
        return copy
    }

    /// Writes one entry: `level`, the logger's metadata, `message`, then `metadata`.
    public func log(_ level: Level, _ message: String, _ metadata: [(String, JSONValue)] = []) {
        guard level >= minimumLevel else { return }
        sink(JSONValue.object([("level", .string(level.rawValue))] + self.metadata + [("message", .string(message))] + metadata).text)
    }

    public func info(_ message: String, _ metadata: [(String, JSONValue)] = []) { log(.info, message, metadata) }
    public func warning(_ message: String, _ metadata: [(String, JSONValue)] = []) { log(.warning, message, metadata) }
    public func error(_ message: String, _ metadata: [(String, JSONValue)] = []) { log(.error, message, metadata) }
}
