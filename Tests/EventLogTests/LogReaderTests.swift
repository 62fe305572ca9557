import ArgusTestSupport
import Foundation
import Synchronization
import Testing
@testable import EventLog

/// What a `LogReader` asks of the writer and of the directory while it reads: the writer's extent only for
/// the active segment, and no directory listing at each call while it waits at a frame being written.
@Suite(.timeLimit(.minutes(2))) struct LogReaderTests {
    /// Counts the reader's calls of the writer's extent (each one takes the writer's lock).
    final class ExtentCalls: Sendable {
        let count = Mutex(0)
    }

    @Test func theWritersExtentIsAskedForOnlyWhileReadingTheActiveSegment() async throws {
        let directory = TemporaryDirectory()
        let log = try EventLog(directory: directory.path, options: TestSupport.options(segmentSizeBytes: 4096))
        for number in 0..<200 { _ = try await log.append(TestSupport.event(number)) }
        log.close()
        let bases = try SegmentCatalog.baseOffsets(directory: directory.path)
        let activeBase = try #require(bases.last)
        #expect(bases.count > 3, "several sealed segments before the active one")
        let active = ActiveExtent(baseOffset: activeBase, sizeBytes: Int64(try TestFiles.sizeBytes(directory.appending(SegmentName.log(baseOffset: activeBase)))))
        let calls = ExtentCalls()
        var reader = try LogReader(directory: directory.path, start: .beginning, limit: nil, activeExtent: {
            calls.count.withLock { $0 += 1 }
            return active
        })
        var offsets: [UInt64] = []
        while let record = try reader.next() { offsets.append(record.offset) }
        #expect(offsets == Array(0..<200))
        // Once per sealed segment (it learns that the writer has moved on), then once per record of the active one
        // and once for the end.
        let activeRecords = 200 - Int(activeBase)
        let asked = calls.count.withLock { $0 }
        #expect(asked <= bases.count - 1 + activeRecords + 1, "\(asked) calls for \(bases.count - 1) sealed segments and \(activeRecords) active records")
    }

    @Test func aReaderWaitingAtAFrameBeingWrittenDoesNotListTheDirectoryAtEachCall() async throws {
        // The 11th frame half copied in (the rest still zeros), as a reader of another process may see it.
        let (copy, _, middle, rest) = try await PreallocationTests.frameBeingCopied("copying")
        var reader = try LogReader(directory: copy.path, start: .beginning)
        var ids: [String] = []
        while let record = try reader.next() { ids.append(record.eventID) }
        #expect(ids == (0..<10).map { "evt_\($0)" })
        // The directory gone from under it: a reader that listed it again at the same frame would fail now.
        let moved = copy.path + "-moved"
        try FileManager.default.moveItem(atPath: copy.path, toPath: moved)
        defer { try? FileManager.default.removeItem(atPath: moved) }
        #expect(try reader.next() == nil, "asked again while the frame is still being written: no listing, no error")
        // The copy finishes: the reader (its file open) returns the record.
        try TestFiles.write(rest, into: moved + "/" + SegmentName.log(baseOffset: 0), at: middle)
        #expect(try reader.next()?.eventID == "evt_10")
    }
}
