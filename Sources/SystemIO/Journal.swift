import Crypto
#if canImport(Glibc)
import Glibc
#endif

/// One append-only journal file: the one way the project keeps a small store durable (cursors,
/// access tokens, idempotency keys).
///
/// Format: the magic `ARGJRNL1`, then records, each `length u32 | crc u32 | body` (little-endian;
/// the CRC32C covers the four length bytes and the body). Reading stops at the first record that is
/// short, too long or fails its CRC: a crash mid-append leaves a torn tail, which `open` cuts off
/// (it was never acknowledged). A file without the magic is a store's legacy format: `open` hands
/// its bytes to the store's decoder once and rewrites the file in this format.
///
/// Durability is the caller's explicit choice (`Durability`); group commit is one `append` of a
/// batch (one write, one `fdatasync`). `replace(with:)` compacts online: the live records go to a
/// new file that atomically replaces the old (fsync, rename, directory fsync); appends continue on it.
///
/// Not synchronised: the owner serialises every call (a mutex or one thread). All calls block.
package final class Journal {
    /// When an append is durable.
    package enum Durability: Sendable, Equatable {
        /// `fdatasync` after every `append` (a batch appended at once shares one: group commit).
        case synchronizeEachAppend
        /// Never synchronised by the journal: the page cache decides; compaction is still atomic.
        case none
    }

    /// The first eight bytes of a journal in this format.
    package static let magic: [UInt8] = Array("ARGJRNL1".utf8)
    /// Bytes before each record's body.
    package static let frameHeaderSizeBytes = 8

    package let path: String
    package let durability: Durability
    /// Largest record body accepted, in bytes (longer ones are refused on append and end reading).
    package let recordSizeBytesMax: Int
    private var file: FileDescriptor
    /// The file's valid size, in bytes (where the next record goes).
    package private(set) var sizeBytes: Int64
    /// Records in the file (appended and compacted ones).
    package private(set) var recordCount: Int

    private init(path: String, durability: Durability, recordSizeBytesMax: Int, file: FileDescriptor, sizeBytes: Int64, recordCount: Int) {
        self.path = path
        self.durability = durability
        self.recordSizeBytesMax = recordSizeBytesMax
        self.file = file
        self.sizeBytes = sizeBytes
        self.recordCount = recordCount
    }

    /// Opens (creating when missing) the journal at `path` and returns it with the bodies of its
    /// records, oldest first. A torn tail is cut off; a legacy file is decoded by `legacy` and
    /// rewritten in this format (so is an empty or missing file when `legacy` is given: the legacy
    /// store may have kept its data elsewhere; a file in neither format without `legacy` starts empty).
    /// - Throws: `SystemError` from open, read, truncate or the rewrite.
    package static func open(path: String, durability: Durability, recordSizeBytesMax: Int,
                             legacy: (([UInt8]) -> [[UInt8]])? = nil) throws(SystemError) -> (Journal, [[UInt8]]) {
        let file = try FileDescriptor.open(path, O_RDWR | O_CREAT)
        let bytes = try file.readAll()
        if bytes.isEmpty && legacy == nil {
            try file.write(magic, at: 0)
            if durability == .synchronizeEachAppend { try file.synchronize() }
            return (Journal(path: path, durability: durability, recordSizeBytesMax: recordSizeBytesMax, file: file,
                            sizeBytes: Int64(magic.count), recordCount: 0), [])
        }
        guard bytes.starts(with: magic) else {
            let records = legacy?(bytes) ?? []
            let journal = Journal(path: path, durability: durability, recordSizeBytesMax: recordSizeBytesMax, file: file,
                                  sizeBytes: Int64(bytes.count), recordCount: 0)
            try journal.replace(with: records)
            return (journal, records)
        }
        let (records, validBytes) = decode(bytes, recordSizeBytesMax: recordSizeBytesMax)
        if validBytes < bytes.count {
            try file.truncate(to: Int64(validBytes))
            if durability == .synchronizeEachAppend { try file.synchronizeData() }
        }
        return (Journal(path: path, durability: durability, recordSizeBytesMax: recordSizeBytesMax, file: file,
                        sizeBytes: Int64(validBytes), recordCount: records.count), records)
    }

    /// The records of the journal at `path` without opening it for writing (for readers next to a
    /// writer): up to the first damaged record; empty when the file is missing. A legacy file is
    /// decoded by `legacy`.
    /// - Throws: `SystemError` when the file exists but cannot be read.
    package static func read(path: String, recordSizeBytesMax: Int, legacy: (([UInt8]) -> [[UInt8]])? = nil) throws(SystemError) -> [[UInt8]] {
        let bytes = try FileSystem.contents(of: path) ?? []
        guard bytes.starts(with: magic) else { return legacy?(bytes) ?? [] }
        return decode(bytes, recordSizeBytesMax: recordSizeBytesMax).records
    }

    /// Appends `records` in one write, then synchronises as `durability` says. On failure the file is
    /// cut back to its previous size, so a later append never follows a torn record.
    /// - Throws: `SystemError` (EINVAL for a record longer than `recordSizeBytesMax`).
    package func append(_ records: [[UInt8]]) throws(SystemError) {
        guard !records.isEmpty else { return }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(records.reduce(0) { $0 + Self.frameHeaderSizeBytes + $1.count })
        for record in records {
            guard record.count <= recordSizeBytesMax else {
                throw SystemError(call: "journal append (record of \(record.count) bytes, limit \(recordSizeBytesMax))", path: path, errno: EINVAL)
            }
            Self.frame(record, into: &bytes)
        }
        do throws(SystemError) {
            try file.write(bytes, at: sizeBytes)
            if durability == .synchronizeEachAppend { try file.synchronizeData() }
        } catch {
            try? file.truncate(to: sizeBytes)
            throw error
        }
        sizeBytes += Int64(bytes.count)
        recordCount += records.count
    }

    /// Appends one record (see `append(_:)`).
    package func append(_ record: [UInt8]) throws(SystemError) { try append([record]) }

    /// Compaction: atomically replaces the journal with exactly `records` (the live state), always
    /// synchronised whatever `durability` says (a crash leaves the old file or the new one).
    package func replace(with records: [[UInt8]]) throws(SystemError) {
        var bytes = Self.magic
        for record in records { Self.frame(record, into: &bytes) }
        try FileSystem.writeAtomically(bytes, to: path)
        file = try FileDescriptor.open(path, O_RDWR)
        sizeBytes = Int64(bytes.count)
        recordCount = records.count
    }

    private static func frame(_ record: [UInt8], into bytes: inout [UInt8]) {
        let length = UInt32(record.count)
        let lengthBytes = [UInt8(truncatingIfNeeded: length), UInt8(truncatingIfNeeded: length >> 8),
                           UInt8(truncatingIfNeeded: length >> 16), UInt8(truncatingIfNeeded: length >> 24)]
        let crc = CRC32C.update(CRC32C.checksum(lengthBytes), record)
        bytes += lengthBytes
        bytes += [UInt8(truncatingIfNeeded: crc), UInt8(truncatingIfNeeded: crc >> 8), UInt8(truncatingIfNeeded: crc >> 16),
                  UInt8(truncatingIfNeeded: crc >> 24)]
        bytes += record
    }

    /// Decodes the records after the magic (or from `start`) up to the first damaged one; returns
    /// their bodies and how many bytes of `bytes` are valid.
    package static func decode(_ bytes: [UInt8], from start: Int? = nil, recordSizeBytesMax: Int) -> (records: [[UInt8]], validBytes: Int) {
        var records: [[UInt8]] = []
        var position = start ?? magic.count
        func uint32(at index: Int) -> UInt32 {
            UInt32(bytes[index]) | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2]) << 16 | UInt32(bytes[index + 3]) << 24
        }
        while position + frameHeaderSizeBytes <= bytes.count {
            let length = Int(uint32(at: position))
            let body = position + frameHeaderSizeBytes
            guard length <= recordSizeBytesMax, body + length <= bytes.count else { break }
            let crc = CRC32C.update(CRC32C.checksum(bytes[position..<(position + 4)]), bytes[body..<(body + length)])
            guard crc == uint32(at: position + 4) else { break }
            records.append(Array(bytes[body..<(body + length)]))
            position = body + length
        }
        return (records, position)
    }
}
