import ArgusTestSupport
import Foundation
import Synchronization
import Testing
@testable import EventLog
import JSON

/// The writer's zero-filled space after the active segment's last record (`preallocationSizeBytes`):
/// readers stop at it, recovery drops it, sealing and closing cut it, and damage behind it is still damage.
@Suite(.timeLimit(.minutes(2))) struct PreallocationTests {
    static let chunk = 64 << 10

    static func options(preallocation: Int = chunk, segmentSizeBytes: Int = 1 << 20) -> EventLogOptions {
        var options = TestSupport.options(segmentSizeBytes: segmentSizeBytes, fsync: .always)
        options.preallocationSizeBytes = preallocation
        return options
    }

    /// A copy of a live log's files (as a crash would leave them: nothing closed, the zeros in place).
    static func copyLive(_ source: TemporaryDirectory, to name: String) throws -> TemporaryDirectory {
        let copy = TemporaryDirectory(name)
        for file in try FileManager.default.contentsOfDirectory(atPath: source.path) where file.hasSuffix(".log") || file.hasSuffix(".index") {
            try FileManager.default.copyItem(atPath: source.appending(file), toPath: copy.appending(file))
        }
        return copy
    }

    @Test func appendsOverwriteZerosThatReadersInAndOutOfTheProcessStopAt() async throws {
        let directory = TemporaryDirectory()
        let log = try EventLog(directory: directory.path, options: Self.options())
        for number in 0..<10 { _ = try await log.append(TestSupport.event(number)) }
        let segment = directory.appending(SegmentName.log(baseOffset: 0))
        let recordsEnd = Int(log.activeSegmentSizeBytes)
        let size = try TestFiles.sizeBytes(segment)
        #expect(size > recordsEnd && size <= recordsEnd + Self.chunk, "zero-filled space after the last record: \(size), \(recordsEnd)")
        // A reader of another process (no durable bound) and one of this process both stop at the zeros.
        var outside = try LogReader(directory: directory.path, start: .beginning)
        var inside = try log.makeReader(from: .beginning)
        var outsideIDs: [String] = []
        var insideIDs: [String] = []
        while let record = try outside.next() { outsideIDs.append(record.eventID) }
        while let record = try inside.next() { insideIDs.append(record.eventID) }
        #expect(outsideIDs == (0..<10).map { "evt_\($0)" })
        #expect(insideIDs == outsideIDs)
        // Both have read zeros where the next records go; they see those records once written.
        for number in 10..<15 { _ = try await log.append(TestSupport.event(number)) }
        while let record = try outside.next() { outsideIDs.append(record.eventID) }
        while let record = try inside.next() { insideIDs.append(record.eventID) }
        #expect(outsideIDs == (0..<15).map { "evt_\($0)" })
        #expect(insideIDs == outsideIDs)
        #expect(try LogVerifier.verify(directory: directory.path).isIntact, "verify of a live log with its zeros")
        log.close()
        #expect(try TestFiles.sizeBytes(segment) == Int(try SegmentCatalog.summaries(directory: directory.path)[0].sizeBytes),
                "closing cuts the zero-filled space")
    }

    @Test func theSpaceGrowsWithTheGroupThatReachesItsEnd() async throws {
        let directory = TemporaryDirectory()
        let log = try EventLog(directory: directory.path, options: Self.options(preallocation: 4096))
        defer { log.close() }
        let segment = directory.appending(SegmentName.log(baseOffset: 0))
        for number in 0..<200 {
            _ = try await log.append(TestSupport.event(number))
            let size = try TestFiles.sizeBytes(segment)
            let recordsEnd = Int(log.activeSegmentSizeBytes)
            #expect(size > recordsEnd && size <= recordsEnd + 4096, "after \(number): file \(size), records end \(recordsEnd)")
        }
        // `verify` counts the bytes that hold records, not the space kept ahead.
        let report = try LogVerifier.verify(directory: directory.path)
        #expect(report.isIntact && report.summary.recordCount == 200)
        #expect(report.summary.sizeBytes == log.activeSegmentSizeBytes)
    }

    @Test func noSpaceIsKeptWhenTurnedOff() async throws {
        let directory = TemporaryDirectory()
        let log = try EventLog(directory: directory.path, options: Self.options(preallocation: 0))
        defer { log.close() }
        for number in 0..<20 { _ = try await log.append(TestSupport.event(number)) }
        #expect(try TestFiles.sizeBytes(directory.appending(SegmentName.log(baseOffset: 0))) == Int(log.activeSegmentSizeBytes))
    }

    @Test func aSealedSegmentEndsWithItsFooter() async throws {
        let directory = TemporaryDirectory()
        let log = try EventLog(directory: directory.path, options: Self.options(segmentSizeBytes: 4096))
        for number in 0..<200 { _ = try await log.append(TestSupport.event(number)) }
        let summaries = try SegmentCatalog.summaries(directory: directory.path)
        #expect(summaries.count > 2)
        for summary in summaries.dropLast() {
            // `sealed` means the footer is the file's last frame: no zeros after it.
            #expect(summary.sealed, "segment \(summary.baseOffset)")
            #expect(Int(summary.sizeBytes) == (try TestFiles.sizeBytes(directory.appending(SegmentName.log(baseOffset: summary.baseOffset)))))
        }
        let report = try LogVerifier.verify(directory: directory.path)
        #expect(report.isIntact)
        log.close()
    }

    @Test func recoveryAfterACrashDropsTheZerosAndKeepsEveryAcknowledgedEvent() async throws {
        let source = TemporaryDirectory()
        let log = try EventLog(directory: source.path, options: Self.options())
        for number in 0..<30 { _ = try await log.append(TestSupport.event(number)) }
        let recordsEnd = Int(log.activeSegmentSizeBytes)
        let copy = try Self.copyLive(source, to: "crash")
        log.close()
        #expect(try TestFiles.sizeBytes(copy.appending(SegmentName.log(baseOffset: 0))) > recordsEnd, "the crash copy holds the zeros")
        let notes = Mutex<[String]>([])
        var options = Self.options()
        options.logger = Logger(minimumLevel: .debug) { line in notes.withLock { $0.append(line) } }
        let reopened = try EventLog(directory: copy.path, options: options)
        #expect(reopened.nextOffset == 30)
        #expect(notes.withLock { $0.contains { $0.contains("zero-filled space") } }, "\(notes.withLock { $0 })")
        #expect(!notes.withLock { $0.contains { $0.contains("torn tail") } }, "zeros are not reported as damage")
        let appended = try await reopened.append(TestSupport.event(30))
        #expect(appended.offset == 30)
        reopened.close()
        #expect(try TestSupport.readAll(copy.path).map(\.eventID) == (0...30).map { "evt_\($0)" })
    }

    @Test func aGroupCutShortInsideTheZerosIsATornTail() async throws {
        let source = TemporaryDirectory()
        let log = try EventLog(directory: source.path, options: Self.options())
        for number in 0..<30 { _ = try await log.append(TestSupport.event(number)) }
        let recordsEnd = Int(log.activeSegmentSizeBytes)
        // The frame the next append would write, cut after its first half (the rest still zeros).
        for number in 30..<31 { _ = try await log.append(TestSupport.event(number)) }
        let frameEnd = Int(log.activeSegmentSizeBytes)
        let copy = try Self.copyLive(source, to: "torn")
        log.close()
        let segment = copy.appending(SegmentName.log(baseOffset: 0))
        try TestFiles.zero(segment, at: (recordsEnd + frameEnd) / 2, count: frameEnd - (recordsEnd + frameEnd) / 2)
        let reopened = try EventLog(directory: copy.path, options: Self.options())
        #expect(reopened.nextOffset == 30, "the cut record is dropped, every earlier one kept")
        reopened.close()
        #expect(try TestSupport.readAll(copy.path).map(\.eventID) == (0..<30).map { "evt_\($0)" })
    }

    @Test func dataBehindAZeroFrameHeaderIsDamageNotATail() async throws {
        let source = TemporaryDirectory()
        let log = try EventLog(directory: source.path, options: Self.options())
        for number in 0..<30 { _ = try await log.append(TestSupport.event(number)) }
        let copy = try Self.copyLive(source, to: "zeroed")
        log.close()
        // The 20th record's header zeroed: acknowledged records follow it, so it is no tail to cut. (Without
        // the index, recovery scans the segment from its start, not from the last index entry.)
        try TestSupport.removeIndex(in: copy)
        let segment = copy.appending(SegmentName.log(baseOffset: 0))
        let frame = try TestSupport.frames(of: segment)[20]
        try TestFiles.zero(segment, at: frame.position, count: 8)
        #expect(throws: EventLogError.self) { _ = try EventLog(directory: copy.path, options: Self.options()) }
        #expect(!(try LogVerifier.verify(directory: copy.path).isIntact))
    }

    /// A copy of a live log of 10 events whose 11th frame is half there: what a reader may see while the writer's
    /// pwrite copies that frame over the zeros (its header and first bytes in, the rest still zeros: a CRC
    /// mismatch, not an incomplete frame). Returns the copy, its segment, where the zeros start and the bytes
    /// the copy writes there.
    static func frameBeingCopied(_ name: String) async throws -> (copy: TemporaryDirectory, segment: String, position: Int, rest: [UInt8]) {
        let source = TemporaryDirectory()
        let log = try EventLog(directory: source.path, options: options())
        for number in 0..<10 { _ = try await log.append(TestSupport.event(number)) }
        let recordsEnd = Int(log.activeSegmentSizeBytes)
        _ = try await log.append(TestSupport.event(10, organization: "org_" + String(repeating: "x", count: 200)))
        let frameEnd = Int(log.activeSegmentSizeBytes)
        let copy = try copyLive(source, to: name)
        log.close()
        let segment = copy.appending(SegmentName.log(baseOffset: 0))
        let middle = recordsEnd + 24
        let rest = Array([UInt8](try Data(contentsOf: URL(fileURLWithPath: segment)))[middle..<frameEnd])
        try TestFiles.zero(segment, at: middle, count: frameEnd - middle)
        return (copy, segment, middle, rest)
    }

    @Test func aReaderOfAnotherProcessWaitsForAFrameTheWriterIsCopyingIn() async throws {
        let (copy, segment, middle, rest) = try await Self.frameBeingCopied("copying")
        var reader = try LogReader(directory: copy.path, start: .beginning)
        var ids: [String] = []
        while let record = try reader.next() { ids.append(record.eventID) }
        #expect(ids == (0..<10).map { "evt_\($0)" }, "the frame being copied is not read yet, and is no error")
        #expect(try reader.next() == nil, "asked again while the frame is still being copied")
        // The copy finishes: the reader returns the record.
        try TestFiles.write(rest, into: segment, at: middle)
        #expect(try reader.next()?.eventID == "evt_10")
        // Damage is still damage: a bad frame with records after it.
        let frame = try TestSupport.frames(of: segment)[5]
        try TestFiles.write([0xFF, 0xEE], into: segment, at: frame.position + 20)
        var damaged = try LogReader(directory: copy.path, start: .beginning)
        #expect(throws: EventLogError.self) { while try damaged.next() != nil {} }
    }

    @Test func aZeroedSectorInASealedSegmentIsDamageToAReaderNotAFrameBeingWritten() async throws {
        let directory = TemporaryDirectory()
        let log = try EventLog(directory: directory.path, options: Self.options(segmentSizeBytes: 4096))
        for number in 0..<200 { _ = try await log.append(TestSupport.event(number)) }
        log.close()
        #expect(try SegmentCatalog.baseOffsets(directory: directory.path).count > 2)
        // A whole sector of the first (sealed) segment zeroed, as a failing disk might.
        try TestFiles.zero(directory.appending(SegmentName.log(baseOffset: 0)), at: 1024, count: 512)
        var reader = try LogReader(directory: directory.path, start: .beginning)
        #expect(throws: EventLogError.self, "a sealed segment is never written again: the reader must not wait there") {
            while try reader.next() != nil {}
        }
    }

    @Test func aCrashWhileSealingThatKeptTheZerosAfterTheFooterIsRecovered() async throws {
        let source = TemporaryDirectory()
        let log = try EventLog(directory: source.path, options: Self.options(segmentSizeBytes: 4096))
        for number in 0..<100 { _ = try await log.append(TestSupport.event(number)) }
        log.close()
        let sealed = try #require(try SegmentCatalog.summaries(directory: source.path).first)
        #expect(sealed.sealed)
        // The state a power cut can leave while sealing: the footer on disk, the cut of the zero-filled space
        // before it not (the file keeps its old size), and the next segment never created.
        let copy = TemporaryDirectory("sealing")
        for name in [SegmentName.log(baseOffset: 0), SegmentName.index(baseOffset: 0)] {
            try FileManager.default.copyItem(atPath: source.appending(name), toPath: copy.appending(name))
        }
        let segment = copy.appending(SegmentName.log(baseOffset: 0))
        try TestFiles.zero(segment, at: try TestFiles.sizeBytes(segment), count: 512)
        let reopened = try EventLog(directory: copy.path, options: Self.options(segmentSizeBytes: 4096))
        let recordCount = try #require(sealed.lastOffset) + 1
        #expect(reopened.nextOffset == recordCount)
        _ = try await reopened.append(TestSupport.event(Int(recordCount)))
        reopened.close()
        #expect(try TestFiles.sizeBytes(segment) == Int(sealed.sizeBytes), "the zeros after the footer are cut")
        #expect(try TestSupport.readAll(copy.path).map(\.eventID) == (0...Int(recordCount)).map { "evt_\($0)" })
        #expect(try LogVerifier.verify(directory: copy.path).isIntact)
    }

    @Test func aPowerCutThatWroteOnlyLaterSectorsOfTheLastGroupIsATornTail() async throws {
        let source = TemporaryDirectory()
        let log = try EventLog(directory: source.path, options: Self.options())
        for number in 0..<30 { _ = try await log.append(TestSupport.event(number)) }
        let recordsEnd = Int(log.activeSegmentSizeBytes)
        // The last group, 20 events in one append (so one pwrite and one fdatasync).
        _ = try await log.append(batch: (30..<50).map { TestSupport.event($0) })
        let groupEnd = Int(log.activeSegmentSizeBytes)
        let copy = try Self.copyLive(source, to: "power-cut")
        log.close()
        // The index gets a group's entries only after its fdatasync: none of the cut group's are on disk.
        try TestSupport.removeIndex(in: copy)
        // A power cut during the group's fdatasync: the sectors from its start up to one full sector past it
        // never reached the disk, its later sectors did.
        let holeEnd = (recordsEnd / 512 + 2) * 512
        #expect(holeEnd < groupEnd - 64, "the group has data after the hole: \(recordsEnd) \(holeEnd) \(groupEnd)")
        let segment = copy.appending(SegmentName.log(baseOffset: 0))
        try TestFiles.zero(segment, at: recordsEnd, count: holeEnd - recordsEnd)
        let before = try LogVerifier.verify(directory: copy.path)
        #expect(before.isIntact && before.summary.notes.contains { $0.contains("torn tail at offset 30") }, "\(before.summary.notes)")
        let reopened = try EventLog(directory: copy.path, options: Self.options())
        #expect(reopened.nextOffset == 30, "the unacknowledged group is cut, every acknowledged event kept")
        _ = try await reopened.append(TestSupport.event(30))
        reopened.close()
        #expect(try TestSupport.readAll(copy.path).map(\.eventID) == (0...30).map { "evt_\($0)" })
        #expect(try LogVerifier.verify(directory: copy.path).isIntact)

        // The same with the group's first sector written and the two after it not (a frame cut by the hole).
        let again = try Self.copyLive(source, to: "power-cut-inside")
        try TestSupport.removeIndex(in: again)
        let holeStart = (recordsEnd / 512 + 1) * 512
        try TestFiles.zero(again.appending(SegmentName.log(baseOffset: 0)), at: holeStart, count: 1024)
        #expect(holeStart + 1024 < groupEnd - 64)
        let reopenedAgain = try EventLog(directory: again.path, options: Self.options())
        #expect(reopenedAgain.nextOffset >= 30 && reopenedAgain.nextOffset < 50, "\(reopenedAgain.nextOffset)")
        reopenedAgain.close()
    }
}
