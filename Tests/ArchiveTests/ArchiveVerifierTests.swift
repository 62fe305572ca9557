import ArgusTestSupport
import Foundation
import Testing
@testable import Archive
import EventLog

/// Tampered, missing, duplicated, reordered and inserted archive objects are found, at the right offset.
@Suite(.timeLimit(.minutes(2))) struct ArchiveVerifierTests {
    /// An archived fixture and its manifest entries.
    static func archived(_ label: String = #function) async throws -> (ArchiveFixture, [ArchiveManifestEntry]) {
        let fixture = try ArchiveFixture(label)
        _ = try await fixture.archiver().run()
        var entries: [ArchiveManifestEntry] = []
        for base in try fixture.sealedBases() {
            let key = ArchiveLayout.manifestKey(baseOffset: base)
            entries.append(try ArchiveManifestEntry.decode(try #require(try await fixture.target.get(key: key)), key: key))
        }
        return (fixture, entries)
    }

    @Test func aModifiedRecordIsNamedByItsOffset() async throws {
        let (fixture, entries) = try await Self.archived()
        let entry = entries[2]
        let path = fixture.object(entry.segmentKey)
        let frame = try frames(of: path)[3]   // the fourth record of the segment
        try TestFiles.flipByte(path, at: frame.position + frame.size - 2)
        let report = try await ArchiveVerifier.verify(target: fixture.target)
        #expect(report.summary.firstBadOffset == entry.baseOffset + 3, "\(report.summary.problem ?? "")")
        #expect(report.summary.segmentCount == 2)
    }

    @Test func aReplacedButSelfConsistentObjectFailsItsDigest() async throws {
        let (fixture, entries) = try await Self.archived()
        // Append a byte: records still parse up to the footer, but size and SHA-256 differ.
        let path = fixture.object(entries[1].segmentKey)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes.append(0)
        try bytes.write(to: URL(fileURLWithPath: path))
        let report = try await ArchiveVerifier.verify(target: fixture.target)
        #expect(report.summary.firstBadOffset != nil)
        // Extra bytes after the footer are reported where they sit: after the last record of that segment.
        #expect(report.summary.firstBadOffset.map { $0 >= entries[1].baseOffset && $0 <= entries[1].nextOffset } == true)
    }

    @Test func aMissingSegmentObject() async throws {
        let (fixture, entries) = try await Self.archived()
        try FileManager.default.removeItem(atPath: fixture.object(entries[3].segmentKey))
        let report = try await ArchiveVerifier.verify(target: fixture.target)
        #expect(report.summary.firstBadOffset == entries[3].baseOffset)
        #expect(report.summary.problem?.contains("missing") == true)
    }

    @Test func aMissingManifestEntryIsAGap() async throws {
        let (fixture, entries) = try await Self.archived()
        try FileManager.default.removeItem(atPath: fixture.object(entries[2].manifestKey))
        let report = try await ArchiveVerifier.verify(target: fixture.target)
        #expect(report.summary.firstBadOffset == entries[2].baseOffset)
    }

    @Test func aDuplicatedSegmentObject() async throws {
        let (fixture, entries) = try await Self.archived()
        // Segment 1's object copied under a key past the end of the archive.
        let bogus = entries.last!.nextOffset + 1000
        try FileManager.default.copyItem(atPath: fixture.object(entries[1].segmentKey),
                                         toPath: fixture.object(ArchiveLayout.segmentKey(baseOffset: bogus)))
        let report = try await ArchiveVerifier.verify(target: fixture.target)
        #expect(report.summary.firstBadOffset == bogus, "\(report.summary.problem ?? "")")
        #expect(report.summary.problem?.contains("not in the manifest") == true)
    }

    @Test func aDuplicatedManifestEntry() async throws {
        let (fixture, entries) = try await Self.archived()
        // Entry 1 copied to the key of entry 3: it describes the wrong base offset.
        try FileManager.default.removeItem(atPath: fixture.object(entries[3].manifestKey))
        try FileManager.default.copyItem(atPath: fixture.object(entries[1].manifestKey), toPath: fixture.object(entries[3].manifestKey))
        let report = try await ArchiveVerifier.verify(target: fixture.target)
        #expect(report.summary.firstBadOffset == entries[3].baseOffset, "\(report.summary.problem ?? "")")
    }

    @Test func reorderedSegmentObjects() async throws {
        let (fixture, entries) = try await Self.archived()
        let first = fixture.object(entries[1].segmentKey)
        let second = fixture.object(entries[2].segmentKey)
        try FileManager.default.moveItem(atPath: first, toPath: first + ".swap")
        try FileManager.default.moveItem(atPath: second, toPath: first)
        try FileManager.default.moveItem(atPath: first + ".swap", toPath: second)
        let report = try await ArchiveVerifier.verify(target: fixture.target)
        #expect(report.summary.firstBadOffset == entries[1].baseOffset, "\(report.summary.problem ?? "")")
    }

    @Test func aLocalLogThatDoesNotContinueTheArchive() async throws {
        let (fixture, entries) = try await Self.archived()
        // Retention removed local segments 0...3 after archiving, then the archive lost its last two entries:
        // the local log now starts after a hole.
        for entry in entries.prefix(4) {
            try FileManager.default.removeItem(atPath: fixture.logDirectory + "/" + SegmentName.log(baseOffset: entry.baseOffset))
            try? FileManager.default.removeItem(atPath: fixture.logDirectory + "/" + SegmentName.index(baseOffset: entry.baseOffset))
        }
        let intact = try await ArchiveVerifier.verify(target: fixture.target, localLogDirectory: fixture.logDirectory)
        #expect(intact.isIntact, "\(intact.summary.problem ?? "")")
        for entry in entries.suffix(from: 2) {
            try FileManager.default.removeItem(atPath: fixture.object(entry.manifestKey))
            try FileManager.default.removeItem(atPath: fixture.object(entry.segmentKey))
        }
        let report = try await ArchiveVerifier.verify(target: fixture.target, localLogDirectory: fixture.logDirectory)
        #expect(report.summary.firstBadOffset == entries[2].baseOffset, "\(report.summary.problem ?? "")")
    }

    @Test func anEmptyArchiveWithALocalLogIsJustTheLocalLog() async throws {
        let fixture = try ArchiveFixture(count: 50)
        let report = try await ArchiveVerifier.verify(target: fixture.target, localLogDirectory: fixture.logDirectory)
        #expect(report.isIntact && report.summary.segmentCount == 0)
        #expect(report.local?.summary.recordCount == 50)
    }
}
