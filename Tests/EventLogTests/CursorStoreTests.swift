import ArgusTestSupport
import Foundation
import Testing
import Crypto
@testable import EventLog

@Suite(.timeLimit(.minutes(3))) struct CursorStoreTests {
    @Test func commitsSurviveReopenAndRemovalsStick() async throws {
        let directory = TemporaryDirectory()
        do {
            let store = try CursorStore(directory: directory.path)
            try await store.commit("wh_a", offset: 10)
            try await store.commit("wh_b", offset: 20)
            try await store.commit("wh_a", offset: 15)
            try await store.remove("wh_b")
            #expect(store.offset(of: "wh_a") == 15)
            store.close()
        }
        let store = try CursorStore(directory: directory.path)
        defer { store.close() }
        #expect(store.all() == ["wh_a": 15])
    }

    @Test func manyConcurrentCommitsShareFlushes() async throws {
        let directory = TemporaryDirectory()
        let store = try CursorStore(directory: directory.path)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for consumer in 0..<2000 {
                group.addTask { try await store.commit("wh_\(consumer)", offset: UInt64(consumer)) }
            }
            try await group.waitForAll()
        }
        // Group commit: a store that flushed (and fsynced) once per commit would need 2,000 flushes.
        let flushes = store.flushCount
        #expect(flushes >= 1 && flushes <= 200, "2,000 concurrent commits took \(flushes) flushes")
        store.close()
        #expect(try TestFiles.sizeBytes(directory.appending("cursors.journal")) > 0)
        let reopened = try CursorStore(directory: directory.path)
        defer { reopened.close() }
        #expect(reopened.all().count == 2000)
        #expect(reopened.offset(of: "wh_1999") == 1999)
    }

    @Test func aTornJournalTailIsIgnored() async throws {
        let directory = TemporaryDirectory()
        do {
            let store = try CursorStore(directory: directory.path)
            try await store.commit("wh_a", offset: 1)
            try await store.commit("wh_a", offset: 2)
            store.close()
        }
        let path = directory.appending("cursors.journal")
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes.removeLast(3)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        do {
            let store = try CursorStore(directory: directory.path)
            #expect(store.offset(of: "wh_a") == 1)
            try await store.commit("wh_a", offset: 3)
            try await store.commit("wh_b", offset: 7)
            #expect(store.offset(of: "wh_a") == 3)
            store.close()
        }
        // What was committed after the torn tail was cut is what a reopened store (and a reader) recovers.
        let reopened = try CursorStore(directory: directory.path)
        defer { reopened.close() }
        #expect(reopened.all() == ["wh_a": 3, "wh_b": 7])
        #expect(CursorStore.readOffsets(directory: directory.path) == ["wh_a": 3, "wh_b": 7])
    }

    @Test func compactionKeepsTheLatestValues() async throws {
        let directory = TemporaryDirectory()
        do {
            let store = try CursorStore(directory: directory.path)
            // Each entry is ~25 bytes: 200k commits pass the 4 MiB compaction threshold.
            for round in 0..<100 {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for consumer in 0..<2000 {
                        group.addTask { try await store.commit("wh_\(consumer)", offset: UInt64(round)) }
                    }
                    try await group.waitForAll()
                }
            }
            store.close()
        }
        // Compacted online: the journal holds about the 2,000 live entries, far below the 4 MiB threshold.
        #expect(try TestFiles.sizeBytes(directory.appending("cursors.journal")) < Int(CursorStore.journalSizeBytesMax))
        let store = try CursorStore(directory: directory.path)
        defer { store.close() }
        #expect(store.all().count == 2000)
        #expect(!store.all().isEmpty && store.all().values.allSatisfy { $0 == 99 })
    }

    /// The format before SystemIO's `Journal`, as the old `CursorStore` wrote it: frames
    /// `length u32 | crc u32 | kind u8 | nameLen u16 | name | offset u64` with no magic, in
    /// `cursors.snapshot` (rewritten at compaction) and `cursors.journal` (emptied at compaction).
    static func legacyFrames(_ entries: [(String, UInt64?)]) -> [UInt8] {
        var bytes: [UInt8] = []
        func little<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }
        for (name, offset) in entries {
            let body = [offset == nil ? 2 : 1] + little(UInt16(name.utf8.count)) + Array(name.utf8) + little(offset ?? 0)
            let length = little(UInt32(body.count))
            bytes += length + little(CRC32C.update(CRC32C.checksum(length), body)) + body
        }
        return bytes
    }

    @Test func aLegacyDirectoryOpensAndIsCompactedIntoTheJournal() async throws {
        let directory = TemporaryDirectory()
        try Data(Self.legacyFrames([("wh_a", 5), ("wh_b", 6), ("wh_c", 7)])).write(to: URL(fileURLWithPath: directory.appending("cursors.snapshot")))
        var journal = Self.legacyFrames([("wh_a", 9), ("wh_c", nil), ("wh_d", 1)])
        journal += [0x20, 0, 0, 0, 1]  // a torn tail
        try Data(journal).write(to: URL(fileURLWithPath: directory.appending("cursors.journal")))
        let expected: [String: UInt64] = ["wh_a": 9, "wh_b": 6, "wh_d": 1]
        #expect(CursorStore.readOffsets(directory: directory.path) == expected)
        do {
            let store = try CursorStore(directory: directory.path)
            #expect(store.all() == expected)
            try await store.commit("wh_b", offset: 8)
            store.close()
        }
        #expect(!FileManager.default.fileExists(atPath: directory.appending("cursors.snapshot")))
        let reopened = try CursorStore(directory: directory.path)
        defer { reopened.close() }
        #expect(reopened.all() == ["wh_a": 9, "wh_b": 8, "wh_d": 1])
        #expect(CursorStore.readOffsets(directory: directory.path) == ["wh_a": 9, "wh_b": 8, "wh_d": 1])
    }

    @Test func aLegacySnapshotWithAnEmptyJournalOpens() throws {
        let directory = TemporaryDirectory()
        try Data(Self.legacyFrames([("wh_a", 5)])).write(to: URL(fileURLWithPath: directory.appending("cursors.snapshot")))
        try Data().write(to: URL(fileURLWithPath: directory.appending("cursors.journal")))
        let store = try CursorStore(directory: directory.path)
        defer { store.close() }
        #expect(store.all() == ["wh_a": 5])
    }
}
