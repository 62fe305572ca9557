import Crypto
import Foundation
import SystemIO
#if canImport(Glibc)
import Glibc
#endif

/// Durable offsets of named consumers (one per webhook).
///
/// Commits are group-committed: every commit made while a flush is in progress is written by the next
/// one, in one append and one `fdatasync`, so 10,000 consumers committing do not cost 10,000 fsyncs.
/// Storage: `cursors.journal` (framed, CRC-checked entries, a torn tail is ignored) and
/// `cursors.snapshot`, rewritten atomically when the journal grows past `journalSizeBytesMax`.
///
/// `@unchecked Sendable`: all mutable state is guarded by `condition`; file I/O happens on the flusher thread.
public final class CursorStore: @unchecked Sendable {
    /// Journal size that triggers a compaction, in bytes.
    public static let journalSizeBytesMax: Int64 = 4 << 20
    /// Longest consumer name, in UTF-8 bytes.
    public static let nameSizeBytesMax = 256

    private let directory: String
    private let condition = NSCondition()
    private var offsets: [String: UInt64] = [:]
    private var pending: [String: UInt64?] = [:]
    private var waiters: [@Sendable (Result<Void, EventLogError>) -> Void] = []
    private var closing = false
    private var finished = false
    private var journal: FileDescriptor
    private var journalSizeBytes: Int64
    private var flushes = 0

    /// Journal flushes (one write and one `fdatasync` each) since the store opened.
    var flushCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return flushes
    }

    /// Opens (creating when needed) the cursor store in `directory`.
    /// - Throws: `EventLogError.system` for I/O errors, `.corruptSegment` for a damaged snapshot.
    public init(directory: String) throws(EventLogError) {
        try systemCall { try FileSystem.createDirectory(directory) }
        self.directory = directory
        var offsets: [String: UInt64] = [:]
        if let snapshot = try systemCall({ try FileDescriptor.openIfExists(directory + "/cursors.snapshot") }) {
            let bytes = try systemCall { try snapshot.read(count: Int(try snapshot.size()), at: 0) }
            let (entries, validBytes) = Self.decode(bytes)
            if validBytes != bytes.count {
                throw .corruptSegment(segment: directory + "/cursors.snapshot", reason: "damaged at byte \(validBytes)")
            }
            for (name, offset) in entries { offsets[name] = offset }
        }
        let journal = try systemCall { try FileDescriptor.open(directory + "/cursors.journal", O_RDWR | O_CREAT) }
        let bytes = try systemCall { try journal.readAll() }
        let (entries, validBytes) = Self.decode(bytes)
        for (name, offset) in entries { offsets[name] = offset }
        if validBytes < bytes.count { try systemCall({ try journal.truncate(to: Int64(validBytes)) }) }
        self.journal = journal
        journalSizeBytes = Int64(validBytes)
        self.offsets = offsets
        let thread = Thread { [self] in runFlusher() }
        thread.name = "argus-cursor-flusher"
        thread.start()
    }

    /// The committed offset of `name`, or nil for an unknown consumer.
    public func offset(of name: String) -> UInt64? {
        condition.lock()
        defer { condition.unlock() }
        if let value = pending[name] { return value }
        return offsets[name]
    }

    /// Every consumer and its offset.
    public func all() -> [String: UInt64] {
        condition.lock()
        defer { condition.unlock() }
        var result = offsets
        for (name, value) in pending { result[name] = value }
        return result
    }

    /// Sets `name` to `offset` and returns once that is durable.
    public func commit(_ name: String, offset: UInt64) async throws {
        precondition(!name.isEmpty && name.utf8.count <= Self.nameSizeBytesMax, "cursor name length")
        try await enqueue(name, offset)
    }

    /// Sets `name` to `offset` without waiting: the next flush (one fsync shared with every other
    /// commit) makes it durable.
    public func commitEventually(_ name: String, offset: UInt64) {
        precondition(!name.isEmpty && name.utf8.count <= Self.nameSizeBytesMax, "cursor name length")
        enqueue(name, offset) { _ in }
    }

    /// Reads the offsets stored in `directory` without opening the store for writing (for tools that
    /// run next to a server): the snapshot, then the journal up to its first damaged entry.
    public static func readOffsets(directory: String) -> [String: UInt64] {
        var offsets: [String: UInt64] = [:]
        for name in ["cursors.snapshot", "cursors.journal"] {
            guard let data = FileManager.default.contents(atPath: directory + "/" + name) else { continue }
            for (key, offset) in decode([UInt8](data)).0 { offsets[key] = offset }
        }
        return offsets
    }

    /// Removes `name` durably.
    public func remove(_ name: String) async throws {
        try await enqueue(name, nil)
    }

    /// The blocking form of `commit`.
    public func commitAndWait(_ name: String, offset: UInt64) throws(EventLogError) {
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox()
        enqueue(name, offset) { result in
            box.result = result
            done.signal()
        }
        done.wait()
        try box.result.get()
    }

    /// `@unchecked Sendable`: written once before the semaphore signals, read after it.
    private final class ResultBox: @unchecked Sendable {
        var result: Result<Void, EventLogError> = .success(())
    }

    private func enqueue(_ name: String, _ offset: UInt64?) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            enqueue(name, offset) { continuation.resume(with: $0.mapError { $0 as any Error }) }
        }
    }

    private func enqueue(_ name: String, _ offset: UInt64?,
                         completion: @escaping @Sendable (Result<Void, EventLogError>) -> Void) {
        condition.lock()
        if closing {
            condition.unlock()
            completion(.failure(.closed))
            return
        }
        pending[name] = .some(offset)
        waiters.append(completion)
        condition.signal()
        condition.unlock()
    }

    /// Flushes what is pending and stops the flusher thread.
    public func close() {
        condition.lock()
        closing = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }

    private func runFlusher() {
        while true {
            condition.lock()
            while pending.isEmpty && !closing { condition.wait() }
            let batch = pending
            let batchWaiters = waiters
            pending = [:]
            waiters = []
            let stop = closing && batch.isEmpty
            condition.unlock()
            if stop { break }
            let result = write(batch)
            condition.lock()
            flushes += 1
            if case .success = result {
                for (name, value) in batch { offsets[name] = value }
            }
            condition.unlock()
            for waiter in batchWaiters { waiter(result) }
        }
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    private func write(_ batch: [String: UInt64?]) -> Result<Void, EventLogError> {
        do throws(EventLogError) {
            var writer = ByteWriter()
            for (name, value) in batch { Self.appendEntry(name: name, offset: value, to: &writer) }
            try systemCall { try journal.write(writer.bytes, at: journalSizeBytes) }
            try systemCall { try journal.synchronizeData() }
            journalSizeBytes += Int64(writer.bytes.count)
            if journalSizeBytes > Self.journalSizeBytesMax { try compact(adding: batch) }
            return .success(())
        } catch {
            try? systemCall { try journal.truncate(to: journalSizeBytes) }
            return .failure(error)
        }
    }

    private func compact(adding batch: [String: UInt64?]) throws(EventLogError) {
        condition.lock()
        var live = offsets
        condition.unlock()
        for (name, value) in batch { live[name] = value }
        var writer = ByteWriter()
        for (name, offset) in live { Self.appendEntry(name: name, offset: offset, to: &writer) }
        try systemCall { try FileSystem.writeAtomically(writer.bytes, to: directory + "/cursors.snapshot") }
        try systemCall { try journal.truncate(to: 0) }
        try systemCall { try journal.synchronize() }
        journalSizeBytes = 0
    }

    /// Entry: length u32 | crc u32 (over length and body) | kind u8 (1 set, 2 remove) | nameLen u16 | name | offset u64.
    private static func appendEntry(name: String, offset: UInt64?, to writer: inout ByteWriter) {
        let nameBytes = Array(name.utf8)
        var body = ByteWriter(capacity: 11 + nameBytes.count)
        body.append(offset == nil ? UInt8(2) : UInt8(1))
        body.append(UInt16(nameBytes.count))
        body.append(contentsOf: nameBytes)
        body.append(offset ?? 0)
        var length = ByteWriter(capacity: 4)
        length.append(UInt32(body.bytes.count))
        writer.append(UInt32(body.bytes.count))
        writer.append(CRC32C.update(CRC32C.checksum(length.bytes), body.bytes))
        writer.append(contentsOf: body.bytes)
    }

    /// Decodes entries up to the first damaged one; returns them and how many bytes were valid.
    private static func decode(_ bytes: [UInt8]) -> ([(String, UInt64?)], Int) {
        var entries: [(String, UInt64?)] = []
        var position = 0
        bytes.withUnsafeBytes { buffer in
            while position + 8 <= buffer.count {
                let length = Int(buffer.uint32(at: position))
                guard length >= 11, length <= 11 + nameSizeBytesMax, position + 8 + length <= buffer.count else { break }
                let crc = CRC32C.update(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: buffer[position..<(position + 4)])),
                                        UnsafeRawBufferPointer(rebasing: buffer[(position + 8)..<(position + 8 + length)]))
                guard crc == buffer.uint32(at: position + 4) else { break }
                let body = position + 8
                let kind = buffer[body]
                let nameCount = Int(buffer.uint16(at: body + 1))
                guard 3 + nameCount + 8 == length, kind == 1 || kind == 2,
                      let name = String(validating: UnsafeRawBufferPointer(rebasing: buffer[(body + 3)..<(body + 3 + nameCount)]),
                                        as: UTF8.self)
                else { break }
                let offset = buffer.uint64(at: body + 3 + nameCount)
                entries.append((name, kind == 1 ? offset : nil))
                position += 8 + length
            }
        }
        return (entries, position)
    }
}
