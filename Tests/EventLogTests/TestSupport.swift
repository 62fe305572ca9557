import ArgusTestSupport
import Foundation
@testable import EventLog

/// A fresh directory under /tmp for one test; removed when the value is deinitialised.
final class TemporaryDirectory: Sendable {
    let path: String

    init(_ label: String = #function) {
        let name = label.filter { $0.isLetter || $0.isNumber }
        path = NSTemporaryDirectory() + "argus-test-\(name)-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// A path inside this directory.
    func appending(_ component: String) -> String { path + "/" + component }
}

enum TestSupport {
    /// A deterministic event with a recognisable payload.
    static func event(_ number: Int, organization: String = "org_1", type: String = "user.created") -> NewEvent {
        NewEvent(organizationID: organization, type: type, eventID: "evt_\(number)",
                 data: Array("{\"n\":\(number),\"pad\":\"\(String(repeating: "x", count: number % 50))\"}".utf8))
    }

    /// Options with small segments so tests roll often.
    static func options(segmentSizeBytes: Int = 64 * 1024, fsync: FsyncPolicy = .none) -> EventLogOptions {
        var options = EventLogOptions()
        options.segmentSizeBytesMax = segmentSizeBytes
        options.fsyncPolicy = fsync
        options.indexIntervalBytes = 1024
        return options
    }

    /// Every record from `start`, read with a fresh reader.
    static func readAll(_ directory: String, from start: LogReader.Start = .beginning) throws -> [EventRecord] {
        var reader = try LogReader(directory: directory, start: start)
        var records: [EventRecord] = []
        while let record = try reader.next() { records.append(record) }
        return records
    }

    /// A built executable of this package (the tests run from the same build directory).
    static func product(_ name: String) -> String { BuiltProduct.path(name) }

    /// Runs `executable` with `arguments` (killed after 120 s); returns exit status (-1 when it was
    /// killed at the deadline), stdout and stderr. The child cannot outlive the test process.
    static func run(_ executable: String, _ arguments: [String], stdin: [UInt8] = []) throws -> (Int32, String, String) {
        let result = try ChildProcess.run(executable, arguments, standardInput: stdin)
        return (result.status ?? -1, result.output, result.errors)
    }

    /// Removes the index of segment `baseOffset` in `directory` (as a crash before it was synced can lose it:
    /// recovery and readers then scan the segment from its start).
    static func removeIndex(in directory: TemporaryDirectory, baseOffset: UInt64 = 0) throws {
        try FileManager.default.removeItem(atPath: directory.appending(SegmentName.index(baseOffset: baseOffset)))
    }

    /// Frames of a segment file: (position, size) for each record or footer after the header.
    static func frames(of path: String) throws -> [(position: Int, size: Int)] {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var frames: [(Int, Int)] = []
        var position = SegmentHeader.sizeBytes
        while position + 8 <= bytes.count {
            let length = Int(bytes[position]) | Int(bytes[position + 1]) << 8 | Int(bytes[position + 2]) << 16
                | Int(bytes[position + 3]) << 24
            frames.append((position, 8 + length))
            position += 8 + length
        }
        return frames
    }
}
