import Crypto
import JSON
import NATS

/// Idempotency keys shared by the processes of `serve --engine`, in the key-value bucket
/// `ARGUS_IDEMPOTENCY` (key: the hex SHA-256 of organization and key; value: a claim or the first
/// result). A publish with `Idempotency-Key` first claims the key by compare-and-set (`pending`), then
/// appends, then writes the result (`done`) over its own claim; a retry on any process replays the
/// result, answers 409 while the claim is fresh, or 422 for a different request. A claim left by a
/// process that died is taken over after `staleClaimMs`. Each process's `IdempotencyCache` stays in
/// front as the local cache (concurrent requests within one process, and results seen before).
///
/// Bounds: the bucket keeps `limits.entriesMax` keys (the oldest goes first beyond it, as the local
/// cache's total bound) for `ServiceLimits.Idempotency.retentionSeconds`. The local engine's bound per
/// organization is not applied in the bucket: one organization's keys can push out another's.
struct EngineIdempotency: Sendable {
    /// The bucket's name.
    static let bucketName = "ARGUS_IDEMPOTENCY"
    /// Its bounds (see the type's comment); a value holds a digest and a publish's answer.
    static let limits = KeyValueBucket.Limits(entriesMax: ServiceLimits.Idempotency.keyCountMax,
                                              ageSecondsMax: Double(ServiceLimits.Idempotency.retentionSeconds),
                                              valueBytesMax: IdempotencyCache.recordSizeBytesMax, dropsOldest: true)
    /// How old a claim without a result must be before another process takes the key over, in
    /// milliseconds: well past the engine's append retries (`JetStreamEventLog.appendRetrySeconds`).
    static let staleClaimMs: Int64 = 60_000

    /// What the key's entry says of a request, as a pure value.
    enum Decision: Equatable, Sendable {
        /// Claim the key: create it (revision 0) or replace the entry at `revision` (deleted or stale).
        case claim(revision: UInt64)
        case replay(status: Int, body: [UInt8])
        case inProgress
        case mismatch
    }

    let bucket: KeyValueBucket

    /// The bucket key of `cacheKey` (`IdempotencyCache.key(organizationID:key:)`).
    static func bucketKey(_ cacheKey: String) -> String { Hex.encode(SHA256.hash(Array(cacheKey.utf8))) }

    static func pending(requestDigest: [UInt8], nowMs: Int64) -> [UInt8] {
        JSONValue.object([("state", .string("pending")), ("request_sha256", .string(Hex.encode(requestDigest))),
                          ("created_at_ms", .integer(nowMs))]).encoded()
    }

    static func done(requestDigest: [UInt8], status: Int, body: [UInt8], nowMs: Int64) -> [UInt8] {
        JSONValue.object([("state", .string("done")), ("request_sha256", .string(Hex.encode(requestDigest))),
                          ("status", .integer(status)), ("body", .string(String(decoding: body, as: UTF8.self))),
                          ("created_at_ms", .integer(nowMs))]).encoded()
    }

    /// The decision for a request with `requestDigest` given the key's latest entry (nil: never written).
    /// An unreadable value is treated as a stale claim (taken over).
    static func decide(_ entry: KeyValueEntry?, requestDigest: [UInt8], nowMs: Int64) -> Decision {
        guard let entry else { return .claim(revision: 0) }
        guard !entry.isDeleted else { return .claim(revision: entry.revision) }
        guard let json = try? JSONParser.parse(entry.value), let digest = json["request_sha256"]?.stringValue,
              let created = json["created_at_ms"]?.int64Value else { return .claim(revision: entry.revision) }
        let same = digest == Hex.encode(requestDigest)
        switch json["state"]?.stringValue {
        case "done":
            guard same else { return .mismatch }
            guard let status = json["status"]?.int64Value, let body = json["body"]?.stringValue else { return .claim(revision: entry.revision) }
            return .replay(status: Int(status), body: Array(body.utf8))
        case "pending" where nowMs - created < staleClaimMs:
            return same ? .inProgress : .mismatch
        default:
            return .claim(revision: entry.revision)
        }
    }

    /// Claims `cacheKey` for a request, or says why not. A lost compare-and-set race reads the key
    /// again (at most 3 rounds).
    /// - Returns: `.claim(revision:)` with the claim's own revision (for `finish` and `abandon`).
    /// - Throws: `JetStreamError` when the engine does not answer.
    func claim(_ cacheKey: String, requestDigest: [UInt8], nowMs: Int64) async throws -> Decision {
        let key = Self.bucketKey(cacheKey)
        for _ in 0..<3 {
            let decision = Self.decide(try await bucket.entry(key), requestDigest: requestDigest, nowMs: nowMs)
            guard case .claim(let revision) = decision else { return decision }
            do throws(JetStreamError) {
                return .claim(revision: try await bucket.update(key, Self.pending(requestDigest: requestDigest, nowMs: nowMs), revision: revision))
            } catch .revisionMismatch {
                continue
            }
        }
        return .inProgress
    }

    /// Writes the result over this process's claim (`revision`).
    /// - Throws: `JetStreamError`; `revisionMismatch` when the claim was taken over meanwhile.
    func finish(_ cacheKey: String, revision: UInt64, requestDigest: [UInt8], status: Int, body: [UInt8], nowMs: Int64) async throws {
        try await bucket.update(Self.bucketKey(cacheKey), Self.done(requestDigest: requestDigest, status: status, body: body, nowMs: nowMs),
                                revision: revision)
    }

    /// Gives the claim up (the publish failed), unless another process took it over.
    func abandon(_ cacheKey: String, revision: UInt64) async {
        _ = try? await bucket.delete(Self.bucketKey(cacheKey), revision: revision)
    }
}
