import Crypto
import Foundation
import Testing
@testable import Archive
import EventLog

/// `Archiver(adoptsOnly: true)` (processes that do not seal under `serve --engine`): records the local sealed
/// segments the archive already holds, uploads nothing, and refuses an archived segment whose bytes differ.
@Suite(.timeLimit(.minutes(2))) struct ArchiverAdoptTests {
    /// An archiver with its own state directory (a second process's), adopting only or not.
    static func archiver(_ fixture: ArchiveFixture, target: any ArchiveTarget, adoptsOnly: Bool) -> Archiver {
        Archiver(logDirectory: fixture.logDirectory, stateDirectory: fixture.temporary.appending("other-state"),
                 target: target, adoptsOnly: adoptsOnly)
    }

    @Test func segmentsTheArchiveHoldsAreAdoptedAndNothingIsUploaded() async throws {
        let fixture = try ArchiveFixture(count: 150)
        let archived = try fixture.sealedBases()
        _ = try await fixture.archiver().run()
        // More sealed segments the archive does not hold: an adopting run stops before them.
        try fixture.append(count: 150, from: 150)
        let sealed = try fixture.sealedBases()
        #expect(sealed.count > archived.count)
        let counting = FaultyTarget(fixture.target)
        let summary = try await Self.archiver(fixture, target: counting, adoptsOnly: true).run()
        #expect(summary.alreadyArchived == archived.count)
        #expect(summary.uploadedSegments == 0)
        #expect(counting.putCount("") == 0, "an adopting run uploads nothing")
        let state = try ArchiveState.load(directory: fixture.temporary.appending("other-state"))
        #expect(state.segments.map(\.baseOffset) == archived)
    }

    @Test(arguments: [true, false]) func anArchivedSegmentWithAByteChangedIsNotAdopted(adoptsOnly: Bool) async throws {
        let fixture = try ArchiveFixture(count: 150)
        let sealed = try fixture.sealedBases()
        _ = try await fixture.archiver().run()
        // The archive's copy of the second segment differs in one record byte, its manifest entry updated to
        // match (the archive is consistent in itself, the chains and counts unchanged): not the local segment.
        let key = ArchiveLayout.segmentKey(baseOffset: sealed[1])
        let object = fixture.object(key)
        let frame = try frames(of: object)[2]
        try flipByte(object, at: frame.position + frame.size - 3)
        let manifestPath = fixture.object(ArchiveLayout.manifestKey(baseOffset: sealed[1]))
        var entry = try ArchiveManifestEntry.decode(try Data(contentsOf: URL(fileURLWithPath: manifestPath)),
                                                    key: ArchiveLayout.manifestKey(baseOffset: sealed[1]))
        entry.sha256 = SHA256.hash([UInt8](try Data(contentsOf: URL(fileURLWithPath: object))))
        try entry.encoded().write(to: URL(fileURLWithPath: manifestPath))

        let run = Self.archiver(fixture, target: fixture.target, adoptsOnly: adoptsOnly)
        let error = await #expect(throws: ArchiveError.self) { _ = try await run.run() }
        #expect(error?.kind == .integrity)
        #expect(error?.message.contains("differs from the local one") == true, "\(String(describing: error))")
        #expect(error?.description.contains(key) == true, "the error names the key: \(String(describing: error))")
        let state = try ArchiveState.load(directory: fixture.temporary.appending("other-state"))
        #expect(state.segments.map(\.baseOffset) == [sealed[0]], "only the identical segment is recorded")
        #expect(FileManager.default.fileExists(atPath: fixture.logDirectory + "/" + SegmentName.log(baseOffset: sealed[1])))
    }

    @Test func anArchivedObjectThatDoesNotMatchItsEntryIsNotAdopted() async throws {
        let fixture = try ArchiveFixture(count: 150)
        let sealed = try fixture.sealedBases()
        _ = try await fixture.archiver().run()
        let object = fixture.object(ArchiveLayout.segmentKey(baseOffset: sealed[0]))
        try flipByte(object, at: 40)  // inside the header's chain-in: the entry's SHA-256 no longer matches
        let run = Self.archiver(fixture, target: fixture.target, adoptsOnly: true)
        let error = await #expect(throws: ArchiveError.self) { _ = try await run.run() }
        #expect(error?.kind == .integrity)
        #expect(try ArchiveState.load(directory: fixture.temporary.appending("other-state")).segments.isEmpty)
    }
}
