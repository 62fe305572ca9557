import Crypto
import Foundation
import Synchronization
@testable import Archive
import EventLog

/// A fresh directory under /tmp for one test; removed when the value is deinitialised.
final class TemporaryDirectory: Sendable {
    let path: String

    init(_ label: String = #function) {
        let name = label.filter { $0.isLetter || $0.isNumber }
        path = NSTemporaryDirectory() + "argus-archive-test-\(name)-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func appending(_ component: String) -> String { path + "/" + component }
}

/// A data directory with a log of small segments: `log/`, `archive/` state, an archive target directory.
struct ArchiveFixture {
    let temporary: TemporaryDirectory
    var dataDirectory: String { temporary.appending("data") }
    var logDirectory: String { dataDirectory + "/log" }
    var stateDirectory: String { ArchiveState.directory(dataDirectory: dataDirectory) }
    var archiveRoot: String { temporary.appending("archive") }
    var target: DirectoryTarget { DirectoryTarget(root: archiveRoot) }

    /// Writes `count` events into 4 KiB segments (several records each), leaving the last segment active.
    init(count: Int = 300, segmentSizeBytes: Int = 4096, _ label: String = #function) throws {
        temporary = TemporaryDirectory(label)
        try append(count: count, segmentSizeBytes: segmentSizeBytes)
    }

    func append(count: Int, from start: Int = 0, segmentSizeBytes: Int = 4096) throws {
        var options = EventLogOptions()
        options.segmentSizeBytesMax = segmentSizeBytes
        options.fsyncPolicy = .none
        options.indexIntervalBytes = 1024
        let log = try EventLog(directory: logDirectory, options: options)
        defer { log.close() }
        var batch: [NewEvent] = []
        for number in start..<(start + count) {
            batch.append(NewEvent(organizationID: "org_\(number % 3)", type: "user.created", eventID: "evt_\(number)",
                                  data: Array("{\"n\":\(number),\"pad\":\"\(String(repeating: "x", count: number % 40))\"}".utf8)))
            if batch.count == 7 {
                _ = try log.appendAndWait(batch: batch)
                batch = []
            }
        }
        if !batch.isEmpty { _ = try log.appendAndWait(batch: batch) }
    }

    /// Base offsets of sealed local segments.
    func sealedBases() throws -> [UInt64] {
        try SegmentCatalog.baseOffsets(directory: logDirectory).filter {
            try SegmentCatalog.footer(directory: logDirectory, baseOffset: $0) != nil
        }
    }

    func archiver(target: (any ArchiveTarget)? = nil) -> Archiver {
        Archiver(logDirectory: logDirectory, stateDirectory: stateDirectory, target: target ?? self.target)
    }

    /// Path of an archived object.
    func object(_ key: String) -> String { archiveRoot + "/" + key }

    /// Another copy of this log (as another `serve --engine` process writes it): the same records (offsets,
    /// times, contents) in groups cut the same way, written later (segment headers carry their own creation
    /// time). `changing`: the offset of a record whose data the copy replaces with `{}`, for a forged copy.
    func copy(_ label: String, changing changed: UInt64? = nil) throws -> ArchiveFixture {
        let records = try TestLog.readAll(logDirectory)
        let fixture = try ArchiveFixture(count: 0, label)
        var options = EventLogOptions()
        options.segmentSizeBytesMax = 4096
        options.fsyncPolicy = .none
        let log = try EventLog(directory: fixture.logDirectory, options: options)
        defer { log.close() }
        Thread.sleep(forTimeInterval: 0.01)  // another creation time (ms) in the copy's segment headers
        for start in stride(from: 0, to: records.count, by: 7) {
            var batch: [NewEvent] = []
            for record in records[start..<min(records.count, start + 7)] {
                let data: [UInt8] = changed == record.offset ? Array("{}".utf8) : record.data
                batch.append(NewEvent(organizationID: record.organizationID, type: record.type, eventID: record.eventID, data: data,
                                      timestampMs: record.timestampMs))
            }
            _ = try log.appendAndWait(batch: batch)
        }
        return fixture
    }
}

/// A target wrapper that counts calls and fails chosen operations, to simulate interrupted runs.
final class FaultyTarget: ArchiveTarget, Sendable {
    let inner: any ArchiveTarget
    /// Fails `put` of keys for which it returns true.
    let failPut: @Sendable (String) -> Bool
    private let counts = Mutex<[String: Int]>([:])

    init(_ inner: any ArchiveTarget, failPut: @escaping @Sendable (String) -> Bool = { _ in false }) {
        self.inner = inner
        self.failPut = failPut
    }

    var location: String { inner.location }

    /// How many puts went to keys under `prefix`.
    func putCount(_ prefix: String) -> Int { counts.withLock { $0.filter { $0.key.hasPrefix(prefix) }.values.reduce(0, +) } }

    func put(key: String, body: Data, sha256: [UInt8]) async throws(ArchiveError) {
        if failPut(key) { throw ArchiveError(.network, key: key, "simulated failure") }
        counts.withLock { $0[key, default: 0] += 1 }
        try await inner.put(key: key, body: body, sha256: sha256)
    }

    func get(key: String) async throws(ArchiveError) -> Data? { try await inner.get(key: key) }
    func list(prefix: String) async throws(ArchiveError) -> [ArchiveObjectInfo] { try await inner.list(prefix: prefix) }
    func head(key: String) async throws(ArchiveError) -> ArchiveObjectInfo? { try await inner.head(key: key) }
}

/// Frames of a segment file after its header: (position, size).
func frames(of path: String) throws -> [(position: Int, size: Int)] {
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    var found: [(Int, Int)] = []
    var position = 72
    while position + 8 <= bytes.count {
        let length = Int(bytes[position]) | Int(bytes[position + 1]) << 8 | Int(bytes[position + 2]) << 16 | Int(bytes[position + 3]) << 24
        found.append((position, 8 + length))
        position += 8 + length
    }
    return found
}
