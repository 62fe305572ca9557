import Crypto
import Foundation
import JSON
import Synchronization
import SystemIO
#if canImport(Glibc)
import Glibc
#endif

/// Access tokens: opaque `at_` + 256 random bits, stored as SHA-256 digests with their client,
/// organization, scopes and expiry. Issuance and revocation are appended to `tokens.journal` and
/// fsynced before they are answered, so tokens survive restarts and crashes; the journal is compacted
/// (expired entries dropped) when the store opens.
public final class TokenStore: Sendable {
    /// What a bearer token turned out to be.
    public enum Lookup: Sendable, Equatable {
        case valid(Principal)
        case expired
        case revoked
        case unknown
    }

    struct Record: Sendable {
        var clientID: String
        var organizationID: String
        var scopes: [String]
        var expiresAtMs: Int64
        var revoked: Bool
    }

    private let journalPath: String
    private let records: Mutex<[String: Record]>
    /// Serialises journal appends (kept apart from `records` so lookups never wait for an fsync).
    private let journal: Mutex<FileDescriptor>

    /// Opens the store in `directory`, replaying and compacting the journal.
    public init(directory: String, nowMs: Int64) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        journalPath = directory + "/tokens.journal"
        var loaded: [String: Record] = [:]
        if let data = FileManager.default.contents(atPath: journalPath) {
            for line in data.split(separator: UInt8(ascii: "\n")) {
                // A torn last line (crash mid-append) fails to parse and is dropped: it was never acknowledged.
                guard let json = try? JSONParser.parse(Array(line)), let digest = json["token_sha256"]?.stringValue else { continue }
                if json["revoked"]?.boolValue == true {
                    loaded[digest]?.revoked = true
                } else if let client = json["client_id"]?.stringValue, let organization = json["organization_id"]?.stringValue,
                          let scopes = json["scopes"]?.arrayValue?.compactMap(\.stringValue), let expires = json["expires_at_ms"]?.int64Value {
                    loaded[digest] = Record(clientID: client, organizationID: organization, scopes: scopes, expiresAtMs: expires, revoked: false)
                }
            }
        }
        loaded = loaded.filter { $0.value.expiresAtMs > nowMs }
        var compacted: [UInt8] = []
        for (digest, record) in loaded {
            compacted += Self.issueLine(digest: digest, record: record)
            if record.revoked { compacted += Self.revokeLine(digest: digest) }
        }
        try FileStore.write(compacted, directory: directory, name: "tokens.journal")
        let file = try FileDescriptor.open(journalPath, O_WRONLY | O_APPEND)
        records = Mutex(loaded)
        journal = Mutex(file)
    }

    private static func issueLine(digest: String, record: Record) -> [UInt8] {
        JSONValue.object([
            ("token_sha256", .string(digest)), ("client_id", .string(record.clientID)),
            ("organization_id", .string(record.organizationID)), ("scopes", .array(record.scopes.map(JSONValue.string))),
            ("expires_at_ms", .integer(record.expiresAtMs)),
        ]).encoded() + [UInt8(ascii: "\n")]
    }

    private static func revokeLine(digest: String) -> [UInt8] {
        JSONValue.object([("token_sha256", .string(digest)), ("revoked", .bool(true))]).encoded() + [UInt8(ascii: "\n")]
    }

    private func append(_ line: [UInt8]) throws {
        try journal.withLock { file throws(SystemError) in
            try file.writeAll(line)
            try file.synchronizeData()
        }
    }

    private static func digest(of token: String) -> String { Hex.encode(SHA256.hash(Array(token.utf8))) }

    /// Issues a token for `client` with `scopes`, durably.
    public func issue(client: OAuthClient, scopes: [String], nowMs: Int64,
                      lifetimeSeconds: Int64 = ServiceLimits.accessTokenLifetimeSeconds) throws -> (token: String, expiresAtMs: Int64) {
        guard records.withLock({ $0.count }) < ServiceLimits.liveTokenCountMax else {
            throw APIError(503, "temporarily_unavailable", "too many live tokens; try again later")
        }
        let token = "at_" + Base64.encode(try SecureRandom.bytes(count: 32), alphabet: .url)
        let digest = Self.digest(of: token)
        let record = Record(clientID: client.clientID, organizationID: client.organizationID, scopes: scopes,
                            expiresAtMs: nowMs + lifetimeSeconds * 1000, revoked: false)
        try append(Self.issueLine(digest: digest, record: record))
        records.withLock { $0[digest] = record }
        return (token, record.expiresAtMs)
    }

    /// What `token` is at `nowMs`.
    public func lookup(_ token: String, nowMs: Int64) -> Lookup {
        let digest = Self.digest(of: token)
        guard let record = records.withLock({ $0[digest] }) else { return .unknown }
        if record.revoked { return .revoked }
        if record.expiresAtMs <= nowMs { return .expired }
        return .valid(Principal(clientID: record.clientID, organizationID: record.organizationID, scopes: Set(record.scopes)))
    }

    /// Revokes `token` when it belongs to `clientID` (RFC 7009: other tokens are ignored silently).
    /// - Returns: true when a live token was revoked.
    @discardableResult
    public func revoke(_ token: String, clientID: String) throws -> Bool {
        let digest = Self.digest(of: token)
        guard let record = records.withLock({ $0[digest] }), record.clientID == clientID, !record.revoked else { return false }
        try append(Self.revokeLine(digest: digest))
        records.withLock { $0[digest]?.revoked = true }
        return true
    }

    /// Forgets tokens that expired before `nowMs` (memory only; the journal is compacted on open).
    public func pruneExpired(nowMs: Int64) {
        records.withLock { $0 = $0.filter { $0.value.expiresAtMs > nowMs } }
    }
}
