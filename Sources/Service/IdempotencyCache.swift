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
/// `idempotency.journal` (a SystemIO `Journal` with durability `.none`, one JSON object per key,
/// written after the event is durable: a crash between the two can at worst let a retry publish the
/// event again, which at-least-once delivery already allows; so a failed journal write is dropped
/// for the same reason). The journal is compacted to the live keys when the service starts and
/// whenever it holds more than twice as many records.
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
    private let journal: Mutex<Journal>
    /// Largest journal record, in bytes (a key, a digest and a publish response).
    static let recordSizeBytesMax = 64 * 1024

    /// Loads the keys of the last 24 hours from `directory/idempotency.journal` and rewrites it with them.
    init(directory: String, nowMs: Int64) throws {
        try FileSystem.createDirectory(directory)
        let (journal, records) = try Journal.open(path: directory + "/idempotency.journal", durability: .none,
                                                  recordSizeBytesMax: Self.recordSizeBytesMax, legacy: FileStore.jsonLines)
        var loaded = Self.emptyBook()
        for record in records {
            guard let json = try? JSONParser.parse(record), let key = json["key"]?.stringValue,
                  let digest = json["request_sha256"]?.stringValue.flatMap({ try? Hex.decode($0) }),
                  let status = json["status"]?.int64Value, let body = json["body"]?.stringValue,
                  let created = json["created_at_ms"]?.int64Value,
                  nowMs - created < ServiceLimits.Idempotency.retentionSeconds * 1000 else { continue }
            loaded.finish(key, requestDigest: digest, status: Int(status), body: Array(body.utf8), createdAtMs: created)
        }
        try Self.compact(journal, to: loaded, nowMs: nowMs)
        book = Mutex(loaded)
        self.journal = Mutex(journal)
    }

    static func emptyBook() -> IdempotencyBook {
        IdempotencyBook(perOrganizationMax: ServiceLimits.Idempotency.keyCountPerOrganizationMax,
                        totalMax: ServiceLimits.Idempotency.keyCountMax,
                        retentionMs: ServiceLimits.Idempotency.retentionSeconds * 1000)
    }

    private static func record(key: String, requestDigest: [UInt8], status: Int, body: [UInt8], createdAtMs: Int64) -> [UInt8] {
        JSONValue.object([
            ("key", .string(key)), ("request_sha256", .string(Hex.encode(requestDigest))), ("status", .integer(status)),
            ("body", .string(String(decoding: body, as: UTF8.self))), ("created_at_ms", .integer(createdAtMs)),
        ]).encoded()
    }

    /// Replaces the journal with the book's finished keys.
    private static func compact(_ journal: Journal, to book: IdempotencyBook, nowMs: Int64) throws {
        try journal.replace(with: book.finishedEntries(nowMs: nowMs).compactMap { key, entry in
            guard case .done(let digest, let status, let body, let created) = entry else { return nil }
            return record(key: key, requestDigest: digest, status: status, body: body, createdAtMs: created)
        })
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
        let record = Self.record(key: key, requestDigest: requestDigest, status: status, body: body, createdAtMs: nowMs)
        // Best effort: losing a key costs at most a duplicate on a retry (see the type's comment).
        journal.withLock { journal in
            let finishedCount = book.withLock { $0.finishedCount }
            if journal.recordCount > 2 * finishedCount + 1024 {
                let snapshot = book.withLock { $0 }
                if (try? Self.compact(journal, to: snapshot, nowMs: nowMs)) != nil { return }
            }
            try? journal.append(record)
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
