import Foundation

/// Executables of this package, found beside the running test bundle (`swift test` builds them into
/// the same directory).
public enum BuiltProduct {
    /// The path of the executable product `name` (for example `argus-events`).
    public static func path(_ name: String) -> String {
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = runner.deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return FileManager.default.currentDirectoryPath + "/.build/debug/" + name
    }

    /// The `argus-events` executable.
    public static var argusEvents: String { path("argus-events") }
}
