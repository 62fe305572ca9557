import Foundation
import Testing
@testable import Archive

/// `archive/state.jsonl` as written before SystemIO's `Journal` opens unchanged and is migrated on
/// the next record.
@Suite struct ArchiveStateLegacyTests {
    @Test func aLegacyStateFileIsReadAndMigratedIntoTheJournal() throws {
        let directory = NSTemporaryDirectory() + "argus-archive-state-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let digest = String(repeating: "ab", count: 32)
        // As the old ArchiveState.record wrote it, with a torn last line.
        let legacy = #"{"target":"file:///a/","base_offset":0,"last_offset":812,"bytes":65612,"sha256":"\#(digest)","verified_at":"2026-11-29T10:00:00.000Z"}"#
            + "\n" + #"{"target":"file:///a/","base_offset":813,"last_offset":null,"bytes":40,"sha256":"\#(digest)","verified_at":"2026-11-29T10:00:01.000Z"}"#
            + "\n" + #"{"target":"file:///a/","base_"#
        try Data(legacy.utf8).write(to: URL(fileURLWithPath: directory + "/state.jsonl"))
        var state = try ArchiveState.load(directory: directory)
        #expect(state.segments.map(\.baseOffset) == [0, 813])
        #expect(state.segments.first?.lastOffset == 812 && state.segments.last?.lastOffset == nil)
        #expect(state.segments.first?.sizeBytes == 65612)
        try state.record(ArchiveState.Segment(target: "file:///a/", baseOffset: 900, lastOffset: 950, sizeBytes: 7,
                                              sha256: [UInt8](repeating: 1, count: 32), verifiedAtMs: 1_780_000_000_000))
        #expect(!FileManager.default.fileExists(atPath: directory + "/state.jsonl"))
        let reloaded = try ArchiveState.load(directory: directory)
        #expect(reloaded.segments.map(\.baseOffset) == [0, 813, 900])
        #expect(reloaded.isArchivedAndVerified(baseOffset: 813))
        #expect(reloaded.segments.last?.verifiedAtMs == 1_780_000_000_000)
    }
}
