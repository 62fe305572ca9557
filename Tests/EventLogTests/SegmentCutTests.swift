import ArgusTestSupport
import Foundation
import Testing
@testable import EventLog

/// `EventLog.segmentCut`: a copier that never appends past a roll point in one group gets the segment
/// boundaries of one-event groups, whatever its grouping (group sizes drawn from a seed the failure messages
/// name; `ARGUS_TEST_SEED=<seed>` reruns them).
@Suite struct SegmentCutTests {
    static func segmentBases(_ directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".log") }.sorted()
    }

    @Test func groupsCutAtTheRollPointGiveTheBoundariesOfSingleAppends() async throws {
        let single = TemporaryDirectory("single"), grouped = TemporaryDirectory("grouped")
        let events = (0..<400).map { TestSupport.event($0) }
        let options = TestSupport.options(segmentSizeBytes: EventLogLimits.segmentSizeBytesMin)
        let one = try EventLog(directory: single.path, options: options)
        for event in events { _ = try await one.append(batch: [event]) }
        one.close()

        let copy = try EventLog(directory: grouped.path, options: options)
        var generator = try SeededGenerator.varying()
        var next = 0
        while next < events.count {
            let wanted = Int.random(in: 1...60, using: &generator)
            let group = events[next..<min(events.count, next + wanted)]
            let count = EventLog.segmentCut(group, activeSizeBytes: copy.activeSegmentSizeBytes, segmentSizeBytesMax: copy.segmentSizeBytesMax)
            #expect(count >= 1 && count <= group.count, "seed \(generator.seed)")
            _ = try await copy.append(batch: Array(group.prefix(count)))
            next += count  // the rest of the group comes in the next one
        }
        copy.close()
        let reference = try Self.segmentBases(single.path)
        #expect(reference.count > 5, "several segments: \(reference.count)")
        #expect(try Self.segmentBases(grouped.path) == reference, "cut groups roll where single appends roll (seed \(generator.seed))")
    }

    @Test func theCutCountsFramesUpToTheFirstThatReachesTheRollSize() {
        let events = (0..<10).map { TestSupport.event($0) }
        let frame = RecordFrame.frameSizeBytes(of: events[0])
        let header = Int64(SegmentHeader.sizeBytes)
        let max = Int(header) + 3 * frame
        #expect(EventLog.segmentCut(events[0..<1], activeSizeBytes: header, segmentSizeBytesMax: max) == 1)
        #expect(EventLog.segmentCut([events[0], events[0], events[0], events[0]][...], activeSizeBytes: header, segmentSizeBytesMax: max) == 3,
                "the third frame reaches the roll size: the fourth goes to the next segment")
        #expect(EventLog.segmentCut([events[0], events[0]][...], activeSizeBytes: Int64(max), segmentSizeBytesMax: max) == 2,
                "a full segment rolls first: the group starts a new one")
        #expect(EventLog.segmentCut(ArraySlice<NewEvent>(), activeSizeBytes: header, segmentSizeBytesMax: max) == 0)
    }
}
