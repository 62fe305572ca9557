import ArgusTestSupport
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

    /// Changes one record byte of the archived segment at `baseOffset` and updates its manifest entry's SHA-256 to
    /// match (the archive stays consistent in itself, chains and counts unchanged). Returns the segment's key.
    static func changeArchivedRecordByte(_ fixture: ArchiveFixture, baseOffset: UInt64) throws -> String {
        let key = ArchiveLayout.segmentKey(baseOffset: baseOffset)
        let object = fixture.object(key)
        let frame = try frames(of: object)[2]
        try TestFiles.flipByte(object, at: frame.position + frame.size - 3)
        let manifestPath = fixture.object(ArchiveLayout.manifestKey(baseOffset: baseOffset))
        var entry = try ArchiveManifestEntry.decode(try Data(contentsOf: URL(fileURLWithPath: manifestPath)),
                                                    key: ArchiveLayout.manifestKey(baseOffset: baseOffset))
        entry.sha256 = SHA256.hash([UInt8](try Data(contentsOf: URL(fileURLWithPath: object))))
        try entry.encoded().write(to: URL(fileURLWithPath: manifestPath))
        return key
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

    @Test func anotherCopyOfTheSameRecordsIsAdoptedAndADifferentLogIsRefused() async throws {
        let original = try ArchiveFixture(count: 150)
        let sealed = try original.sealedBases()
        _ = try await original.archiver().run()
        // Another process's copy: every segment differs from the archived one in its header's creation time
        // (so in its SHA-256), and it goes on past what the archive holds.
        let copy = try original.copy("copy")
        try copy.append(count: 100, from: 150)
        let copySealed = try copy.sealedBases()
        #expect(copySealed.count > sealed.count)
        for base in sealed {
            let name = SegmentName.log(baseOffset: base)
            #expect(FileManager.default.contents(atPath: copy.logDirectory + "/" + name)
                    != FileManager.default.contents(atPath: original.logDirectory + "/" + name), "the copies' \(name) differ (header time)")
        }
        let counting = FaultyTarget(original.target)
        let summary = try await Self.archiver(copy, target: counting, adoptsOnly: true).run()
        #expect(summary.alreadyArchived == sealed.count, "the copy's segments of the same records are adopted")
        #expect(summary.uploadedSegments == 0 && counting.putCount("") == 0, "an adopting run uploads nothing")
        let adopted = try ArchiveState.load(directory: copy.temporary.appending("other-state")).segments
        let archivedState = try ArchiveState.load(directory: original.stateDirectory).segments
        #expect(adopted.map(\.baseOffset) == sealed)
        #expect(adopted.map(\.sha256) == archivedState.map(\.sha256), "recorded with the archived objects' digests")

        // A copy whose records differ (one event's data): refused, nothing recorded.
        let forged = try original.copy("forged", changing: 3)
        let forgedRun = Self.archiver(forged, target: original.target, adoptsOnly: true)
        let forgedError = await #expect(throws: ArchiveError.self) { _ = try await forgedRun.run() }
        #expect(forgedError?.kind == .integrity, "\(String(describing: forgedError))")
        #expect(try ArchiveState.load(directory: forged.temporary.appending("other-state")).segments.isEmpty)

        // The archived second segment with a record byte changed (its entry, chains and counts consistent): the
        // copy, whose header time differs too, is compared byte for byte and refused from that segment on.
        let key = try Self.changeArchivedRecordByte(original, baseOffset: sealed[1])
        let freshState = copy.temporary.appending("fresh-state")
        let run = Archiver(logDirectory: copy.logDirectory, stateDirectory: freshState, target: original.target, adoptsOnly: true)
        let error = await #expect(throws: ArchiveError.self) { _ = try await run.run() }
        #expect(error?.kind == .integrity)
        #expect(error?.message.contains("differs from the local one") == true, "\(String(describing: error))")
        #expect(error?.description.contains(key) == true, "the error names the key: \(String(describing: error))")
        #expect(try ArchiveState.load(directory: freshState).segments.map(\.baseOffset) == [sealed[0]])

        // The first segment's manifest entry with another SHA-256 (the object the same records): the object
        // does not match its entry, so it is refused too.
        let manifestKey = ArchiveLayout.manifestKey(baseOffset: sealed[0])
        var entry = try ArchiveManifestEntry.decode(try Data(contentsOf: URL(fileURLWithPath: original.object(manifestKey))), key: manifestKey)
        entry.sha256[0] ^= 0x01
        try entry.encoded().write(to: URL(fileURLWithPath: original.object(manifestKey)))
        let mismatchState = copy.temporary.appending("mismatch-state")
        let mismatchRun = Archiver(logDirectory: copy.logDirectory, stateDirectory: mismatchState, target: original.target, adoptsOnly: true)
        let mismatch = await #expect(throws: ArchiveError.self) { _ = try await mismatchRun.run() }
        #expect(mismatch?.message.contains("does not match its manifest entry") == true, "\(String(describing: mismatch))")
        #expect(try ArchiveState.load(directory: mismatchState).segments.isEmpty)
    }

    @Test(arguments: [true, false]) func anArchivedSegmentWithAByteChangedIsNotAdopted(adoptsOnly: Bool) async throws {
        let fixture = try ArchiveFixture(count: 150)
        let sealed = try fixture.sealedBases()
        _ = try await fixture.archiver().run()
        // The archive's copy of the second segment differs in one record byte, its manifest entry updated to
        // match (the archive is consistent in itself, the chains and counts unchanged): not the local segment.
        let key = try Self.changeArchivedRecordByte(fixture, baseOffset: sealed[1])

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
        try TestFiles.flipByte(object, at: 40)  // inside the header's chain-in: the entry's SHA-256 no longer matches
        let run = Self.archiver(fixture, target: fixture.target, adoptsOnly: true)
        let error = await #expect(throws: ArchiveError.self) { _ = try await run.run() }
        #expect(error?.kind == .integrity)
        #expect(try ArchiveState.load(directory: fixture.temporary.appending("other-state")).segments.isEmpty)
    }
}
