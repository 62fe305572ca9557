import ArgusTestSupport
import Foundation
import Glibc
import JSON
import Synchronization
import SystemIO
import Testing
@testable import EventLog

/// What the writer does with bytes written and not yet synced (`interval`, `none`, and failures): the
/// index file names only records an `fdatasync` covered, a cut of a refused group is made durable,
/// and a segment roll's sync counts as a sync.
@Suite(.timeLimit(.minutes(2))) struct UnsyncedWritesTests {
    /// The entries in the index file of segment 0 of `directory`.
    static func indexEntries(_ directory: TemporaryDirectory) throws -> [SegmentIndex.Entry] {
        try SegmentIndex.load(path: directory.appending(SegmentName.index(baseOffset: 0)), segmentSizeBytes: .max, baseOffset: 0).entries
    }

    @Test(arguments: [FsyncPolicy.interval(milliseconds: 60_000), .none])
    func indexEntriesOfUnsyncedRecordsReachTheIndexFileOnlyAfterTheirSync(fsync: FsyncPolicy) async throws {
        let directory = TemporaryDirectory()
        let segment = directory.appending(SegmentName.log(baseOffset: 0))
        // An interval no test reaches: only the 4 MiB bound makes the writer sync before the close.
        let (options, ends) = GroupSizeTests.recordingSyncs(segment, fsync: fsync)
        let log = try EventLog(directory: directory.path, options: options)
        for number in 0..<14 { _ = try await log.append(GroupSizeTests.large(number)) }
        let synced = ends.withLock { $0 }
        let syncedEnd = try #require(synced.last, "14 events of 700 KB: the 4 MiB bound syncs at least once")
        #expect(syncedEnd < Int(log.activeSegmentSizeBytes), "the last records are unsynced")
        let before = try Self.indexEntries(directory)
        #expect(!before.isEmpty, "entries of synced records are written")
        #expect(before.allSatisfy { $0.position < Int64(syncedEnd) },
                "no entry names a record after the last sync (at \(syncedEnd)): \(before.map(\.position))")
        log.close()
        let after = try Self.indexEntries(directory)
        #expect(after.map(\.offset) == (0..<14).map { UInt64($0) }, "the close syncs and writes the rest")
    }

    @Test func aPowerCutInsideUnsyncedRecordsIsATornTailNotASilentHole() async throws {
        let source = TemporaryDirectory()
        var options = GroupSizeTests.options(fsync: .interval(milliseconds: 60_000))
        options.indexIntervalBytes = 256
        let log = try EventLog(directory: source.path, options: options)
        for number in 0..<40 { _ = try await log.append(TestSupport.event(number)) }
        // Nothing synced since the segment was created: the copy is what a power cut may leave.
        let copy = try PreallocationTests.copyLive(source, to: "unsynced")
        log.close()
        let segment = copy.appending(SegmentName.log(baseOffset: 0))
        let frames = try TestSupport.frames(of: segment).filter { $0.size > RecordFrame.headerSizeBytes }
        #expect(frames.count == 40 && frames[39].position > 1536, "the sector lies inside the records")
        // A sector of the unsynced stretch never reached the disk; the index file and later sectors did.
        try TestFiles.zero(segment, at: 1024, count: 512)
        let keptCount = frames.filter { $0.position + $0.size <= 1024 }.count
        let report = try LogVerifier.verify(directory: copy.path)
        #expect(report.isIntact && report.summary.notes.contains { $0.contains("torn tail at offset \(keptCount)") },
                "\(report.summary.notes)")
        let reopened = try EventLog(directory: copy.path, options: options)
        #expect(reopened.nextOffset == UInt64(keptCount), "recovery cuts at the unwritten sector")
        reopened.close()
        #expect(try TestSupport.readAll(copy.path).map(\.eventID) == (0..<keptCount).map { "evt_\($0)" })
    }

    @Test(arguments: [FsyncPolicy.always, .interval(milliseconds: 60_000), .none])
    func aFailedWriteIsCutDurablyAndLaterAppendsWork(fsync: FsyncPolicy) async throws {
        let directory = TemporaryDirectory()
        let failing = Atomic<Bool>(false)
        let points = Mutex<[EventLogOptions.WriterFaultPoint]>([])
        var options = GroupSizeTests.options(fsync: fsync)
        options.writerFault = { point in
            points.withLock { $0.append(point) }
            return point == .pieceWrite && failing.load(ordering: .relaxed) ? SystemError(call: "pwrite", path: "segment", errno: EIO) : nil
        }
        let log = try EventLog(directory: directory.path, options: options)
        _ = try await log.append(TestSupport.event(0))
        failing.store(true, ordering: .relaxed)
        points.withLock { $0 = [] }
        await #expect(throws: EventLogError.self, "the failed write is answered with its error") {
            _ = try await log.append(TestSupport.event(1))
        }
        #expect(points.withLock { $0 } == [.pieceWrite, .cutTruncate, .cutSynchronize],
                "the cut after a failed write is made durable, whatever was synced before")
        failing.store(false, ordering: .relaxed)
        _ = try await log.append(TestSupport.event(2))
        log.close()
        #expect(try TestSupport.readAll(directory.path).map(\.eventID) == ["evt_0", "evt_2"])
    }

    @Test func aCutThatFailsAfterAFailedSyncIsLoggedWithItsPathAndCause() async throws {
        let directory = TemporaryDirectory()
        let syncFailing = Atomic<Bool>(false)
        let lines = Mutex<[String]>([])
        var options = GroupSizeTests.options(fsync: .always)
        options.logger = Logger(minimumLevel: .error) { line in lines.withLock { $0.append(line) } }
        options.dataSyncFault = {
            syncFailing.load(ordering: .relaxed) ? SystemError(call: "fdatasync", path: "sync-fault", errno: EIO) : nil
        }
        options.writerFault = { point in
            point == .cutTruncate ? SystemError(call: "ftruncate", path: "cut-fault", errno: EROFS) : nil
        }
        let log = try EventLog(directory: directory.path, options: options)
        _ = try await log.append(TestSupport.event(0))
        syncFailing.store(true, ordering: .relaxed)
        await #expect(throws: EventLogError.self) { _ = try await log.append(TestSupport.event(1)) }
        guard case .stopped = log.health else {
            Issue.record("the writer stops after a failed sync even when the cut fails: \(log.health)")
            return
        }
        log.close()
        let logged = lines.withLock { $0 }
        let segment = directory.appending(SegmentName.log(baseOffset: 0))
        #expect(logged.contains { $0.contains(segment) && $0.contains("ftruncate") && $0.contains("cut-fault") && $0.contains("reappear") },
                "the failed cut is logged with the segment's path and its cause: \(logged)")
    }

    @Test func aRollSyncIsRecordedAndLeavesNothingCountedUnsynced() async throws {
        let directory = TemporaryDirectory()
        let syncCount = Atomic<Int>(0)
        var options = GroupSizeTests.options(fsync: .interval(milliseconds: 60_000))
        options.segmentAgeSecondsMax = 0  // every group after the first rolls the segment first
        options.dataSyncFault = {
            syncCount.add(1, ordering: .relaxed)
            return nil
        }
        let log = try EventLog(directory: directory.path, options: options)
        _ = try await log.append(batch: (0..<4).map { GroupSizeTests.large($0) })  // 2.8 MB unsynced
        #expect(syncCount.load(ordering: .relaxed) == 0)
        _ = try await log.append(batch: (4..<7).map { GroupSizeTests.large($0) })  // roll (sync), then 2.1 MB
        #expect(syncCount.load(ordering: .relaxed) == 1, "the roll's sync only: nothing of the old segment counts as unsynced")
        #expect(log.syncStatistics.count == 1, "the roll's sync is recorded")
        log.close()
        #expect(try TestSupport.readAll(directory.path).count == 7)
    }
}
