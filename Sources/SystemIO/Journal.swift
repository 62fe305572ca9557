import Crypto
#if canImport(Glibc)
import Glibc
#endif

/// One append-only journal file: the one way the project keeps a store durable (cursors, access
/// tokens, idempotency keys, archive state, delivery history).
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
/// `compact(keeping:)` does the same streaming, for stores that keep only where their records are
/// (`Location`) and read bodies back on demand (`record(at:path:recordSizeBytesMax:)`).
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

    /// Where one record's body is in the file: its byte offset and length.
    package struct Location: Sendable, Equatable {
        /// Offset of the body's first byte, in bytes from the start of the file.
        package var offset: Int64
        /// Length of the body, in bytes.
        package var length: Int
    }

    package let path: String
    package let durability: Durability
    /// Largest record body accepted, in bytes (longer ones are refused on append and end reading).
    package let recordSizeBytesMax: Int
    private var file: FileDescriptor
    /// Set when a compaction's rename may not be durable yet (its directory `fsync` failed): the next
    /// synchronised append syncs the directory first, and fails (acknowledging nothing) until it can.
    private var directorySyncPending = false
    /// The directory `fsync` behind compaction (replaced by tests to inject a failure).
    package var synchronizeDirectory: (String) throws(SystemError) -> Void = { (path) throws(SystemError) in
        try FileSystem.synchronizeDirectory(path)
    }
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

    /// Appends `records` in one write, then synchronises as `durability` says, and returns where
    /// each body went. On failure the file is cut back to its previous size, so a later append never
    /// follows a torn record.
    /// - Throws: `SystemError` (EINVAL for a record longer than `recordSizeBytesMax`).
    @discardableResult
    package func append(_ records: [[UInt8]]) throws(SystemError) -> [Location] {
        guard !records.isEmpty else { return [] }
        var bytes: [UInt8] = []
        var locations: [Location] = []
        locations.reserveCapacity(records.count)
        bytes.reserveCapacity(records.reduce(0) { $0 + Self.frameHeaderSizeBytes + $1.count })
        for record in records {
            guard record.count <= recordSizeBytesMax else {
                throw SystemError(call: "journal append (record of \(record.count) bytes, limit \(recordSizeBytesMax))", path: path, errno: EINVAL)
            }
            locations.append(Location(offset: sizeBytes + Int64(bytes.count + Self.frameHeaderSizeBytes), length: record.count))
            Self.frame(record, into: &bytes)
        }
        do throws(SystemError) {
            try file.write(bytes, at: sizeBytes)
            if durability == .synchronizeEachAppend {
                try file.synchronizeData()
                if directorySyncPending {
                    try synchronizeDirectory(FileSystem.parent(of: path))
                    directorySyncPending = false
                }
            }
        } catch {
            try? file.truncate(to: sizeBytes)
            throw error
        }
        sizeBytes += Int64(bytes.count)
        recordCount += records.count
        return locations
    }

    /// Appends one record (see `append(_:)`) and returns where its body went.
    @discardableResult
    package func append(_ record: [UInt8]) throws(SystemError) -> Location { try append([record])[0] }

    /// Compaction: atomically replaces the journal with exactly `records` (the live state), always
    /// synchronised whatever `durability` says (a crash leaves the old file or the new one).
    /// The same rewrite as `compact(count:record:)` (the new file's descriptor is kept from the rename on).
    /// - Throws: `SystemError` (EINVAL for a record longer than `recordSizeBytesMax`).
    package func replace(with records: [[UInt8]]) throws(SystemError) {
        _ = try compact(count: records.count) { (position) throws(SystemError) in records[position] }
    }

    /// Streaming compaction: atomically replaces the journal with the records at `locations` (in
    /// that order), copying one body at a time (never the whole file in memory), and returns their
    /// new locations. Always synchronised (fsync, rename, directory fsync); on a failure before the
    /// rename the old file stays and keeps serving appends; a failed directory fsync after it is retried
    /// by the next synchronised append (which fails until it succeeds).
    /// - Throws: `SystemError`, EIO for a location that holds no intact record.
    package func compact(keeping locations: [Location]) throws(SystemError) -> [Location] {
        try compact(count: locations.count) { (position) throws(SystemError) in try record(at: locations[position]) }
    }

    /// Streaming compaction with records the caller makes: atomically replaces the journal with the
    /// `count` bodies `body(0)`, `body(1)`, ... (each made, written and released in turn; `body` may
    /// read this journal's records with `record(at:)` meanwhile), and returns their locations. Always
    /// synchronised; on failure (of `body` too) the old file stays and keeps serving appends.
    /// - Throws: `SystemError` from `body` or the rewrite (EINVAL for a body over `recordSizeBytesMax`).
    package func compact(count: Int, record body: (Int) throws(SystemError) -> [UInt8]) throws(SystemError) -> [Location] {
        let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        var moved: [Location] = []
        moved.reserveCapacity(count)
        var written = Int64(Self.magic.count)
        do throws(SystemError) {
            let output = try FileDescriptor.open(temporary, O_RDWR | O_CREAT | O_EXCL)
            try output.write(Self.magic, at: 0)
            for position in 0..<count {
                let body = try body(position)
                guard body.count <= recordSizeBytesMax else {
                    throw SystemError(call: "journal compact (record of \(body.count) bytes, limit \(recordSizeBytesMax))", path: path, errno: EINVAL)
                }
                var bytes: [UInt8] = []
                Self.frame(body, into: &bytes)
                try output.write(bytes, at: written)
                moved.append(Location(offset: written + Int64(Self.frameHeaderSizeBytes), length: body.count))
                written += Int64(bytes.count)
            }
            try output.synchronize()
            try FileSystem.move(temporary, to: path)
            // From the rename on, the new file is the journal (it holds every live record, synchronised):
            // appends go to it whatever follows, so none lands in the replaced file.
            file = output
        } catch {
            unlink(temporary)
            throw error
        }
        sizeBytes = written
        recordCount = count
        do throws(SystemError) {
            try synchronizeDirectory(FileSystem.parent(of: path))
        } catch {
            // The rename may not survive a crash yet; both files hold the live state, but records appended
            // from now on are only in the new one: the next synchronised append retries this first.
            directorySyncPending = true
        }
        return moved
    }

    /// The body of this journal's record at `location`, its frame checked (for the owner, e.g. while compacting).
    /// - Throws: `SystemError`, EIO for a location without an intact record.
    package func record(at location: Location) throws(SystemError) -> [UInt8] {
        try Self.record(in: file, at: location, path: path, recordSizeBytesMax: recordSizeBytesMax)
    }

    /// The bodies of the records at `locations` in the journal at `path` (one open for all), frames checked.
    /// - Throws: `SystemError` (ENOENT for a missing file, EIO for a location without an intact record).
    package static func records(at locations: [Location], path: String, recordSizeBytesMax: Int) throws(SystemError) -> [[UInt8]] {
        guard let file = try FileDescriptor.openIfExists(path) else { throw SystemError(call: "journal read", path: path, errno: ENOENT) }
        var bodies: [[UInt8]] = []
        bodies.reserveCapacity(locations.count)
        for location in locations { bodies.append(try record(in: file, at: location, path: path, recordSizeBytesMax: recordSizeBytesMax)) }
        return bodies
    }

    /// Calls `body` with each record of the journal at `path` and its location, oldest first, up to the first
    /// damaged record, reading `chunkSizeBytes` at a time (memory holds one chunk, or one record when larger,
    /// never the whole file); nothing when the file is missing or not in this format.
    /// - Throws: `SystemError` when the file exists but cannot be read.
    package static func forEachRecord(path: String, recordSizeBytesMax: Int, chunkSizeBytes: Int = 1 << 20,
                                      _ body: (Location, [UInt8]) -> Void) throws(SystemError) {
        guard let file = try FileDescriptor.openIfExists(path) else { return }
        let chunk = max(chunkSizeBytes, magic.count + frameHeaderSizeBytes)
        var buffer = try file.read(count: chunk, at: 0)
        guard buffer.starts(with: magic) else { return }
        var bufferStart: Int64 = 0
        var position = magic.count
        var ended = buffer.count < chunk
        /// Whether `needed` bytes from `position` are in the buffer (read more while the file has them).
        func fill(_ needed: Int) throws(SystemError) -> Bool {
            while buffer.count - position < needed && !ended {
                buffer.removeSubrange(0..<position)
                bufferStart += Int64(position)
                position = 0
                let asked = max(chunk, needed - buffer.count)
                let more = try file.read(count: asked, at: bufferStart + Int64(buffer.count))
                ended = more.count < asked
                buffer += more
            }
            return buffer.count - position >= needed
        }
        func uint32(at index: Int) -> UInt32 {
            UInt32(buffer[index]) | UInt32(buffer[index + 1]) << 8 | UInt32(buffer[index + 2]) << 16 | UInt32(buffer[index + 3]) << 24
        }
        while try fill(frameHeaderSizeBytes) {
            let length = Int(uint32(at: position))
            guard length <= recordSizeBytesMax, try fill(frameHeaderSizeBytes + length) else { return }
            let start = position + frameHeaderSizeBytes
            let crc = CRC32C.update(CRC32C.checksum(buffer[position..<(position + 4)]), buffer[start..<(start + length)])
            guard crc == uint32(at: position + 4) else { return }
            body(Location(offset: bufferStart + Int64(start), length: length), Array(buffer[start..<(start + length)]))
            position = start + length
        }
    }

    /// The body of the record at `location` in the journal at `path`, its frame checked (length and
    /// CRC): for readers next to the writer. A record is readable once `append` has returned it.
    /// - Throws: `SystemError` (ENOENT for a missing file, EIO for a location without an intact record).
    package static func record(at location: Location, path: String, recordSizeBytesMax: Int) throws(SystemError) -> [UInt8] {
        guard let file = try FileDescriptor.openIfExists(path) else { throw SystemError(call: "journal read", path: path, errno: ENOENT) }
        return try record(in: file, at: location, path: path, recordSizeBytesMax: recordSizeBytesMax)
    }

    private static func record(in file: FileDescriptor, at location: Location, path: String, recordSizeBytesMax: Int) throws(SystemError) -> [UInt8] {
        let start = location.offset - Int64(frameHeaderSizeBytes)
        guard start >= Int64(magic.count), location.length >= 0, location.length <= recordSizeBytesMax else {
            throw SystemError(call: "journal read (no record at this location)", path: path, errno: EINVAL, offset: location.offset)
        }
        let bytes = try file.read(count: frameHeaderSizeBytes + location.length, at: start)
        let records = decode(bytes, from: 0, recordSizeBytesMax: recordSizeBytesMax).records
        guard bytes.count == frameHeaderSizeBytes + location.length, records.count == 1 else {
            throw SystemError(call: "journal read (damaged or torn record)", path: path, errno: EIO, offset: start)
        }
        return records[0]
    }

    /// The records of the journal at `path` with their locations (for stores that index their
    /// records and read bodies back later): up to the first damaged record; empty when missing.
    /// - Throws: `SystemError` when the file exists but cannot be read.
    package static func locatedRecords(path: String, recordSizeBytesMax: Int) throws(SystemError) -> [(location: Location, body: [UInt8])] {
        var located: [(location: Location, body: [UInt8])] = []
        try forEachRecord(path: path, recordSizeBytesMax: recordSizeBytesMax) { located.append(($0, $1)) }
        return located
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
