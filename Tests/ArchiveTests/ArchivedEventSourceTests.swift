import ArgusTestSupport
import Foundation
import Testing
@testable import Archive
import EventLog

/// The archive followed by the local log as one event source: after retention, reads from 0 are dense
/// across the boundary; an unreadable archive is reported and recovers; a tampered segment is refused
/// with its offset; events no store holds are reported with the earliest available offset.
@Suite(.timeLimit(.minutes(3))) struct ArchivedEventSourceTests {
    /// The fixture archived, its log opened, retention applied down to the active segment.
    static func retained(_ fixture: ArchiveFixture) async throws -> (EventLog, ArchivedEventSource) {
        _ = try await fixture.archiver().run()
        var options = EventLogOptions()
        options.segmentSizeBytesMax = 4096
        options.fsyncPolicy = .none
        let log = try EventLog(directory: fixture.logDirectory, options: options)
        let gate = try ArchiveState.load(directory: fixture.stateDirectory).retentionGate
        let deleted = try log.applyRetention(RetentionPolicy(sizeBytesMax: 0), consumersFloor: .max, mayDelete: gate)
        #expect(deleted.count >= 5, "retention removed archived segments")
        let cache = SegmentCache(directory: SegmentCache.directory(dataDirectory: fixture.dataDirectory), target: fixture.target)
        return (log, ArchivedEventSource(log: log, cache: cache))
    }

    static func readAll(_ source: some EventSource, from start: UInt64) async throws -> [EventRecord] {
        var records: [EventRecord] = []
        var next = start
        while true {
            let batch = try await source.read(from: next, countMax: 100)
            if batch.isEmpty { return records }
            records += batch
            next = batch[batch.count - 1].offset + 1
        }
    }

    @Test func afterRetentionEveryOffsetFromZeroIsReadBackDenseAndInOrder() async throws {
        let fixture = try ArchiveFixture()
        let (log, source) = try await Self.retained(fixture)
        defer { log.close() }
        let localFirst = try log.firstRetainedOffset()
        #expect(localFirst > 0)
        await #expect(throws: EventSourceError.self) { _ = try await log.read(from: 0, countMax: 1) }
        let records = try await Self.readAll(source, from: 0)
        #expect(records.map(\.offset) == Array(0..<300))
        #expect(records.allSatisfy { $0.eventID == "evt_\($0.offset)" })
        // From the middle of an archived segment, and by time.
        #expect(try await source.read(from: 3, countMax: 2).map(\.offset) == [3, 4])
        #expect(try await source.firstOffset(atOrAfterTimeMs: 0) == 0)
        #expect(try await source.firstOffset(atOrAfterTimeMs: records[150].timestampMs) <= 150)
    }

    @Test func anUnreadableArchiveIsReportedAndReadAgainWhenItReturns() async throws {
        let fixture = try ArchiveFixture()
        let (log, source) = try await Self.retained(fixture)
        defer { log.close() }
        let first = try await Self.readAll(source, from: 0).prefix(40)
        #expect(first.count == 40)
        // Mid-way: the archive goes away, with nothing of it cached.
        try FileManager.default.moveItem(atPath: fixture.archiveRoot, toPath: fixture.archiveRoot + ".away")
        try FileManager.default.removeItem(atPath: SegmentCache.directory(dataDirectory: fixture.dataDirectory))
        let manifest = try await ArchiveManifest.load(target: DirectoryTarget(root: fixture.archiveRoot + ".away"))
        let third = manifest.baseOffsets[2]
        do throws(EventSourceError) {
            _ = try await source.read(from: third, countMax: 10)
            Issue.record("read an archive that is not there")
        } catch {
            guard case .archiveUnavailable(let offset, _) = error else { Issue.record("\(error)"); return }
            #expect(offset == third)
            #expect(error.code == "archive_unavailable")
        }
        try FileManager.default.moveItem(atPath: fixture.archiveRoot + ".away", toPath: fixture.archiveRoot)
        #expect(try await Self.readAll(source, from: third).map(\.offset) == Array(third..<300))
    }

    @Test func aTamperedArchivedSegmentIsRefusedNamingTheOffset() async throws {
        let fixture = try ArchiveFixture()
        let (log, source) = try await Self.retained(fixture)
        defer { log.close() }
        let manifest = try await ArchiveManifest.load(target: fixture.target)
        let entry = try await manifest.entry(baseOffset: manifest.baseOffsets[1])
        let path = fixture.object(entry.segmentKey)
        let frame = try frames(of: path)[3]
        try TestFiles.flipByte(path, at: frame.position + frame.size - 2)
        do throws(EventSourceError) {
            _ = try await source.read(from: entry.baseOffset, countMax: 10)
            Issue.record("a tampered segment was used")
        } catch {
            guard case .archiveUnavailable(let offset, let reason) = error else { Issue.record("\(error)"); return }
            #expect(offset == entry.baseOffset + 3, "\(reason)")
            #expect(reason.contains("offset \(entry.baseOffset + 3)") && reason.contains(entry.segmentKey), "\(reason)")
        }
        let cached = SegmentCache.directory(dataDirectory: fixture.dataDirectory) + "/" + String(SegmentName.log(baseOffset: entry.baseOffset).dropLast(4))
        #expect((try? FileManager.default.contentsOfDirectory(atPath: cached))?.isEmpty ?? true, "nothing tampered is cached")
        // The segment before it still reads.
        #expect(try await source.read(from: 0, countMax: 1).first?.offset == 0)
    }

    @Test func offsetsNoStoreHoldsAreReportedWithTheEarliestAvailable() async throws {
        let fixture = try ArchiveFixture()
        let (log, source) = try await Self.retained(fixture)
        defer { log.close() }
        let manifest = try await ArchiveManifest.load(target: fixture.target)
        // The first archived segment deleted by hand from the archive too.
        let entry = try await manifest.entry(baseOffset: 0)
        try FileManager.default.removeItem(atPath: fixture.object(entry.manifestKey))
        try FileManager.default.removeItem(atPath: fixture.object(entry.segmentKey))
        let fresh = ArchivedEventSource(log: log, cache: source.cache)
        await #expect(throws: EventSourceError.eventsUnavailable(offset: 0, earliestAvailableOffset: entry.nextOffset)) {
            _ = try await fresh.read(from: 0, countMax: 5)
        }
        #expect(try await fresh.read(from: entry.nextOffset, countMax: 1).first?.offset == entry.nextOffset)
    }

    @Test func aManifestEntryWhoseChainDiffersFromItsSegmentIsRefused() async throws {
        let fixture = try ArchiveFixture()
        let (log, source) = try await Self.retained(fixture)
        defer { log.close() }
        let manifest = try await ArchiveManifest.load(target: fixture.target)
        let localFirst = try log.firstRetainedOffset()
        let lastBase = try #require(manifest.baseOffsets.last { $0 < localFirst })
        // A forged manifest entry for the last archived segment with another chain-out.
        var entry = try await manifest.entry(baseOffset: lastBase)
        entry.chainOut[0] ^= 1
        try entry.encoded().write(to: URL(fileURLWithPath: fixture.object(entry.manifestKey)))
        await #expect(throws: EventSourceError.self) { _ = try await source.read(from: lastBase, countMax: 1) }
    }
}
