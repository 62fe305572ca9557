import EventLog

/// Object keys of an archive, relative to the target's prefix:
/// `segments/<20-digit base>.log` for segment bytes, `manifest/<20-digit base>.json` for manifest entries,
/// `tile/...` and `checkpoint` for the transparency log of the archived events.
public enum ArchiveLayout {
    /// Prefix of segment objects.
    package static let segmentsPrefix = "segments/"
    /// Prefix of manifest entries.
    package static let manifestPrefix = "manifest/"
    /// Prefix of the C2SP `tlog-tiles` hash tiles of the archived events (`tile/<L>/<N>[.p/<W>]`).
    package static let tilePrefix = "tile/"
    /// The signed checkpoint of the archived events (C2SP `tlog-checkpoint`).
    public static let checkpointKey = "checkpoint"

    /// Whether `key` belongs to the archive's transparency log (its checkpoint or a hash tile).
    package static func isTransparencyLogKey(_ key: String) -> Bool {
        key == checkpointKey || key.hasPrefix(tilePrefix)
    }

    /// `segments/00000000000000001234.log`.
    package static func segmentKey(baseOffset: UInt64) -> String { segmentsPrefix + SegmentName.log(baseOffset: baseOffset) }

    /// `manifest/00000000000000001234.json`.
    package static func manifestKey(baseOffset: UInt64) -> String {
        manifestPrefix + String(SegmentName.log(baseOffset: baseOffset).dropLast(4)) + ".json"
    }

    /// The base offset named by a segment key, or nil for other keys.
    public static func baseOffset(ofSegmentKey key: String) -> UInt64? {
        guard key.hasPrefix(segmentsPrefix) else { return nil }
        return SegmentName.baseOffset(ofLogFile: String(key.dropFirst(segmentsPrefix.count)))
    }

    /// The base offset named by a manifest key, or nil for other keys.
    public static func baseOffset(ofManifestKey key: String) -> UInt64? {
        guard key.hasPrefix(manifestPrefix), key.hasSuffix(".json") else { return nil }
        let name = key.dropFirst(manifestPrefix.count).dropLast(5)
        guard name.count == 20, name.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return UInt64(name)
    }
}
