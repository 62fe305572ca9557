import EventLog
import Foundation
import JSON

/// `serve --config FILE`: a JSON object with any of `data_dir`, `listen`, `allow_http`,
/// `allow_target_cidrs`, `segment_bytes`, `fsync`. Command-line flags and environment win over it.
struct ConfigFile {
    var dataDirectory: String?
    var listen: String?
    var allowHTTP = false
    var allowTargetCIDRs: [String] = []
    var segmentBytes: Int?
    var fsync: String?

    /// Segment roll sizes `serve` accepts, from `--segment-bytes` or the file, in bytes.
    static let segmentBytesRange = EventLogLimits.segmentSizeBytesMin...(1 << 40)

    static func load(_ path: String?) throws -> ConfigFile {
        guard let path else { return ConfigFile() }
        guard let data = FileManager.default.contents(atPath: path) else { throw UsageError("cannot read --config \(path)") }
        let json: JSONValue
        do { json = try JSONParser.parse([UInt8](data)) } catch { throw UsageError("--config \(path): \(error)") }
        guard let members = json.objectValue else { throw UsageError("--config \(path) must hold a JSON object") }
        var file = ConfigFile()
        for (name, value) in members {
            switch (name, value) {
            case ("data_dir", .string(let text)): file.dataDirectory = text
            case ("listen", .string(let text)): file.listen = text
            case ("allow_http", .bool(let flag)): file.allowHTTP = flag
            case ("allow_target_cidrs", .array(let list)):
                file.allowTargetCIDRs = try list.map { element in
                    guard let text = element.stringValue else { throw UsageError("--config: allow_target_cidrs must hold strings") }
                    return text
                }
            case ("segment_bytes", .number(let text)):
                guard let size = Int(text), Self.segmentBytesRange.contains(size) else {
                    throw UsageError("--config: segment_bytes must be an integer from \(Self.segmentBytesRange.lowerBound) to \(Self.segmentBytesRange.upperBound)")
                }
                file.segmentBytes = size
            case ("fsync", .string(let text)): file.fsync = text
            default: throw UsageError("--config \(path): unknown or mistyped setting \"\(name)\"")
            }
        }
        return file
    }
}
