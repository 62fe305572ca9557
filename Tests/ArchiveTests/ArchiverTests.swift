import ArgusTestSupport
import Crypto
import Foundation
import Testing
@testable import Archive
import EventLog

/// Archiving to a directory, verifying it, and resuming interrupted runs.
@Suite(.timeLimit(.minutes(2))) struct ArchiverTests {
    @Test func archivesEverySealedSegmentThenVerifies() async throws {
        let fixture = try ArchiveFixture()
        let sealed = try fixture.sealedBases()
        #expect(sealed.count >= 4, "fixture has several sealed segments")
        let summary = try await fixture.archiver().run()
        #expect(summary.uploadedSegments == sealed.count)
        #expect(summary.firstOffset == 0)
        let keys = try await fixture.target.list(prefix: "").map(\.key)
        #expect(keys.filter { $0.hasPrefix("segments/") } == sealed.map { ArchiveLayout.segmentKey(baseOffset: $0) })
        #expect(keys.filter { $0.hasPrefix("manifest/") } == sealed.map { ArchiveLayout.manifestKey(baseOffset: $0) })
        // Archived bytes are the local bytes.
        for base in sealed {
            let local = try Data(contentsOf: URL(fileURLWithPath: fixture.logDirectory + "/" + SegmentName.log(baseOffset: base)))
            #expect(try await fixture.target.get(key: ArchiveLayout.segmentKey(baseOffset: base)) == local)
        }
        let state = try ArchiveState.load(directory: fixture.stateDirectory)
        #expect(!sealed.isEmpty && sealed.allSatisfy { state.isArchivedAndVerified(baseOffset: $0) })
        let report = try await ArchiveVerifier.verify(target: fixture.target, localLogDirectory: fixture.logDirectory)
        #expect(report.isIntact, "\(report.summary.problem ?? "")")
        #expect(report.summary.segmentCount == sealed.count)
        #expect(report.local?.isIntact == true)
        // Nothing is deleted locally; a second run has nothing to do.
        #expect(try fixture.sealedBases() == sealed)
        let again = try await fixture.archiver().run()
        #expect(again.uploadedSegments == 0 && again.alreadyArchived == sealed.count)
    }

    @Test func manifestEntriesDescribeTheSegments() async throws {
        let fixture = try ArchiveFixture()
        _ = try await fixture.archiver().run()
        var previous: ArchiveManifestEntry?
        for base in try fixture.sealedBases() {
            let key = ArchiveLayout.manifestKey(baseOffset: base)
            let data = try #require(try await fixture.target.get(key: key))
            let entry = try ArchiveManifestEntry.decode(data, key: key)
            let verification = try LogVerifier.verifySegment(path: fixture.logDirectory + "/" + SegmentName.log(baseOffset: base))
            #expect(entry.baseOffset == base && entry.lastOffset == verification.lastOffset)
            #expect(entry.sha256 == SHA256.hash(try Data(contentsOf: URL(fileURLWithPath: fixture.logDirectory + "/" + SegmentName.log(baseOffset: base)))))
            #expect(entry.chainIn == verification.chainIn && entry.chainOut == verification.chainOut)
            #expect(entry.firstTimestampMs == verification.firstTimestampMs && entry.lastTimestampMs == verification.lastTimestampMs)
            if let previous {
                #expect(entry.baseOffset == previous.nextOffset)
                #expect(entry.chainIn == previous.chainOut)
            }
            // The JSON round-trips and names its fields.
            let text = String(decoding: data, as: UTF8.self)
            for field in ["\"base_offset\"", "\"last_offset\"", "\"first_time\"", "\"last_time\"", "\"bytes\"", "\"sha256\"",
                          "\"chain_in\"", "\"chain_out\""] {
                #expect(text.contains(field))
            }
            previous = entry
        }
    }

    @Test func newSegmentsAreAppendedOnTheNextRun() async throws {
        let fixture = try ArchiveFixture(count: 150)
        let first = try await fixture.archiver().run()
        try fixture.append(count: 200, from: 150)
        let second = try await fixture.archiver().run()
        #expect(second.uploadedSegments > 0)
        #expect(second.firstOffset == (first.lastOffset ?? 0) + 1)
        let report = try await ArchiveVerifier.verify(target: fixture.target, localLogDirectory: fixture.logDirectory)
        #expect(report.isIntact, "\(report.summary.problem ?? "")")
    }

    @Test func interruptedBetweenUploadAndManifestResumesWithoutDuplicateOrGap() async throws {
        let fixture = try ArchiveFixture()
        let sealed = try fixture.sealedBases()
        let stopAt = sealed[2]
        // The third segment's object is uploaded, then its manifest entry fails: a run killed in between.
        let failing = FaultyTarget(fixture.target) { $0 == ArchiveLayout.manifestKey(baseOffset: stopAt) }
        await #expect(throws: ArchiveError.self) { _ = try await fixture.archiver(target: failing).run() }
        #expect(FileManager.default.fileExists(atPath: fixture.object(ArchiveLayout.segmentKey(baseOffset: stopAt))))
        #expect(!FileManager.default.fileExists(atPath: fixture.object(ArchiveLayout.manifestKey(baseOffset: stopAt))))
        let state = try ArchiveState.load(directory: fixture.stateDirectory)
        #expect(state.segments.map(\.baseOffset) == Array(sealed.prefix(2)))
        // The archive as left is consistent (the orphan is a note, not a failure).
        let interim = try await ArchiveVerifier.verify(target: fixture.target)
        #expect(interim.isIntact, "\(interim.summary.problem ?? "")")
        #expect(interim.summary.notes.contains { $0.contains("interrupted") })

        let counting = FaultyTarget(fixture.target)
        let summary = try await fixture.archiver(target: counting).run()
        #expect(summary.alreadyArchived == 2)
        // The next segment may have uploaded while the failing entry was being written: both are reused.
        #expect((1...2).contains(summary.resumedSegments), "the uploaded objects are reused, not sent again")
        #expect(counting.putCount("segments/") == sealed.count - 2 - summary.resumedSegments)
        let keys = try await fixture.target.list(prefix: "").map(\.key)
        #expect(keys.filter { $0.hasPrefix("segments/") }.count == sealed.count)
        #expect(keys.filter { $0.hasPrefix("manifest/") }.count == sealed.count)
        let final = try ArchiveState.load(directory: fixture.stateDirectory)
        #expect(final.segments.map(\.baseOffset) == sealed, "each segment recorded once, in order")
        let report = try await ArchiveVerifier.verify(target: fixture.target, localLogDirectory: fixture.logDirectory)
        #expect(report.isIntact, "\(report.summary.problem ?? "")")
        #expect(report.summary.segmentCount == sealed.count)
    }

    @Test func interruptedMidUploadAndAfterTheManifestResumes() async throws {
        let fixture = try ArchiveFixture()
        let sealed = try fixture.sealedBases()
        // A segment upload that fails outright (network dropped mid-body): nothing of it is visible.
        let failing = FaultyTarget(fixture.target) { $0 == ArchiveLayout.segmentKey(baseOffset: sealed[1]) }
        await #expect(throws: ArchiveError.self) { _ = try await fixture.archiver(target: failing).run() }
        #expect(try ArchiveState.load(directory: fixture.stateDirectory).segments.count == 1)
        _ = try await fixture.archiver().run()
        // Killed after the manifest entry but before the local state: the state is lost entirely.
        try FileManager.default.removeItem(atPath: fixture.stateDirectory + "/state.journal")
        let counting = FaultyTarget(fixture.target)
        let summary = try await fixture.archiver(target: counting).run()
        #expect(summary.uploadedSegments == 0)
        #expect(summary.alreadyArchived == sealed.count, "entries already in the manifest are adopted")
        #expect(counting.putCount("") == 0)
        #expect(try ArchiveState.load(directory: fixture.stateDirectory).segments.map(\.baseOffset) == sealed)
    }

    @Test func anotherCopyOfTheSameLogContinuesTheArchiveAndADifferentLogIsRefused() async throws {
        let original = try ArchiveFixture(count: 150)
        let sealed = try original.sealedBases()
        _ = try await original.archiver().run()
        // A copy of the same records with later header times, then more events the original never archived.
        let other = try original.copy("copy")
        try other.append(count: 100, from: 150)
        let first = SegmentName.log(baseOffset: 0)
        #expect(FileManager.default.contents(atPath: other.logDirectory + "/" + first) != FileManager.default.contents(atPath: original.logDirectory + "/" + first),
                "the copies' segment files differ (header time)")
        let summary = try await other.archiver(target: original.target).run()
        #expect(summary.alreadyArchived == sealed.count, "the copy's segments of the same records are taken as archived")
        #expect(summary.uploadedSegments > 0, "and the copy archives on from there")
        let report = try await ArchiveVerifier.verify(target: original.target, localLogDirectory: other.logDirectory)
        #expect(report.isIntact, "\(report.summary.problem ?? "")")

        let forged = try original.copy("forged", changing: 3)
        await #expect(throws: ArchiveError.self, "a log whose records differ is refused") {
            _ = try await forged.archiver(target: original.target).run()
        }
    }

    @Test func aDamagedLocalSegmentIsNotArchived() async throws {
        let fixture = try ArchiveFixture()
        let sealed = try fixture.sealedBases()
        let path = fixture.logDirectory + "/" + SegmentName.log(baseOffset: sealed[1])
        let frame = try frames(of: path)[2]
        try TestFiles.flipByte(path, at: frame.position + frame.size - 3)
        await #expect(throws: ArchiveError.self) { _ = try await fixture.archiver().run() }
        let state = try ArchiveState.load(directory: fixture.stateDirectory)
        #expect(state.segments.map(\.baseOffset) == [sealed[0]])
        #expect(!FileManager.default.fileExists(atPath: fixture.object(ArchiveLayout.segmentKey(baseOffset: sealed[1]))))
    }

    @Test func oneRunAtATime() async throws {
        let fixture = try ArchiveFixture(count: 20)
        let lock = try Archiver.lock(stateDirectory: fixture.stateDirectory)
        await #expect(throws: ArchiveError.self) { _ = try await fixture.archiver().run() }
        withExtendedLifetime(lock) {}
    }
}
