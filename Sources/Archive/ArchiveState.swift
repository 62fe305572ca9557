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
/// - `state.jsonl`: one JSON line per segment whose upload and manifest entry were verified,
///   appended and fsynced after the manifest entry is stored (a torn last line is ignored);
///   `{"target":"s3://b/p/","base_offset":0,"last_offset":812,"bytes":65612,"sha256":"<hex>","verified_at":"..."}`
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
        public var verifiedAtMs: Int64
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
        if let data = try fileCall({ try FileSystem.contents(of: directory + "/state.jsonl") }) {
            for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
                guard let object = try? JSONParser.parse(Array(line)),
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

    /// A `mayDelete` hook for `EventLog.applyRetention`: approves only archived and verified segments.
    public var retentionGate: @Sendable (UInt64) -> Bool {
        let archived = Set(segments.map(\.baseOffset))
        return { archived.contains($0) }
    }

    /// Appends `segment` durably (write + fsync of `state.jsonl`).
    /// - Throws: `ArchiveError.io`.
    public mutating func record(_ segment: Segment) throws(ArchiveError) {
        try fileCall { try FileSystem.createDirectory(directory) }
        let line = JSONValue.object([
            ("target", .string(segment.target)), ("base_offset", .integer(segment.baseOffset)),
            ("last_offset", segment.lastOffset.map { .integer($0) } ?? .null), ("bytes", .integer(segment.sizeBytes)),
            ("sha256", .string(Hex.encode(segment.sha256))), ("verified_at", .string(Timestamp.format(ms: segment.verifiedAtMs))),
        ]).text + "\n"
        let path = directory + "/state.jsonl"
        try fileCall {
            let file = try FileDescriptor.open(path, O_RDWR | O_CREAT | O_APPEND)
            // A torn line left by a crash must not swallow this one: start on a fresh line.
            var bytes = Array(line.utf8)
            let size = try file.size()
            if size > 0, try file.read(count: 1, at: size - 1) != [UInt8(ascii: "\n")] { bytes.insert(UInt8(ascii: "\n"), at: 0) }
            try file.writeAll(bytes)
            try file.synchronize()
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
