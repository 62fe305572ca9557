import Foundation
import Testing
@testable import Archive
import EventLog

/// Reading back archived segments after retention removed them locally.
struct SegmentCacheTests {
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

    @Test func readsByTime() async throws {
        let fixture = try ArchiveFixture()
        _ = try await fixture.archiver().run()
        let sealed = try fixture.sealedBases()
        let summaries = try SegmentCatalog.summaries(directory: fixture.logDirectory)
        try Self.removeLocal(fixture, sealed.prefix(2))
        let manifest = try await ArchiveManifest.load(target: fixture.target)
        let cache = SegmentCache(directory: SegmentCache.directory(dataDirectory: fixture.dataDirectory), target: fixture.target)
        let time = try #require(summaries[1].firstTimestampMs)
        var reader = try await ArchivedLogReader(manifest: manifest, cache: cache, localDirectory: fixture.logDirectory,
                                                 start: .time(time))
        let first = try #require(try await reader.next())
        #expect(first.timestampMs >= time && first.offset <= sealed[1])
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
        try flipByte(fixture.object(entry.segmentKey), at: 100)
        await #expect(throws: ArchiveError.self) { _ = try await cache.segmentDirectory(for: entry) }
    }
}
