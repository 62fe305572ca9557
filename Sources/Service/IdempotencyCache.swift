import Crypto
import Foundation
import JSON
import Synchronization
import SystemIO
#if canImport(Glibc)
import Glibc
#endif

/// Remembers the response of a publish made with an `Idempotency-Key` for 24 hours, per organization,
/// so a retried request gets the first result instead of a second event. Keys live in memory and in
/// `idempotency.journal` (one JSON line per key, written after the event is durable, without its own
/// fsync: a crash between the two can at worst let a retry publish the event again, which
/// at-least-once delivery already allows). The journal is compacted when the service starts.
final class IdempotencyCache: Sendable {
    enum Entry: Sendable {
        case inProgress(requestDigest: [UInt8])
        case done(requestDigest: [UInt8], status: Int, body: [UInt8], createdAtMs: Int64)
    }

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

    private let entries: Mutex<[String: Entry]>
    private let order: Mutex<[String]>
    private let journal: Mutex<FileDescriptor>
    private let journalPath: String

    /// Loads the keys of the last 24 hours from `directory/idempotency.journal`.
    init(directory: String, nowMs: Int64) throws {
        journalPath = directory + "/idempotency.journal"
        var loaded: [String: Entry] = [:]
        var keys: [String] = []
        var kept: [UInt8] = []
        if let data = FileManager.default.contents(atPath: journalPath) {
            for line in data.split(separator: UInt8(ascii: "\n")) {
                guard let json = try? JSONParser.parse(Array(line)), let key = json["key"]?.stringValue,
                      let digest = json["request_sha256"]?.stringValue.flatMap({ try? Hex.decode($0) }),
                      let status = json["status"]?.int64Value, let body = json["body"]?.stringValue,
                      let created = json["created_at_ms"]?.int64Value,
                      nowMs - created < ServiceLimits.idempotencyRetentionSeconds * 1000 else { continue }
                if loaded[key] == nil { keys.append(key) }
                loaded[key] = .done(requestDigest: digest, status: Int(status), body: Array(body.utf8), createdAtMs: created)
                kept += Array(line) + [UInt8(ascii: "\n")]
            }
        }
        try FileStore.write(kept, directory: directory, name: "idempotency.journal")
        let file = try FileDescriptor.open(journalPath, O_WRONLY | O_APPEND)
        entries = Mutex(loaded)
        order = Mutex(keys)
        journal = Mutex(file)
    }

    static func key(organizationID: String, key: String) -> String { organizationID + "\u{0}" + key }

    func claim(_ key: String, requestDigest: [UInt8], nowMs: Int64) -> Claim {
        entries.withLock { entries in
            switch entries[key] {
            case .inProgress(let digest)?:
                return digest == requestDigest ? .inProgress : .mismatch
            case .done(let digest, let status, let body, let created)?
                where nowMs - created < ServiceLimits.idempotencyRetentionSeconds * 1000:
                return digest == requestDigest ? .replay(status: status, body: body) : .mismatch
            default:
                entries[key] = .inProgress(requestDigest: requestDigest)
                return .claimed
            }
        }
    }

    func finish(_ key: String, requestDigest: [UInt8], status: Int, body: [UInt8], nowMs: Int64) {
        entries.withLock { $0[key] = .done(requestDigest: requestDigest, status: status, body: body, createdAtMs: nowMs) }
        let line = JSONValue.object([
            ("key", .string(key)), ("request_sha256", .string(Hex.encode(requestDigest))), ("status", .integer(status)),
            ("body", .string(String(decoding: body, as: UTF8.self))), ("created_at_ms", .integer(nowMs)),
        ]).encoded() + [UInt8(ascii: "\n")]
        // Best effort: losing a key costs at most a duplicate on a retry (see the type's comment).
        journal.withLock { file in try? file.writeAll(line) }
        let evicted: [String] = order.withLock { order in
            order.append(key)
            guard order.count > ServiceLimits.idempotencyKeyCountMax else { return [] }
            let count = order.count - ServiceLimits.idempotencyKeyCountMax
            defer { order.removeFirst(count) }
            return Array(order.prefix(count))
        }
        if !evicted.isEmpty { entries.withLock { for key in evicted { $0.removeValue(forKey: key) } } }
    }

    func abandon(_ key: String) {
        entries.withLock { _ = $0.removeValue(forKey: key) }
    }
}
