import Foundation
import Testing
@testable import Archive
import EventLog

/// Retention deletes only segments that are archived, verified and passed by every cursor.
@Suite(.timeLimit(.minutes(2))) struct ArchiveRetentionTests {
    @Test func retentionWaitsForArchiveAndCursors() async throws {
        let fixture = try ArchiveFixture()
        let sealed = try fixture.sealedBases()
        let summaries = try SegmentCatalog.summaries(directory: fixture.logDirectory)
        let everything = RetentionPolicy(sizeBytesMax: 0)
        var options = EventLogOptions()
        options.segmentSizeBytesMax = 4096
        options.fsyncPolicy = .none

        // Nothing archived: nothing goes, whatever the cursors say.
        do {
            let log = try EventLog(directory: fixture.logDirectory, options: options)
            defer { log.close() }
            let gate = try ArchiveState.load(directory: fixture.stateDirectory).retentionGate
            #expect(try log.applyRetention(everything, consumersFloor: .max, mayDelete: gate).isEmpty)
        }
        // Archive the first two segments only (the third upload fails).
        let failing = FaultyTarget(fixture.target) { $0 == ArchiveLayout.segmentKey(baseOffset: sealed[2]) }
        await #expect(throws: ArchiveError.self) { _ = try await fixture.archiver(target: failing).run() }

        // Cursors: one webhook has passed segment 0 only.
        let cursors = try CursorStore(directory: fixture.dataDirectory + "/cursors")
        try cursors.commitAndWait("wh_1", offset: (summaries[0].lastOffset ?? 0) + 1)
        try cursors.commitAndWait("wh_2", offset: .max / 2)
        let floor = cursors.all().values.min() ?? 0
        cursors.close()

        let log = try EventLog(directory: fixture.logDirectory, options: options)
        defer { log.close() }
        let gate = try ArchiveState.load(directory: fixture.stateDirectory).retentionGate
        #expect(try log.applyRetention(everything, consumersFloor: floor, mayDelete: gate) == [sealed[0]],
                "segment 1 is archived but a cursor has not passed it")
        #expect(try log.applyRetention(everything, consumersFloor: .max, mayDelete: gate) == [sealed[1]],
                "segment 2 is not archived")
        _ = try await fixture.archiver().run()
        let later = try ArchiveState.load(directory: fixture.stateDirectory).retentionGate
        let deleted = try log.applyRetention(everything, consumersFloor: .max, mayDelete: later)
        #expect(deleted == Array(sealed.dropFirst(2)), "every archived, passed segment; never the active one")
        #expect(try SegmentCatalog.baseOffsets(directory: fixture.logDirectory).count == 1)
        let report = try await ArchiveVerifier.verify(target: fixture.target, localLogDirectory: fixture.logDirectory)
        #expect(report.isIntact, "\(report.summary.problem ?? "")")
    }

    @Test func unverifiedUploadsDoNotCount() async throws {
        let fixture = try ArchiveFixture(count: 100)
        let sealed = try fixture.sealedBases()
        // Object uploaded but its manifest entry (and so the verification record) never written.
        let failing = FaultyTarget(fixture.target) { $0 == ArchiveLayout.manifestKey(baseOffset: sealed[0]) }
        await #expect(throws: ArchiveError.self) { _ = try await fixture.archiver(target: failing).run() }
        let state = try ArchiveState.load(directory: fixture.stateDirectory)
        #expect(!state.isArchivedAndVerified(baseOffset: sealed[0]))
        #expect(!state.retentionGate(sealed[0]))
    }
}
