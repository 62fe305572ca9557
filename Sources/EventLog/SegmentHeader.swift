import Crypto

/// The first 72 bytes of every segment file.
///
/// ```
/// magic "ARGUSSEG" | version u16 = 1 | 0 u16 | 0 u32 | baseOffset u64 | createdMs i64
/// | chainIn[32] | crc u32 = CRC32C(bytes 0..<64) | 0 u32
/// ```
public struct SegmentHeader: Sendable, Equatable {
    static let sizeBytes = 72
    static let magic = Array("ARGUSSEG".utf8)
    static let version: UInt16 = 1

    /// Offset of the segment's first record.
    public var baseOffset: UInt64
    /// When the segment was created, in milliseconds since 1970.
    package var createdMs: Int64
    /// Chain value the segment continues from (all zero for the first segment of a log).
    public var chainIn: [UInt8]

    /// Where the creation time lies in an encoded header, in bytes.
    static let createdTimeRange = 24..<32
    /// Where the header CRC lies in an encoded header, in bytes.
    static let crcRange = 64..<68

    func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: Self.sizeBytes)
        writer.append(contentsOf: Self.magic)
        writer.append(Self.version)
        writer.append(UInt16(0))
        writer.append(UInt32(0))
        writer.append(baseOffset)
        writer.append(createdMs)
        writer.append(contentsOf: chainIn)
        writer.append(CRC32C.checksum(writer.bytes))
        writer.append(UInt32(0))
        return writer.bytes
    }

    /// Parses and checks a header; `segment` names the file in errors.
    static func decode(_ bytes: [UInt8], segment: String) throws(EventLogError) -> SegmentHeader {
        guard bytes.count >= sizeBytes else {
            throw .corruptSegment(segment: segment, reason: "header is \(bytes.count) bytes, expected \(sizeBytes)")
        }
        guard Array(bytes[0..<8]) == magic else { throw .corruptSegment(segment: segment, reason: "bad magic") }
        let (crcMatches, version, baseOffset, createdMs) = bytes.withUnsafeBytes { buffer in
            (CRC32C.checksum(UnsafeRawBufferPointer(rebasing: buffer[0..<64])) == buffer.uint32(at: 64),
             buffer.uint16(at: 8), buffer.uint64(at: 16), buffer.int64(at: 24))
        }
        guard crcMatches else { throw .corruptSegment(segment: segment, reason: "header CRC mismatch") }
        guard version == Self.version else {
            throw .corruptSegment(segment: segment, reason: "unsupported version \(version)")
        }
        return SegmentHeader(baseOffset: baseOffset, createdMs: createdMs, chainIn: Array(bytes[32..<64]))
    }
}

/// File names of segments and their indexes.
public enum SegmentName {
    /// `00000000000000001234.log` for base offset 1234.
    public static func log(baseOffset: UInt64) -> String { digits(baseOffset) + ".log" }

    /// `00000000000000001234.index` for base offset 1234.
    public static func index(baseOffset: UInt64) -> String { digits(baseOffset) + ".index" }

    /// The base offset named by a segment file name, or nil for other files.
    public static func baseOffset(ofLogFile name: String) -> UInt64? {
        guard name.hasSuffix(".log"), name.count == 24 else { return nil }
        return UInt64(name.prefix(20))
    }

    private static func digits(_ value: UInt64) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, 20 - text.count)) + text
    }
}
