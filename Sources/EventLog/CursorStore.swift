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
/// Storage: `cursors.journal`, a SystemIO `Journal` (CRC-framed entries, a torn tail is cut off,
/// `fdatasync` per flush), compacted online to the live entries when it grows past
/// `journalSizeBytesMax`. A data directory from before the journal (`cursors.snapshot` plus a
/// journal without the magic) is read once and compacted into the new format.
///
/// `@unchecked Sendable`: all mutable state is guarded by `condition`; file I/O happens on the flusher thread.
public final class CursorStore: @unchecked Sendable {
    /// Journal size that triggers a compaction, in bytes.
    package static let journalSizeBytesMax: Int64 = 4 << 20
    /// Longest consumer name, in UTF-8 bytes.
    package static let nameSizeBytesMax = 256

    private let directory: String
    private let condition = NSCondition()
    private var offsets: [String: UInt64] = [:]
    private var pending: [String: UInt64?] = [:]
    private var waiters: [@Sendable (Result<Void, EventLogError>) -> Void] = []
    private var closing = false
    private var finished = false
    private let journal: Journal
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
        let (journal, records) = try systemCall {
            try Journal.open(path: directory + "/cursors.journal", durability: .synchronizeEachAppend,
                             recordSizeBytesMax: Self.entrySizeBytesMax, legacy: Self.legacyDecoder(directory: directory))
        }
        // After a migration the old snapshot is stale: a journal in the new format holds every entry.
        try systemCall { try FileSystem.remove(directory + "/cursors.snapshot") }
        var offsets: [String: UInt64] = [:]
        for (name, offset) in records.compactMap(Self.entry(from:)) { offsets[name] = offset }
        self.journal = journal
        self.offsets = offsets
        Thread.detachNewThread(named: "argus-cursor-flusher") { [self] in runFlusher() }
    }

    /// Longest entry body: kind, name length, name, offset.
    static let entrySizeBytesMax = 3 + nameSizeBytesMax + 8

    /// The format before `Journal`: `cursors.snapshot` then `cursors.journal`, both the same frames
    /// without the magic; the journal (empty right after a compaction) is decoded with the snapshot first.
    private static func legacyDecoder(directory: String) -> @Sendable ([UInt8]) -> [[UInt8]] {
        { journalBytes in
            let snapshot = (try? FileSystem.contents(of: directory + "/cursors.snapshot")) ?? nil
            return Journal.decode(snapshot ?? [], from: 0, recordSizeBytesMax: entrySizeBytesMax).records
                + Journal.decode(journalBytes, from: 0, recordSizeBytesMax: entrySizeBytesMax).records
        }
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
        let records = (try? Journal.read(path: directory + "/cursors.journal", recordSizeBytesMax: entrySizeBytesMax,
                                   legacy: legacyDecoder(directory: directory))) ?? []
        for (key, offset) in records.compactMap(entry(from:)) { offsets[key] = offset }
        return offsets
    }

    /// Removes `name` durably.
    public func remove(_ name: String) async throws {
        try await enqueue(name, nil)
    }

    /// The blocking form of `commit`.
    package func commitAndWait(_ name: String, offset: UInt64) throws(EventLogError) {
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
            try systemCall { try journal.append(batch.map { Self.entryBody(name: $0.key, offset: $0.value) }) }
            if journal.sizeBytes > Self.journalSizeBytesMax { try compact(adding: batch) }
            return .success(())
        } catch {
            return .failure(error)
        }
    }

    private func compact(adding batch: [String: UInt64?]) throws(EventLogError) {
        condition.lock()
        var live = offsets
        condition.unlock()
        for (name, value) in batch { live[name] = value }
        try systemCall { try journal.replace(with: live.map { Self.entryBody(name: $0.key, offset: $0.value) }) }
    }

    /// Entry body: kind u8 (1 set, 2 remove) | nameLen u16 | name | offset u64 (little-endian).
    private static func entryBody(name: String, offset: UInt64?) -> [UInt8] {
        let nameBytes = Array(name.utf8)
        var body = ByteWriter(capacity: 11 + nameBytes.count)
        body.append(offset == nil ? UInt8(2) : UInt8(1))
        body.append(UInt16(nameBytes.count))
        body.append(contentsOf: nameBytes)
        body.append(offset ?? 0)
        return body.bytes
    }

    /// The name and offset (nil: removed) of an entry body, or nil when it is malformed.
    private static func entry(from body: [UInt8]) -> (String, UInt64?)? {
        guard body.count >= 11, body[0] == 1 || body[0] == 2 else { return nil }
        let nameCount = Int(body[1]) | Int(body[2]) << 8
        guard 3 + nameCount + 8 == body.count, let name = String(validating: body[3..<(3 + nameCount)], as: UTF8.self) else { return nil }
        var offset: UInt64 = 0
        for index in 0..<8 { offset |= UInt64(body[3 + nameCount + index]) << (8 * index) }
        return (name, body[0] == 1 ? offset : nil)
    }
}
