import EventLog
import Foundation

/// Where a data directory's parts live: `--data-dir`, else `ARGUS_DATA_DIR`, else `./argus-data`.
struct DataDirectory {
    static let valueFlag = "--data-dir"

    let root: String

    init(_ arguments: Arguments) {
        root = arguments.value(Self.valueFlag) ?? ProcessInfo.processInfo.environment["ARGUS_DATA_DIR"] ?? "./argus-data"
    }

    /// Segments and indexes.
    var log: String { root + "/log" }
    /// Delivery cursors.
    var cursors: String { root + "/cursors" }

    /// Fails with a clear message when the directory holds no log.
    func requireLog() throws -> String {
        guard FileManager.default.fileExists(atPath: log) else {
            throw UsageError("no event log at \(root) (use --data-dir or ARGUS_DATA_DIR)")
        }
        return log
    }
}
