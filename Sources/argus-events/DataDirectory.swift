import Foundation
import Service

/// The data directory an offline command works on: `--data-dir`, else `ARGUS_DATA_DIR`, else `./argus-data`.
struct DataDirectory {
    static let valueFlag = "--data-dir"

    /// Its paths.
    let layout: DataLayout
    /// The directory itself.
    var root: String { layout.root }
    /// Segments and indexes.
    var log: String { layout.log }

    init(_ arguments: Arguments) {
        layout = DataLayout(root: arguments.value(Self.valueFlag) ?? ProcessInfo.processInfo.environment["ARGUS_DATA_DIR"] ?? "./argus-data")
    }

    /// Fails with a clear message when the directory holds no log.
    func requireLog() throws -> String {
        guard FileManager.default.fileExists(atPath: log) else {
            throw UsageError("no event log at \(root) (use --data-dir or ARGUS_DATA_DIR)")
        }
        return log
    }
}
