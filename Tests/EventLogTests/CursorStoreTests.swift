import Foundation
import Testing
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
        let journalSize = try FileManager.default.attributesOfItem(atPath: directory.appending("cursors.journal"))[.size] as? Int
        #expect((journalSize ?? 0) > 0)
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
        #expect(FileManager.default.fileExists(atPath: directory.appending("cursors.snapshot")))
        let store = try CursorStore(directory: directory.path)
        defer { store.close() }
        #expect(store.all().count == 2000)
        #expect(!store.all().isEmpty && store.all().values.allSatisfy { $0 == 99 })
    }
}
