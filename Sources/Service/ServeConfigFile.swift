import EventLog
import Foundation
import JSON

/// `serve --config FILE`: a JSON object with any of `data_dir`, `listen`, `allow_http`,
/// `allow_target_cidrs`, `segment_bytes`, `fsync`. Command-line flags and environment win over it.
package struct ServeConfigFile: Sendable {
    /// Why a config file was refused; `description` names the file or the setting, never a value.
    package struct Problem: Error, CustomStringConvertible {
        package let description: String
    }

    package var dataDirectory: String?
    package var listen: String?
    package var allowHTTP = false
    package var allowTargetCIDRs: [String] = []
    /// Segment roll size in bytes, within `segmentBytesRange`.
    package var segmentBytes: Int?
    /// The fsync policy's text (`always`, `interval[:MS]`, `none`), parsed by the caller.
    package var fsync: String?

    /// Segment roll sizes `serve` and `publish --data-dir` accept, from `--segment-bytes` or the file, in bytes.
    package static let segmentBytesRange = EventLogLimits.segmentSizeBytesMin...(1 << 40)

    package init() {}

    /// The settings in the file at `path`; nil reads as no file (every setting unset).
    /// - Throws: `Problem` when the file cannot be read, is not a JSON object, or holds an unknown or
    ///   mistyped setting or an out-of-range `segment_bytes`.
    package static func load(_ path: String?) throws(Problem) -> ServeConfigFile {
        guard let path else { return ServeConfigFile() }
        guard let data = FileManager.default.contents(atPath: path) else { throw Problem(description: "cannot read --config \(path)") }
        let json: JSONValue
        do { json = try JSONParser.parse([UInt8](data)) } catch { throw Problem(description: "--config \(path): \(error)") }
        guard let members = json.objectValue else { throw Problem(description: "--config \(path) must hold a JSON object") }
        var file = ServeConfigFile()
        for (name, value) in members {
            switch (name, value) {
            case ("data_dir", .string(let text)): file.dataDirectory = text
            case ("listen", .string(let text)): file.listen = text
            case ("allow_http", .bool(let flag)): file.allowHTTP = flag
            case ("allow_target_cidrs", .array(let list)):
                file.allowTargetCIDRs = try list.map { element throws(Problem) in
                    guard let text = element.stringValue else { throw Problem(description: "--config: allow_target_cidrs must hold strings") }
                    return text
                }
            case ("segment_bytes", .number(let text)):
                guard let size = Int(text), Self.segmentBytesRange.contains(size) else {
                    throw Problem(description: "--config: segment_bytes must be an integer from \(Self.segmentBytesRange.lowerBound) to \(Self.segmentBytesRange.upperBound)")
                }
                file.segmentBytes = size
            case ("fsync", .string(let text)): file.fsync = text
            default: throw Problem(description: "--config \(path): unknown or mistyped setting \"\(name)\"")
            }
        }
        return file
    }
}
