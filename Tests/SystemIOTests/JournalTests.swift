import Foundation
import Glibc
import Synchronization
import SystemIO
import Testing

@Suite struct JournalTests {
    static func record(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func appendedRecordsComeBackInOrderAfterReopen() throws {
        let directory = TemporaryDirectory()
        let path = directory.appending("j.journal")
        do {
            let (journal, records) = try Journal.open(path: path, durability: .synchronizeEachAppend, recordSizeBytesMax: 64)
            #expect(records.isEmpty)
            try journal.append(Self.record("a"))
            try journal.append([Self.record("bb"), Self.record(""), Self.record("ccc")])
            #expect(journal.recordCount == 4)
        }
        let (reopened, records) = try Journal.open(path: path, durability: .none, recordSizeBytesMax: 64)
        #expect(records == ["a", "bb", "", "ccc"].map(Self.record))
        #expect(try Journal.read(path: path, recordSizeBytesMax: 64) == records)
        #expect(try FileSystem.contents(of: path)?.starts(with: Journal.magic) == true)
        try reopened.append(Self.record("d"))
        #expect(try Journal.read(path: path, recordSizeBytesMax: 64).last == Self.record("d"))
    }

    @Test func aTornTailIsCutOffAndLaterAppendsFollowTheLastGoodRecord() throws {
        let directory = TemporaryDirectory()
        let path = directory.appending("j.journal")
        do {
            let (journal, _) = try Journal.open(path: path, durability: .none, recordSizeBytesMax: 64)
            try journal.append([Self.record("one"), Self.record("two")])
        }
        var bytes = try #require(try FileSystem.contents(of: path))
        bytes.removeLast(2)
        try FileSystem.writeAtomically(bytes, to: path)
        #expect(try Journal.read(path: path, recordSizeBytesMax: 64) == [Self.record("one")])
        do {
            let (journal, records) = try Journal.open(path: path, durability: .none, recordSizeBytesMax: 64)
            #expect(records == [Self.record("one")])
            try journal.append(Self.record("three"))
        }
        // A flipped byte ends reading there (CRC), as a torn tail does.
        #expect(try Journal.read(path: path, recordSizeBytesMax: 64) == ["one", "three"].map(Self.record))
        var flipped = try #require(try FileSystem.contents(of: path))
        flipped[flipped.count - 1] ^= 0xFF
        try FileSystem.writeAtomically(flipped, to: path)
        #expect(try Journal.read(path: path, recordSizeBytesMax: 64) == [Self.record("one")])
    }

    @Test func recordsOverTheLimitAreRefusedAndNothingIsWritten() throws {
        let directory = TemporaryDirectory()
        let path = directory.appending("j.journal")
        let (journal, _) = try Journal.open(path: path, durability: .none, recordSizeBytesMax: 4)
        #expect(throws: SystemError.self) { try journal.append([Self.record("ok"), Self.record("too long")]) }
        try journal.append(Self.record("four"))
        #expect(try Journal.read(path: path, recordSizeBytesMax: 4) == [Self.record("four")])
    }

    @Test func replaceCompactsOnlineAndAppendsContinue() throws {
        let directory = TemporaryDirectory()
        let path = directory.appending("j.journal")
        let (journal, _) = try Journal.open(path: path, durability: .synchronizeEachAppend, recordSizeBytesMax: 64)
        for index in 0..<100 { try journal.append(Self.record("r\(index)")) }
        let before = journal.sizeBytes
        try journal.replace(with: [Self.record("live")])
        #expect(journal.sizeBytes < before && journal.recordCount == 1)
        try journal.append(Self.record("after"))
        #expect(try Journal.read(path: path, recordSizeBytesMax: 64) == ["live", "after"].map(Self.record))
        #expect(try FileSystem.names(in: directory.path).filter { $0.contains(".tmp") }.isEmpty)
    }

    /// A compaction whose directory fsync fails after the rename: appends go to the new file (the one
    /// at the path), and a synchronised append acknowledges nothing until the directory sync succeeds.
    @Test func aFailedDirectorySyncAfterCompactionNeitherStrandsAppendsNorAcknowledgesThemEarly() throws {
        let directory = TemporaryDirectory()
        let path = directory.appending("j.journal")
        let (journal, _) = try Journal.open(path: path, durability: .synchronizeEachAppend, recordSizeBytesMax: 64)
        let kept = try journal.append([Self.record("old"), Self.record("keep")])[1]
        let failing = Mutex(true)
        journal.synchronizeDirectory = { (path) throws(SystemError) in
            if failing.withLock({ $0 }) { throw SystemError(call: "fsync", path: path, errno: EIO) }
            try FileSystem.synchronizeDirectory(path)
        }
        let moved = try journal.compact(keeping: [kept])
        #expect(try journal.record(at: moved[0]) == Self.record("keep"))
        #expect(throws: SystemError.self) { try journal.append(Self.record("early")) }
        #expect(try Journal.read(path: path, recordSizeBytesMax: 64) == [Self.record("keep")], "nothing acknowledged, nothing kept")
        failing.withLock { $0 = false }
        try journal.append(Self.record("late"))
        #expect(try Journal.read(path: path, recordSizeBytesMax: 64) == [Self.record("keep"), Self.record("late")])
    }

    @Test func aLegacyFileIsDecodedOnceAndRewrittenInTheJournalFormat() throws {
        let directory = TemporaryDirectory()
        let path = directory.appending("legacy.journal")
        try FileSystem.writeAtomically(Self.record("x\ny\n"), to: path)
        let lines: @Sendable ([UInt8]) -> [[UInt8]] = { bytes in bytes.split(separator: UInt8(ascii: "\n")).map(Array.init) }
        #expect(try Journal.read(path: path, recordSizeBytesMax: 64, legacy: lines) == ["x", "y"].map(Self.record))
        let (journal, records) = try Journal.open(path: path, durability: .none, recordSizeBytesMax: 64, legacy: lines)
        #expect(records == ["x", "y"].map(Self.record))
        try journal.append(Self.record("z"))
        #expect(try FileSystem.contents(of: path)?.starts(with: Journal.magic) == true)
        // Now in the new format: the legacy decoder is not consulted again.
        let (_, again) = try Journal.open(path: path, durability: .none, recordSizeBytesMax: 64, legacy: { _ in [] })
        #expect(again == ["x", "y", "z"].map(Self.record))
    }

    /// `forEachRecord` reads a chunk at a time (records larger than a chunk and records across chunks included)
    /// and gives the same records and locations as a whole read, stopping at a torn tail; `compact(count:)`
    /// writes what its producer makes, reading the old records meanwhile.
    @Test func recordsAreReadAChunkAtATimeAndCompactedFromAProducer() throws {
        let directory = TemporaryDirectory()
        let path = directory.appending("j.journal")
        let bodies = (0..<40).map { number in [UInt8](repeating: UInt8(number), count: (number * 37) % 300) }
        let (journal, _) = try Journal.open(path: path, durability: .none, recordSizeBytesMax: 1024)
        let locations = try journal.append(bodies)
        for chunk in [16, 64, 1 << 20] {
            var seen: [(Journal.Location, [UInt8])] = []
            try Journal.forEachRecord(path: path, recordSizeBytesMax: 1024, chunkSizeBytes: chunk) { seen.append(($0, $1)) }
            #expect(seen.map(\.1) == bodies, "chunk \(chunk)")
            #expect(seen.map(\.0) == locations, "chunk \(chunk)")
        }
        var bytes = try #require(try FileSystem.contents(of: path))
        bytes.removeLast(3)
        try FileSystem.writeAtomically(bytes, to: path)
        var count = 0
        try Journal.forEachRecord(path: path, recordSizeBytesMax: 1024, chunkSizeBytes: 64) { _, _ in count += 1 }
        #expect(count == bodies.count - 1, "stops before the torn record")
        try Journal.forEachRecord(path: directory.appending("missing.journal"), recordSizeBytesMax: 1024) { _, _ in count += 100 }
        #expect(count == bodies.count - 1)

        let (reopened, _) = try Journal.open(path: path, durability: .none, recordSizeBytesMax: 1024)
        let moved = try reopened.compact(count: 3) { (position) throws(SystemError) -> [UInt8] in
            try reopened.record(at: locations[position]) + [0xFF]
        }
        #expect(try Journal.records(at: moved, path: path, recordSizeBytesMax: 1024) == (0..<3).map { bodies[$0] + [0xFF] })
        #expect(try Journal.read(path: path, recordSizeBytesMax: 1024).count == 3)
    }
}
