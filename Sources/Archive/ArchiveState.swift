import Crypto
import EventLog
import Foundation
import JSON
import SystemIO
#if canImport(Glibc)
import Glibc
#endif

/// What this data directory has archived and verified, kept in `<data-dir>/archive/`:
///
/// - `state.journal`: a SystemIO `Journal` with one record per segment whose upload and manifest
///   entry were verified, appended and fsynced after the manifest entry is stored (a torn tail is
///   cut off); each record is a JSON object
///   `{"target":"s3://b/p/","base_offset":0,"last_offset":812,"bytes":65612,"sha256":"<hex>","verified_at":"..."}`.
///   Before the journal these were lines of `state.jsonl`: that file is read once and migrated.
/// - `target.json`: the last target archived to (URL, endpoint, region; never credentials), which
///   `tail` uses to read archived segments back.
///
/// Retention asks `isArchivedAndVerified(baseOffset:)` before deleting a segment.
public struct ArchiveState: Sendable {
    /// One archived and verified segment.
    public struct Segment: Sendable, Equatable {
        /// `location` of the target it went to.
        public var target: String
        /// Base offset of the segment.
        public var baseOffset: UInt64
        /// Offset of its last record (nil for an empty segment).
        public var lastOffset: UInt64?
        /// Size of the archived object, in bytes.
        public var sizeBytes: Int64
        /// SHA-256 of the object (32 bytes).
        public var sha256: [UInt8]
        /// When the upload and the manifest entry were verified, in ms since 1970.
        package var verifiedAtMs: Int64
    }

    /// Where an archive lives, without credentials.
    public struct TargetSettings: Sendable, Equatable {
        /// `file:///DIR` or `s3://BUCKET/PREFIX`.
        public var url: String
        /// `--s3-endpoint`, when one was used.
        public var endpoint: String?
        /// `--region`, when one was given.
        public var region: String?

        public init(url: String, endpoint: String? = nil, region: String? = nil) {
            self.url = url
            self.endpoint = endpoint
            self.region = region
        }
    }

    /// The state directory, `<data-dir>/archive`.
    public let directory: String
    /// Every verified segment, in the order they were recorded.
    public private(set) var segments: [Segment]

    /// A state in `directory` with nothing loaded; `record` still appends to the file there.
    init(directory: String) {
        self.directory = directory
        segments = []
    }

    private init(directory: String, segments: [Segment]) {
        self.directory = directory
        self.segments = segments
    }

    /// `<data-dir>/archive` for a data directory.
    public static func directory(dataDirectory: String) -> String { dataDirectory + "/archive" }

    /// Reads the state in `directory`; empty when nothing was archived yet.
    /// - Throws: `ArchiveError.io` when the file exists but cannot be read.
    public static func load(directory: String) throws(ArchiveError) -> ArchiveState {
        var segments: [Segment] = []
        let records = try fileCall { try Journal.read(path: directory + "/" + journalName, recordSizeBytesMax: recordSizeBytesMax,
                                                      legacy: legacyDecoder(directory)) }
        do {
            for line in records {
                guard let object = try? JSONParser.parse(line),
                      let target = object["target"]?.stringValue, let base = object["base_offset"]?.int64Value, base >= 0,
                      let size = object["bytes"]?.int64Value, let hex = object["sha256"]?.stringValue,
                      let digest = try? Hex.decode(hex) else { continue }   // a torn last line
                segments.append(Segment(target: target, baseOffset: UInt64(base), lastOffset: object["last_offset"]?.int64Value.map { UInt64(max(0, $0)) },
                                        sizeBytes: size, sha256: digest,
                                        verifiedAtMs: object["verified_at"]?.stringValue.flatMap(Timestamp.parse) ?? 0))
            }
        }
        return ArchiveState(directory: directory, segments: segments)
    }

    /// True when the segment at `baseOffset` was uploaded to some target and verified there.
    public func isArchivedAndVerified(baseOffset: UInt64) -> Bool {
        segments.contains { $0.baseOffset == baseOffset }
    }

    /// Base offsets archived and verified on `target` (its `location`).
    public func baseOffsets(target: String) -> Set<UInt64> {
        Set(segments.filter { $0.target == target }.map(\.baseOffset))
    }

    /// The offset after the gap-free run of segments archived and verified on `target` from offset 0
    /// (0 when none starts there): the size of the tree the archive's segments hold.
    public func archivedSize(target: String) -> UInt64 {
        var next: UInt64 = 0
        for segment in segments.filter({ $0.target == target }).sorted(by: { $0.baseOffset < $1.baseOffset }) {
            guard segment.baseOffset == next else { break }
            if let last = segment.lastOffset { next = last + 1 }
        }
        return next
    }

    /// A `mayDelete` hook for `EventLog.applyRetention`: approves only archived and verified segments.
    public var retentionGate: @Sendable (UInt64) -> Bool {
        let archived = Set(segments.map(\.baseOffset))
        return { archived.contains($0) }
    }

    /// The journal's file name in the state directory.
    static let journalName = "state.journal"
    /// Largest record, in bytes.
    static let recordSizeBytesMax = 4096

    /// `state.jsonl`, the format before the journal: one JSON object per line.
    private static func legacyDecoder(_ directory: String) -> @Sendable ([UInt8]) -> [[UInt8]] {
        { _ in
            let bytes = ((try? FileSystem.contents(of: directory + "/state.jsonl")) ?? nil) ?? []
            return bytes.split(separator: UInt8(ascii: "\n")).map(Array.init)
        }
    }

    /// Appends `segment` durably (append + fdatasync of `state.journal`).
    /// - Throws: `ArchiveError.io`.
    public mutating func record(_ segment: Segment) throws(ArchiveError) {
        try fileCall { try FileSystem.createDirectory(directory) }
        let line = JSONValue.object([
            ("target", .string(segment.target)), ("base_offset", .integer(segment.baseOffset)),
            ("last_offset", segment.lastOffset.map { .integer($0) } ?? .null), ("bytes", .integer(segment.sizeBytes)),
            ("sha256", .string(Hex.encode(segment.sha256))), ("verified_at", .string(Timestamp.format(ms: segment.verifiedAtMs))),
        ]).encoded()
        try fileCall {
            let (journal, _) = try Journal.open(path: directory + "/" + Self.journalName, durability: .synchronizeEachAppend,
                                                recordSizeBytesMax: Self.recordSizeBytesMax, legacy: Self.legacyDecoder(directory))
            // Migrated (or never legacy): the journal now holds everything state.jsonl held.
            try FileSystem.remove(directory + "/state.jsonl")
            try journal.append(line)
        }
        segments.append(segment)
    }

    /// The last target archived to, or nil.
    public func targetSettings() throws(ArchiveError) -> TargetSettings? {
        guard let data = try fileCall({ try FileSystem.contents(of: directory + "/target.json") }),
              let object = try? JSONParser.parse(data), let url = object["url"]?.stringValue else { return nil }
        return TargetSettings(url: url, endpoint: object["endpoint"]?.stringValue, region: object["region"]?.stringValue)
    }

    /// Remembers `settings` as the last target (atomic replace of `target.json`).
    public func saveTargetSettings(_ settings: TargetSettings) throws(ArchiveError) {
        if try targetSettings() == settings { return }
        let text = JSONValue.object([
            ("url", .string(settings.url)), ("endpoint", settings.endpoint.map(JSONValue.string) ?? .null),
            ("region", settings.region.map(JSONValue.string) ?? .null),
        ]).text + "\n"
        try fileCall { try FileSystem.writeAtomically(Data(text.utf8), to: directory + "/target.json", creatingDirectory: true) }
    }
}
