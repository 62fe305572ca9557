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
    static func product(_ name: String) -> String {
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = runner.deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return FileManager.default.currentDirectoryPath + "/.build/debug/" + name
    }

    /// Runs `executable` with `arguments`; returns exit status, stdout and stderr.
    static func run(_ executable: String, _ arguments: [String], stdin: [UInt8] = []) throws -> (Int32, String, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        let input = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = input
        try process.run()
        input.fileHandleForWriting.write(Data(stdin))
        try input.fileHandleForWriting.close()
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        let errData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
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
