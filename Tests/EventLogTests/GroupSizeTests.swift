import ArgusTestSupport
import Foundation
import Synchronization
import Testing
@testable import EventLog
import SystemIO

/// The writer never has more than `EventLogLimits.groupSizeBytesMax` bytes written and not synced, and
/// recovery and `verify` cut a bad frame as a torn tail only within that distance of the data's end:
/// a zeroed sector further back lies in acknowledged records and is damage.
@Suite(.timeLimit(.minutes(2))) struct GroupSizeTests {
    static func options(fsync: FsyncPolicy = .always) -> EventLogOptions {
        var options = TestSupport.options(segmentSizeBytes: 64 << 20, fsync: fsync)
        options.preallocationSizeBytes = 64 << 10
        return options
    }

    /// An event with `sizeBytes` bytes of data.
    static func large(_ number: Int, sizeBytes: Int = 700_000) -> NewEvent {
        NewEvent(organizationID: "org_1", type: "blob.stored", eventID: "evt_\(number)",
                 data: [UInt8](repeating: UInt8(ascii: "x"), count: sizeBytes))
    }

    /// Where the records of a segment file end: the first zero frame header (or the end of the file).
    static func recordsEnd(of path: String) throws -> Int {
        try TestSupport.frames(of: path).first { $0.size == RecordFrame.headerSizeBytes }?.position
            ?? (try Data(contentsOf: URL(fileURLWithPath: path)).count)
    }

    /// Where the records ended at each `fdatasync` of the active segment.
    final class SyncedEnds: Sendable {
        let ends = Mutex<[Int]>([])
        func withLock<T>(_ body: ([Int]) -> T) -> T { ends.withLock { body($0) } }
    }

    /// Options whose `fdatasync` hook notes where the records end at each sync of the active segment.
    static func recordingSyncs(_ segment: String, fsync: FsyncPolicy) -> (EventLogOptions, SyncedEnds) {
        let synced = SyncedEnds()
        var options = options(fsync: fsync)
        options.dataSyncFault = {
            let end = (try? recordsEnd(of: segment)) ?? -1
            synced.ends.withLock { $0.append(end) }
            return nil
        }
        return (options, synced)
    }

    @Test func theLimitHoldsTheLargestFrame() {
        #expect(EventLogLimits.groupSizeBytesMax >= RecordFrame.headerSizeBytes + EventLogLimits.frameBodySizeBytesMax)
    }

    @Test func aBatchLargerThanAGroupIsWrittenAndSyncedInPieces() async throws {
        let directory = TemporaryDirectory()
        let segment = directory.appending(SegmentName.log(baseOffset: 0))
        let (options, ends) = Self.recordingSyncs(segment, fsync: .always)
        let log = try EventLog(directory: directory.path, options: options)
        _ = try await log.append(batch: (0..<14).map { Self.large($0) })
        let total = Int(log.activeSegmentSizeBytes)
        log.close()
        let synced = ends.withLock { $0 }
        #expect(synced.count >= 3, "\(total) bytes in one batch: \(synced)")
        #expect(synced.last == total)
        var previous = SegmentHeader.sizeBytes
        for end in synced {
            #expect(end > previous && end - previous <= EventLogLimits.groupSizeBytesMax, "synced \(previous) to \(end)")
            previous = end
        }
        #expect(try TestSupport.readAll(directory.path).map(\.eventID) == (0..<14).map { "evt_\($0)" })
    }

    /// `interval` (at an interval no test reaches) and `none`: only the group limit makes the writer sync.
    @Test(arguments: [FsyncPolicy.interval(milliseconds: 60_000), .none], [false, true])
    func policiesWithoutASyncPerAppendSyncBeforeMoreThanAGroupIsUnsynced(fsync: FsyncPolicy, inOneBatch: Bool) async throws {
        let directory = TemporaryDirectory()
        let segment = directory.appending(SegmentName.log(baseOffset: 0))
        let (options, ends) = Self.recordingSyncs(segment, fsync: fsync)
        let log = try EventLog(directory: directory.path, options: options)
        if inOneBatch {
            _ = try await log.append(batch: (0..<14).map { Self.large($0) })
        } else {
            for number in 0..<14 { _ = try await log.append(Self.large(number)) }
        }
        let synced = ends.withLock { $0 }
        #expect(synced.count >= 2, "\(log.activeSegmentSizeBytes) bytes: \(synced)")
        var previous = SegmentHeader.sizeBytes
        for end in synced + [Int(log.activeSegmentSizeBytes)] {
            #expect(end - previous <= EventLogLimits.groupSizeBytesMax, "unsynced from \(previous) to \(end)")
            previous = end
        }
        log.close()
    }

    @Test func aZeroedSectorMoreThanAGroupBeforeTheEndIsDamageToRecoveryAndVerify() async throws {
        let source = TemporaryDirectory()
        let log = try EventLog(directory: source.path, options: Self.options())
        for number in 0..<40 { _ = try await log.append(TestSupport.event(number)) }
        // More than a group of acknowledged records after the damage (each append synced on its own).
        for number in 40..<50 { _ = try await log.append(Self.large(number)) }
        for number in 50..<55 { _ = try await log.append(TestSupport.event(number)) }
        let copy = try PreallocationTests.copyLive(source, to: "deep")
        log.close()
        // The index lost (it is not synced before sealing), so recovery reads the segment from its start.
        try TestSupport.removeIndex(in: copy)
        let segment = copy.appending(SegmentName.log(baseOffset: 0))
        let frames = try TestSupport.frames(of: segment)
        #expect(frames[39].position > 1536, "the zeroed sector lies inside the small records")
        try TestFiles.zero(segment, at: 1024, count: 512)
        let sizeBefore = try TestFiles.sizeBytes(segment)
        #expect(throws: EventLogError.self, "acknowledged records after the sector: recovery stops, cuts nothing") {
            _ = try EventLog(directory: copy.path, options: Self.options())
        }
        #expect(try TestFiles.sizeBytes(segment) == sizeBefore, "nothing cut")
        let report = try LogVerifier.verify(directory: copy.path)
        #expect(!report.isIntact, "verify reports the same damage: \(report.summary.notes)")
        #expect(!report.summary.notes.contains { $0.contains("torn tail") }, "\(report.summary.notes)")
    }

    @Test func aZeroedSectorBeforeTheLastIndexEntryIsNoTornTailToVerify() async throws {
        let source = TemporaryDirectory()
        let log = try EventLog(directory: source.path, options: Self.options())
        for number in 0..<40 { _ = try await log.append(TestSupport.event(number)) }
        let copy = try PreallocationTests.copyLive(source, to: "indexed")
        log.close()
        let segment = copy.appending(SegmentName.log(baseOffset: 0))
        try TestFiles.zero(segment, at: 1024, count: 512)
        // Recovery resumes after the last index entry: it never reads the sector and cuts nothing.
        let report = try LogVerifier.verify(directory: copy.path)
        #expect(!report.isIntact, "an indexed record follows the bad frame: \(report.summary.notes)")
        let reopened = try EventLog(directory: copy.path, options: Self.options())
        #expect(reopened.nextOffset == 40)
        reopened.close()
    }

    @Test func aPowerCutInsideTheLastPieceOfALargeGroupCutsOnlyThatPiece() async throws {
        let source = TemporaryDirectory()
        let segment = source.appending(SegmentName.log(baseOffset: 0))
        let (options, ends) = Self.recordingSyncs(segment, fsync: .always)
        let log = try EventLog(directory: source.path, options: options)
        for number in 0..<20 { _ = try await log.append(TestSupport.event(number)) }
        _ = try await log.append(batch: (20..<32).map { Self.large($0) })
        let copy = try PreallocationTests.copyLive(source, to: "pieces")
        log.close()
        let synced = ends.withLock { $0 }
        #expect(synced.count >= 22, "20 single appends and a batch of at least two pieces: \(synced.count)")
        // The last piece's first sectors never reached the disk, its later ones did.
        let pieceStart = synced[synced.count - 2]
        try TestSupport.removeIndex(in: copy)
        let copied = copy.appending(SegmentName.log(baseOffset: 0))
        let frames = try TestSupport.frames(of: copied)
        let keptCount = try #require(frames.firstIndex { $0.position == pieceStart })
        try TestFiles.zero(copied, at: pieceStart, count: (pieceStart / 512 + 2) * 512 - pieceStart)
        let report = try LogVerifier.verify(directory: copy.path)
        #expect(report.isIntact && report.summary.notes.contains { $0.contains("torn tail at offset \(keptCount)") },
                "\(report.summary.notes)")
        let reopened = try EventLog(directory: copy.path, options: Self.options())
        #expect(reopened.nextOffset == UInt64(keptCount), "the earlier, synced pieces are kept")
        reopened.close()
        #expect(try TestSupport.readAll(copy.path).count == keptCount)
    }
}
