import Crypto
import Foundation
import JSON
import Synchronization
import SystemIO
#if canImport(Glibc)
import Glibc
#endif

/// Remembers the response of a publish made with an `Idempotency-Key` for 24 hours, per organization
/// (bounded per organization and in total, see ``IdempotencyBook``),
/// so a retried request gets the first result instead of a second event. Keys live in memory and in
/// `idempotency.journal` (one JSON line per key, written after the event is durable, without its own
/// fsync: a crash between the two can at worst let a retry publish the event again, which
/// at-least-once delivery already allows). The journal is rewritten with the live keys when the
/// service starts and whenever it holds more than twice as many lines.
final class IdempotencyCache: Sendable {
    enum Claim {
        /// Go ahead, then call `finish` or `abandon`.
        case claimed
        /// Answer with this stored response.
        case replay(status: Int, body: [UInt8])
        /// A request with this key is still running.
        case inProgress
        /// The key was used with a different request.
        case mismatch
    }

    private let book: Mutex<IdempotencyBook>
    /// The journal file and how many lines it holds.
    private let journal: Mutex<(file: FileDescriptor, lineCount: Int)>
    private let directory: String
    private let journalPath: String

    /// Loads the keys of the last 24 hours from `directory/idempotency.journal` and rewrites it with them.
    init(directory: String, nowMs: Int64) throws {
        self.directory = directory
        journalPath = directory + "/idempotency.journal"
        var loaded = Self.emptyBook()
        if let data = FileManager.default.contents(atPath: journalPath) {
            for line in data.split(separator: UInt8(ascii: "\n")) {
                guard let json = try? JSONParser.parse(Array(line)), let key = json["key"]?.stringValue,
                      let digest = json["request_sha256"]?.stringValue.flatMap({ try? Hex.decode($0) }),
                      let status = json["status"]?.int64Value, let body = json["body"]?.stringValue,
                      let created = json["created_at_ms"]?.int64Value,
                      nowMs - created < ServiceLimits.idempotencyRetentionSeconds * 1000 else { continue }
                loaded.finish(key, requestDigest: digest, status: Int(status), body: Array(body.utf8), createdAtMs: created)
            }
        }
        let (file, lineCount) = try Self.rewrite(loaded, nowMs: nowMs, directory: directory, path: journalPath)
        book = Mutex(loaded)
        journal = Mutex((file, lineCount))
    }

    static func emptyBook() -> IdempotencyBook {
        IdempotencyBook(perOrganizationMax: ServiceLimits.idempotencyKeyCountPerOrganizationMax,
                        totalMax: ServiceLimits.idempotencyKeyCountMax,
                        retentionMs: ServiceLimits.idempotencyRetentionSeconds * 1000)
    }

    private static func line(key: String, requestDigest: [UInt8], status: Int, body: [UInt8], createdAtMs: Int64) -> [UInt8] {
        JSONValue.object([
            ("key", .string(key)), ("request_sha256", .string(Hex.encode(requestDigest))), ("status", .integer(status)),
            ("body", .string(String(decoding: body, as: UTF8.self))), ("created_at_ms", .integer(createdAtMs)),
        ]).encoded() + [UInt8(ascii: "\n")]
    }

    /// Writes the journal anew with the book's finished keys and opens it for appending.
    private static func rewrite(_ book: IdempotencyBook, nowMs: Int64, directory: String, path: String) throws -> (FileDescriptor, Int) {
        var bytes: [UInt8] = []
        let entries = book.finishedEntries(nowMs: nowMs)
        for (key, entry) in entries {
            if case .done(let digest, let status, let body, let created) = entry {
                bytes += line(key: key, requestDigest: digest, status: status, body: body, createdAtMs: created)
            }
        }
        try FileStore.write(bytes, directory: directory, name: "idempotency.journal")
        return (try FileDescriptor.open(path, O_WRONLY | O_APPEND), entries.count)
    }

    static func key(organizationID: String, key: String) -> String { organizationID + "\u{0}" + key }

    func claim(_ key: String, requestDigest: [UInt8], nowMs: Int64) -> Claim {
        book.withLock { book in
            switch book.entry(key, nowMs: nowMs) {
            case .inProgress(let digest)?:
                return digest == requestDigest ? .inProgress : .mismatch
            case .done(let digest, let status, let body, _)?:
                return digest == requestDigest ? .replay(status: status, body: body) : .mismatch
            case nil:
                book.begin(key, requestDigest: requestDigest)
                return .claimed
            }
        }
    }

    func finish(_ key: String, requestDigest: [UInt8], status: Int, body: [UInt8], nowMs: Int64) {
        book.withLock { $0.finish(key, requestDigest: requestDigest, status: status, body: body, createdAtMs: nowMs) }
        let line = Self.line(key: key, requestDigest: requestDigest, status: status, body: body, createdAtMs: nowMs)
        // Best effort: losing a key costs at most a duplicate on a retry (see the type's comment).
        journal.withLock { journal in
            let finishedCount = book.withLock { $0.finishedCount }
            if journal.lineCount > 2 * finishedCount + 1024 {
                let snapshot = book.withLock { $0 }
                if let (file, lineCount) = try? Self.rewrite(snapshot, nowMs: nowMs, directory: directory, path: journalPath) {
                    journal = (file, lineCount)
                    return
                }
            }
            try? journal.file.writeAll(line)
            journal.lineCount += 1
        }
    }

    func abandon(_ key: String) {
        book.withLock { $0.abandon(key) }
    }

    /// Finished keys held for `organizationID`, and in total.
    func counts(organizationID: String) -> (organization: Int, total: Int) {
        book.withLock { ($0.count(of: organizationID), $0.finishedCount) }
    }
}
