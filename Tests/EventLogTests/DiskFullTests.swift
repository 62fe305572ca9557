import ArgusTestSupport
import Foundation
import Glibc
import Testing
@testable import EventLog

/// The writer on a disk that fills up (a small tmpfs): appends and segment rolls that fail with
/// ENOSPC are answered with the error, leave none of their bytes behind, and publishing resumes by
/// itself once space is freed, without reopening the log.
@Suite(.serialized, .timeLimit(.minutes(2))) struct DiskFullTests {
    /// An event whose frame is exactly `frameSizeBytes` long (at least `frameOverheadBytes + 1`).
    static func event(_ number: Int, frameSizeBytes: Int) -> NewEvent {
        NewEvent(organizationID: "org_1", type: "user.created", eventID: String(format: "evt_%05d", number),
                 data: Array(repeating: UInt8(ascii: "x"), count: frameSizeBytes - frameOverheadBytes))
    }

    /// Frame header, fixed fields and the names of `event(_:frameSizeBytes:)`.
    static let frameOverheadBytes = RecordFrame.headerSizeBytes + RecordFrame.eventFixedSizeBytes + 5 + 12 + 9
    static let pageBytes = 4096

    /// A tmpfs, or the test is skipped (`TemporaryMount` printed why).
    static func mountOrSkip(_ sizeBytes: Int, _ label: String = #function) throws -> TemporaryMount {
        let mounted = TemporaryMount.tmpfs(sizeBytes: sizeBytes, label: label)
        guard case .success(let mount) = mounted else { try Test.cancel("needs a tmpfs mount: \(mounted)") }
        return mount
    }

    static func size(_ path: String) -> Int64 {
        var status = stat()
        return stat(path, &status) == 0 ? Int64(status.st_size) : -1
    }

    /// Waits (bounded) until the log reports `accepting`.
    static func waitUntilAccepting(_ log: EventLog, seconds: Double = 15) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if log.health == .accepting { return true }
            try? await Task.sleep(nanoseconds: 50_000_000)
        }
        return log.health == .accepting
    }

    static func isDiskFull(_ error: any Error) -> Bool {
        if case .system(let system) = error as? EventLogError { return system.errno == ENOSPC }
        return false
    }

    /// Appends, recording what was acknowledged and what was refused.
    static func append(_ log: EventLog, _ events: [NewEvent], acknowledged: inout [NewEvent], refused: inout [NewEvent]) async -> (any Error)? {
        do {
            _ = try await log.append(batch: events)
            acknowledged += events
            return nil
        } catch {
            refused += events
            return error
        }
    }

    /// After reopening: the log holds exactly the acknowledged events, in order, and verifies.
    static func expectExactly(_ acknowledged: [NewEvent], refused: [NewEvent], in directory: String) throws {
        let records = try TestSupport.readAll(directory)
        #expect(records.map(\.eventID) == acknowledged.map(\.eventID), "exactly the acknowledged events, in order")
        #expect(records.map(\.offset) == (0..<UInt64(records.count)).map { $0 }, "offsets have no gaps")
        let refusedIDs = Set(refused.map(\.eventID))
        #expect(!records.contains { refusedIDs.contains($0.eventID) }, "no refused event is in the log")
        let report = try LogVerifier.verify(directory: directory, expectedChainIn: [UInt8](repeating: 0, count: 32))
        #expect(report.summary.problem == nil, "the log verifies: \(report.summary.problem ?? "")")
        #expect(report.summary.recordCount == UInt64(acknowledged.count))
    }

    @Test func appendsOnAFullDiskAreRefusedWithoutLeavingBytesAndResumeWhenSpaceReturns() async throws {
        let mount = try Self.mountOrSkip(2 << 20)
        defer { mount.unmount() }
        // Freed later: more than the writer's probe needs to call the disk usable again.
        mount.fill("filler", sizeBytesMax: 2 * Int(LogWriter.probeFreeBytesMin))
        let directory = mount.path + "/log"
        var options = TestSupport.options(segmentSizeBytes: 64 << 20, fsync: .always)
        options.indexIntervalBytes = 1 << 20
        let log = try EventLog(directory: directory, options: options)
        let segment = directory + "/" + SegmentName.log(baseOffset: 0)
        var acknowledged: [NewEvent] = [], refused: [NewEvent] = []
        var failure: (any Error)?
        var sizeBeforeFailure: Int64 = 0
        // 10 KB events (not a multiple of a page, so the failing write is partly done) until the disk is full.
        for number in 0..<400 where failure == nil {
            sizeBeforeFailure = Self.size(segment)
            failure = await Self.append(log, [Self.event(number, frameSizeBytes: 10_000)], acknowledged: &acknowledged, refused: &refused)
        }
        let error = try #require(failure, "the 2 MiB disk filled up")
        #expect(Self.isDiskFull(error), "ENOSPC: \(error)")
        #expect(Self.size(segment) == sizeBeforeFailure, "the failed group's bytes were cut")
        #expect(log.nextOffset == UInt64(acknowledged.count))
        guard case .failing(_, let cause) = log.health else {
            Issue.record("health after ENOSPC: \(log.health)")
            return
        }
        #expect(cause?.errno == ENOSPC)
        // A whole batch fails as one; the idle writer's probe keeps reporting the full disk.
        let batch = (1000..<1003).map { Self.event($0, frameSizeBytes: 10_000) }
        let batchError = await Self.append(log, batch, acknowledged: &acknowledged, refused: &refused)
        #expect(batchError.map(Self.isDiskFull) == true)
        #expect(Self.size(segment) == sizeBeforeFailure)
        try await Task.sleep(nanoseconds: 1_500_000_000)  // one probe interval: the probe must not call it healthy
        if case .failing = log.health {} else { Issue.record("a full disk is reported healthy: \(log.health)") }

        // Free the filler: the writer notices by itself (no append needed) and appends work again.
        try FileManager.default.removeItem(atPath: mount.path + "/filler")
        #expect(await Self.waitUntilAccepting(log), "health recovered without an append: \(log.health)")
        for number in 2000..<2005 {
            let resumed = await Self.append(log, [Self.event(number, frameSizeBytes: 10_000)], acknowledged: &acknowledged, refused: &refused)
            #expect(resumed == nil, "append after space returned: \(String(describing: resumed))")
        }
        log.close()
        // Recovery after the failures finds exactly what was acknowledged.
        let reopened = try EventLog(directory: directory, options: options)
        #expect(reopened.nextOffset == UInt64(acknowledged.count))
        reopened.close()
        try Self.expectExactly(acknowledged, refused: refused, in: directory)
    }

    enum RollStep: String, CaseIterable, Sendable {
        /// 40 bytes are left in the segment's last page: the footer is written in part, then fails.
        case footer
        /// The footer fits in the last page; the next segment's header needs a new page.
        case nextSegment
    }

    @Test(arguments: RollStep.allCases)
    func aRollThatFailsOnAFullDiskIsRetriedAndFinishesOnceSpaceReturns(step: RollStep) async throws {
        let mount = try Self.mountOrSkip(512 * 1024, "roll-\(step.rawValue)")
        defer { mount.unmount() }
        let directory = mount.path + "/log"
        let segmentBytesMax = 4 * Self.pageBytes
        var options = TestSupport.options(segmentSizeBytes: segmentBytesMax, fsync: .always)
        options.indexIntervalBytes = 1 << 20
        // File sizes here are page-exact (where the footer and the next header fall): no zero-filled space,
        // whose failure on a full disk `appendsOnAFullDiskAreRefused…` covers.
        options.preallocationSizeBytes = 0
        let log = try EventLog(directory: directory, options: options)
        let first = directory + "/" + SegmentName.log(baseOffset: 0)
        var acknowledged: [NewEvent] = [], refused: [NewEvent] = []
        // Fill the first segment up to its size limit, ending exactly where this case needs it.
        let end = step == .footer ? 5 * Self.pageBytes - 40 : segmentBytesMax + 1000
        // 1000-byte frames, then one of up to 5000 that reaches `end` (the segment stays below its limit
        // until then).
        var number = 0
        for _ in 0..<(end / 1000 + 2) where Self.size(first) < Int64(end) {
            let remaining = end - Int(Self.size(first))
            let error = await Self.append(log, [Self.event(number, frameSizeBytes: remaining > 5000 ? 1000 : remaining)],
                                          acknowledged: &acknowledged, refused: &refused)
            try #require(error == nil, "append \(number) while filling the first segment: \(String(describing: error))")
            number += 1
        }
        try #require(Self.size(first) == Int64(end))
        try #require(try SegmentCatalog.baseOffsets(directory: directory) == [0], "no roll yet")
        let sizeBeforeRoll = Self.size(first)
        mount.fill("filler")
        #expect(mount.freeBytes < Int64(Self.pageBytes), "the disk is full")

        // The next append rolls first; the roll fails, and so does the append, with ENOSPC.
        let error = await Self.append(log, [Self.event(5000, frameSizeBytes: 200)], acknowledged: &acknowledged, refused: &refused)
        #expect(error.map(Self.isDiskFull) == true, "ENOSPC: \(String(describing: error))")
        let next = directory + "/" + SegmentName.log(baseOffset: UInt64(acknowledged.count))
        #expect(!FileManager.default.fileExists(atPath: next), "no half-made next segment is left for readers")
        switch step {
        case .footer:
            #expect(Self.size(first) == sizeBeforeRoll, "the part of the footer that was written was cut")
            #expect(try SegmentCatalog.footer(directory: directory, baseOffset: 0) == nil)
        case .nextSegment:
            #expect(Self.size(first) == sizeBeforeRoll + Int64(RecordFrame.headerSizeBytes + RecordFrame.footerBodySizeBytes))
            #expect(try SegmentCatalog.footer(directory: directory, baseOffset: 0) != nil, "the footer fit: the segment is sealed")
        }
        // Tried again at the next group: still full, still refused, nothing changes.
        let again = await Self.append(log, [Self.event(5001, frameSizeBytes: 200)], acknowledged: &acknowledged, refused: &refused)
        #expect(again.map(Self.isDiskFull) == true)
        #expect(!FileManager.default.fileExists(atPath: next))
        #expect(log.nextOffset == UInt64(acknowledged.count))

        // Space returns: the idle writer finishes the roll by itself, and appends go to the new segment.
        try FileManager.default.removeItem(atPath: mount.path + "/filler")
        #expect(await Self.waitUntilAccepting(log), "health recovered without an append: \(log.health)")
        #expect(FileManager.default.fileExists(atPath: next), "the probe finished the roll")
        #expect(try SegmentCatalog.footer(directory: directory, baseOffset: 0) != nil)
        for extra in 6000..<6003 {
            #expect(await Self.append(log, [Self.event(extra, frameSizeBytes: 200)], acknowledged: &acknowledged, refused: &refused) == nil)
        }
        #expect(try SegmentCatalog.baseOffsets(directory: directory) == [0, UInt64(number)])
        log.close()
        let reopened = try EventLog(directory: directory, options: options)
        #expect(reopened.nextOffset == UInt64(acknowledged.count))
        reopened.close()
        try Self.expectExactly(acknowledged, refused: refused, in: directory)
    }
}
