import Crypto
import EventLog
import Foundation
import JSON

/// One line of the archive's manifest: an archived segment, stored as its own object
/// `manifest/<20-digit base>.json`, written only after the segment object was uploaded and verified.
///
/// ```json
/// {"format":"argus-archive-manifest/1","base_offset":0,"last_offset":812,"records":813,
///  "first_time":"2026-06-05T10:00:00.000+00:00","last_time":"2026-06-05T10:00:01.250+00:00",
///  "bytes":65612,"sha256":"<hex of the whole object>","chain_in":"<hex>","chain_out":"<hex>",
///  "segment_key":"segments/00000000000000000000.log","archived_at":"2026-06-05T11:00:00.000+00:00"}
/// ```
public struct ArchiveManifestEntry: Sendable, Equatable {
    /// The `format` field of every entry.
    public static let format = "argus-archive-manifest/1"

    /// Offset of the segment's first record.
    public var baseOffset: UInt64
    /// Records in the segment.
    public var recordCount: UInt64
    /// Time of the first and last record, in ms since 1970; nil for an empty segment.
    public var firstTimestampMs: Int64?
    public var lastTimestampMs: Int64?
    /// Size of the segment object, in bytes.
    public var sizeBytes: Int64
    /// SHA-256 of the whole segment object (32 bytes).
    public var sha256: [UInt8]
    /// Chain value the segment continues from, and the one after its last record (32 bytes each).
    public var chainIn: [UInt8]
    public var chainOut: [UInt8]
    /// When the entry was written, in ms since 1970.
    package var archivedAtMs: Int64

    public init(baseOffset: UInt64, recordCount: UInt64, firstTimestampMs: Int64?, lastTimestampMs: Int64?, sizeBytes: Int64,
                sha256: [UInt8], chainIn: [UInt8], chainOut: [UInt8], archivedAtMs: Int64) {
        self.baseOffset = baseOffset
        self.recordCount = recordCount
        self.firstTimestampMs = firstTimestampMs
        self.lastTimestampMs = lastTimestampMs
        self.sizeBytes = sizeBytes
        self.sha256 = sha256
        self.chainIn = chainIn
        self.chainOut = chainOut
        self.archivedAtMs = archivedAtMs
    }

    /// Offset of the last record, nil for an empty segment.
    public var lastOffset: UInt64? { recordCount == 0 ? nil : baseOffset + recordCount - 1 }
    /// Offset of the record after this segment (the next segment's base).
    public var nextOffset: UInt64 { baseOffset + recordCount }
    /// Key of the segment object.
    package var segmentKey: String { ArchiveLayout.segmentKey(baseOffset: baseOffset) }
    /// Key of this entry's object.
    package var manifestKey: String { ArchiveLayout.manifestKey(baseOffset: baseOffset) }

    /// The entry as one line of JSON (with a trailing newline), fields in a fixed order.
    public func encoded() -> Data {
        func time(_ ms: Int64?) -> JSONValue { ms.map { .string(Timestamp.format(ms: $0)) } ?? .null }
        func number(_ value: (some BinaryInteger)?) -> JSONValue { value.map { .integer($0) } ?? .null }
        let object = JSONValue.object([
            ("format", .string(Self.format)), ("base_offset", .integer(baseOffset)), ("last_offset", number(lastOffset)),
            ("records", .integer(recordCount)), ("first_time", time(firstTimestampMs)), ("last_time", time(lastTimestampMs)),
            ("first_time_ms", number(firstTimestampMs)), ("last_time_ms", number(lastTimestampMs)), ("bytes", .integer(sizeBytes)),
            ("sha256", .string(Hex.encode(sha256))), ("chain_in", .string(Hex.encode(chainIn))),
            ("chain_out", .string(Hex.encode(chainOut))), ("segment_key", .string(segmentKey)), ("archived_at", time(archivedAtMs)),
        ])
        return Data(object.encoded() + [UInt8(ascii: "\n")])
    }

    /// Parses an entry written by `encoded()`.
    /// - Throws: `ArchiveError.integrity` (with `key`) for anything malformed or inconsistent.
    public static func decode(_ data: Data, key: String) throws(ArchiveError) -> ArchiveManifestEntry {
        func bad(_ why: String) -> ArchiveError { ArchiveError(.integrity, key: key, "manifest entry \(why)") }
        guard let object = try? JSONParser.parse([UInt8](data)), object.objectValue != nil else { throw bad("is not a JSON object") }
        guard object["format"]?.stringValue == format else { throw bad("has an unknown format") }
        func unsigned(_ name: String) throws(ArchiveError) -> UInt64 {
            guard let number = object[name]?.int64Value, number >= 0 else { throw bad("lacks \(name)") }
            return UInt64(number)
        }
        func optionalTime(_ name: String) -> Int64? { object[name]?.int64Value }
        func digest(_ name: String) throws(ArchiveError) -> [UInt8] {
            guard let text = object[name]?.stringValue, let bytes = try? Hex.decode(text), bytes.count == 32 else {
                throw bad("has a malformed \(name)")
            }
            return bytes
        }
        let base = try unsigned("base_offset")
        let records = try unsigned("records")
        if let last = object["last_offset"]?.int64Value, records == 0 || last < 0 || UInt64(last) != base + records - 1 {
            throw bad("has last_offset inconsistent with records")
        }
        let entry = ArchiveManifestEntry(
            baseOffset: base, recordCount: records, firstTimestampMs: optionalTime("first_time_ms"),
            lastTimestampMs: optionalTime("last_time_ms"), sizeBytes: Int64(try unsigned("bytes")),
            sha256: try digest("sha256"), chainIn: try digest("chain_in"), chainOut: try digest("chain_out"),
            archivedAtMs: object["archived_at"]?.stringValue.flatMap(Timestamp.parse) ?? 0)
        if let segmentKey = object["segment_key"]?.stringValue, segmentKey != entry.segmentKey {
            throw bad("names segment \(segmentKey) for base offset \(base)")
        }
        return entry
    }
}
