import ArgusTestSupport
import Foundation
import Testing
@testable import Archive
import EventLog
import SystemIO

/// Every record of a local log, read with a fresh reader.
enum TestLog {
    static func readAll(_ directory: String) throws -> [EventRecord] {
        var reader = try LogReader(directory: directory, start: .beginning)
        var records: [EventRecord] = []
        while let record = try reader.next() { records.append(record) }
        return records
    }
}

/// Reading back archived segments after retention removed them locally.
@Suite(.timeLimit(.minutes(2))) struct SegmentCacheTests {
    static func removeLocal(_ fixture: ArchiveFixture, _ bases: ArraySlice<UInt64>) throws {
        for base in bases {
            try FileManager.default.removeItem(atPath: fixture.logDirectory + "/" + SegmentName.log(baseOffset: base))
            try? FileManager.default.removeItem(atPath: fixture.logDirectory + "/" + SegmentName.index(baseOffset: base))
        }
    }

    @Test func readsFromAnArchivedOffsetIntoTheLocalLog() async throws {
        let fixture = try ArchiveFixture()
        _ = try await fixture.archiver().run()
        let sealed = try fixture.sealedBases()
        try Self.removeLocal(fixture, sealed.prefix(3))
        let manifest = try await ArchiveManifest.load(target: fixture.target)
        let cache = SegmentCache(directory: SegmentCache.directory(dataDirectory: fixture.dataDirectory), target: fixture.target)
        var reader = try await ArchivedLogReader(manifest: manifest, cache: cache, localDirectory: fixture.logDirectory,
                                                 start: .offset(5))
        #expect(reader.isReadingArchive)
        var offsets: [UInt64] = []
        while let record = try await reader.next() {
            offsets.append(record.offset)
            #expect(record.eventID == "evt_\(record.offset)")
        }
        #expect(offsets == Array(5..<300))
        #expect(!reader.isReadingArchive)

        var fromBeginning = try await ArchivedLogReader(manifest: manifest, cache: cache, localDirectory: fixture.logDirectory,
                                                        start: .beginning)
        #expect(try await fromBeginning.next()?.offset == 0)
        // A local offset is read locally.
        var local = try await ArchivedLogReader(manifest: manifest, cache: cache, localDirectory: fixture.logDirectory,
                                                start: .offset(sealed[3] + 1))
        #expect(!local.isReadingArchive)
        #expect(try await local.next()?.offset == sealed[3] + 1)
    }

    /// Waits (at most a second) until the wall clock is past `ms`, so the next appends get later times.
    static func waitForClock(after ms: Int64) throws {
        let deadline = Date().addingTimeInterval(1)
        while Int64(Date().timeIntervalSince1970 * 1000) <= ms {
            guard Date() < deadline else { throw ArchiveError(.io, "the clock did not pass \(ms) within 1 s") }
            usleep(500)
        }
    }

    @Test func readsByTime() async throws {
        // Three groups of events with strictly later times, so a seek by time has one right answer.
        let fixture = try ArchiveFixture(count: 100)
        for group in 1...2 {
            let last = try #require(try TestLog.readAll(fixture.logDirectory).last?.timestampMs)
            try Self.waitForClock(after: last)
            try fixture.append(count: 100, from: group * 100)
        }
        let all = try TestLog.readAll(fixture.logDirectory)
        let time = all[150].timestampMs
        let expected = try #require(all.first { $0.timestampMs >= time }?.offset)
        #expect(time > all[0].timestampMs && expected > 0, "a reader that ignores time starts elsewhere")
        _ = try await fixture.archiver().run()
        let sealed = try fixture.sealedBases()
        let removed = sealed.prefix { $0 <= expected + 10 }
        #expect(removed.count < sealed.count)
        try Self.removeLocal(fixture, removed)
        let manifest = try await ArchiveManifest.load(target: fixture.target)
        let cache = SegmentCache(directory: SegmentCache.directory(dataDirectory: fixture.dataDirectory), target: fixture.target)
        var reader = try await ArchivedLogReader(manifest: manifest, cache: cache, localDirectory: fixture.logDirectory,
                                                 start: .time(time))
        #expect(reader.isReadingArchive, "the record is only in the archive")
        let first = try #require(try await reader.next())
        #expect(first.offset == expected && first.timestampMs >= time)
    }

    /// The least recently *used* segment goes first: a cache hit renews a segment.
    @Test func evictionIsLeastRecentlyUsedFirst() async throws {
        let fixture = try ArchiveFixture()
        _ = try await fixture.archiver().run()
        let manifest = try await ArchiveManifest.load(target: fixture.target)
        let bases = Array(manifest.baseOffsets.prefix(3))
        #expect(bases.count == 3)
        var entries: [ArchiveManifestEntry] = []
        for base in bases { entries.append(try await manifest.entry(baseOffset: base)) }
        let sizes = entries.map(\.sizeBytes).sorted()
        // Room for any two of the three, never for all three.
        let cacheDirectory = SegmentCache.directory(dataDirectory: fixture.dataDirectory)
        let cache = SegmentCache(directory: cacheDirectory, target: fixture.target, capacityBytes: sizes[1] + sizes[2])
        var lastPath = ""
        /// Uses a segment, then waits until file times can order the next use after it.
        func use(_ entry: ArchiveManifestEntry) async throws {
            let directory = try await cache.segmentDirectory(for: entry)
            lastPath = directory + "/" + SegmentName.log(baseOffset: entry.baseOffset)
            let used = try #require(FileSystem.modificationTimeNs(lastPath))
            let probe = cacheDirectory + ".probe"
            let deadline = Date().addingTimeInterval(2)
            repeat {
                FileManager.default.createFile(atPath: probe, contents: nil)
                FileSystem.touch(probe)
                guard Date() < deadline else { throw ArchiveError(.io, "file times did not advance within 2 s") }
            } while (FileSystem.modificationTimeNs(probe) ?? 0) <= used
            try? FileManager.default.removeItem(atPath: probe)
        }
        func cached() throws -> Set<UInt64> {
            Set(try FileManager.default.contentsOfDirectory(atPath: cacheDirectory).compactMap { UInt64($0) })
        }
        try await use(entries[0])
        try await use(entries[1])
        try await use(entries[0])  // a hit: entries[0] is now the most recently used
        #expect(try cached() == [bases[0], bases[1]])
        try await use(entries[2])
        #expect(try cached() == [bases[0], bases[2]], "the least recently used segment (\(bases[1])) was evicted")
    }

    @Test func cacheIsBoundedAndChecksWhatItFetches() async throws {
        let fixture = try ArchiveFixture()
        _ = try await fixture.archiver().run()
        let manifest = try await ArchiveManifest.load(target: fixture.target)
        let cacheDirectory = SegmentCache.directory(dataDirectory: fixture.dataDirectory)
        let cache = SegmentCache(directory: cacheDirectory, target: fixture.target, capacityBytes: 9000)
        for base in manifest.baseOffsets {
            let directory = try await cache.segmentDirectory(for: try await manifest.entry(baseOffset: base))
            #expect(FileManager.default.fileExists(atPath: directory + "/" + SegmentName.log(baseOffset: base)))
            try await Task.sleep(nanoseconds: 5_000_000)
        }
        let cached = try FileManager.default.contentsOfDirectory(atPath: cacheDirectory)
        #expect(cached.count <= 2, "about 4 KiB each, 9000 bytes allowed: \(cached)")
        #expect(cached.contains(String(SegmentName.log(baseOffset: manifest.baseOffsets.last!).dropLast(4))))

        // A tampered archive object is refused, not cached.
        let entry = try await manifest.entry(baseOffset: manifest.baseOffsets[0])
        try TestFiles.flipByte(fixture.object(entry.segmentKey), at: 100)
        await #expect(throws: ArchiveError.self) { _ = try await cache.segmentDirectory(for: entry) }
    }
}
