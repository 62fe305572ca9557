import Foundation
import Testing
import Archive

/// Manifest entries are objects in cold storage: their bytes never change, and entries written by
/// earlier builds still decode.
@Suite struct ArchiveManifestEntryTests {
    static let digest = [UInt8](repeating: 0xAB, count: 32)
    static let hex = String(repeating: "ab", count: 32)

    @Test func theEncodingIsByteForByteTheFormatArchivesHold() throws {
        let entry = ArchiveManifestEntry(baseOffset: 100, recordCount: 3, firstTimestampMs: 1_780_000_000_000, lastTimestampMs: 1_780_000_000_500,
                                         sizeBytes: 4096, sha256: Self.digest, chainIn: Self.digest, chainOut: Self.digest,
                                         archivedAtMs: 1_780_000_001_000)
        let expected = #"{"format":"argus-archive-manifest/1","base_offset":100,"last_offset":102,"records":3,"#
            + #""first_time":"2026-05-28T20:26:40.000+00:00","last_time":"2026-05-28T20:26:40.500+00:00","#
            + #""first_time_ms":1780000000000,"last_time_ms":1780000000500,"bytes":4096,"#
            + #""sha256":"\#(Self.hex)","chain_in":"\#(Self.hex)","chain_out":"\#(Self.hex)","#
            + #""segment_key":"\#(entry.segmentKey)","archived_at":"2026-05-28T20:26:41.000+00:00"}"# + "\n"
        #expect(String(decoding: entry.encoded(), as: UTF8.self) == expected)
        #expect(try ArchiveManifestEntry.decode(Data(expected.utf8), key: "k") == entry)

        let empty = ArchiveManifestEntry(baseOffset: 7, recordCount: 0, firstTimestampMs: nil, lastTimestampMs: nil, sizeBytes: 64,
                                         sha256: Self.digest, chainIn: Self.digest, chainOut: Self.digest, archivedAtMs: 1_780_000_001_000)
        let emptyText = String(decoding: empty.encoded(), as: UTF8.self)
        #expect(emptyText.contains(#""last_offset":null,"records":0,"first_time":null,"last_time":null,"first_time_ms":null,"last_time_ms":null,"#))
        #expect(try ArchiveManifestEntry.decode(empty.encoded(), key: "k") == empty)
    }

    @Test func malformedEntriesAreIntegrityErrors() {
        for text in ["[]", "{", #"{"format":"other"}"#,
                     #"{"format":"argus-archive-manifest/1","base_offset":-1,"records":1}"#] {
            #expect(throws: ArchiveError.self) { _ = try ArchiveManifestEntry.decode(Data(text.utf8), key: "k") }
        }
    }
}
