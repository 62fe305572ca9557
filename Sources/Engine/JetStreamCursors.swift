import EventLog
import NATS
import Synchronization

/// Cursors in the key-value bucket `ARGUS_CURSORS` (key: the consumer name, value: the offset in
/// decimal). Every commit is a compare-and-set on the revision this process last wrote or read, so
/// two processes never both move one cursor: after another process moved it (a lease taken over),
/// this one's next commit fails with `revisionMismatch` and it must stop delivering that webhook.
package final class JetStreamCursors: CursorBook, Sendable {
    /// The bucket's name.
    package static let bucketName = "ARGUS_CURSORS"
    /// The most cursors whose revisions are remembered (one per webhook).
    package static let namesMax = 100_000

    /// The bucket.
    package let bucket: KeyValueBucket
    private let revisions = Mutex<[String: UInt64]>([:])

    private init(bucket: KeyValueBucket) {
        self.bucket = bucket
    }

    /// Creates (or opens) the bucket with `replicas` copies.
    package static func open(_ jetStream: JetStream, replicas: Int) async throws(JetStreamError) -> JetStreamCursors {
        JetStreamCursors(bucket: try await KeyValueBucket.create(bucketName, in: jetStream, history: 1, replicas: replicas))
    }

    /// The committed offset of `name` (and remembers its revision for the next commit).
    package func committedOffset(of name: String) async throws -> UInt64? {
        guard let entry = try await bucket.get(name) else {
            revisions.withLock { _ = $0.removeValue(forKey: name) }
            return nil
        }
        guard let offset = UInt64(String(decoding: entry.value, as: UTF8.self)) else {
            throw JetStreamError.malformedResponse(subject: "$KV.\(Self.bucketName).\(name)", detail: "a cursor that is not a decimal offset")
        }
        try remember(name, entry.revision)
        return offset
    }

    /// Commits `offset` by compare-and-set on the revision this process last saw for `name` (read
    /// first when it has seen none).
    /// - Throws: `JetStreamError.revisionMismatch` when another process moved the cursor since.
    package func commit(_ name: String, offset: UInt64) async throws {
        var known = revisions.withLock { $0[name] }
        if known == nil {
            known = try await bucket.entry(name)?.revision ?? 0
        }
        let revision = try await bucket.update(name, Array(String(offset).utf8), revision: known ?? 0)
        try remember(name, revision)
    }

    /// Deletes the cursor.
    package func remove(_ name: String) async throws {
        try await bucket.delete(name)
        revisions.withLock { _ = $0.removeValue(forKey: name) }
    }

    private func remember(_ name: String, _ revision: UInt64) throws {
        try revisions.withLock { known in
            guard known[name] != nil || known.count < Self.namesMax else {
                throw JetStreamError.invalidArgument("more than \(Self.namesMax) cursors in one process")
            }
            known[name] = revision
        }
    }
}
