import Crypto
import EventLog
import Foundation
import JSON
import Synchronization
import SystemIO
#if canImport(Glibc)
import Glibc
#endif

/// Access tokens: opaque `at_` + 256 random bits, stored as SHA-256 digests with their client,
/// organization, scopes and expiry. Issuance, revocation and client deletion are appended to
/// `tokens.journal` (a SystemIO `Journal`, one JSON object per record, `fdatasync` per append) before they are answered, so tokens survive restarts and crashes.
///
/// Bounded by live tokens: expired tokens are pruned (soonest expiry first, whatever their lifetime;
/// O(log n) each) at every
/// issuance, revoked tokens and a deleted client's tokens are dropped at once, and the journal is
/// rewritten with only the live tokens when it holds more than twice as many lines (and at open).
/// A client holds at most `ServiceLimits.Tokens.liveCountPerClientMax` live tokens, the store at most
/// `ServiceLimits.Tokens.liveCountMax`, and a client may ask for at most
/// `ServiceLimits.Tokens.requestsPerSecondPerClientMax` tokens per second.
package final class TokenStore: Sendable {
    /// What a bearer token turned out to be.
    package enum Lookup: Sendable, Equatable {
        case valid(Principal)
        /// Expired and not yet pruned (once pruned it is `unknown`).
        case expired
        /// Revoked recently (the last `recentlyRevokedCountMax` revocations are remembered).
        case revoked
        case unknown
    }

    struct Record: Sendable {
        var clientID: String
        var organizationID: String
        let scopes: [String]
        var expiresAtMs: Int64
        /// `scopes` as a set, built once (every authenticated request reads it).
        let scopeSet: Set<String>

        init(clientID: String, organizationID: String, scopes: [String], expiresAtMs: Int64) {
            self.clientID = clientID
            self.organizationID = organizationID
            self.scopes = scopes
            self.expiresAtMs = expiresAtMs
            self.scopeSet = Set(scopes)
        }
    }

    /// The key of a token in memory: its SHA-256 held inline (hashing a request's token allocates
    /// nothing); written as 64 lowercase hex digits (`hex`) in the journal and the engine's bucket.
    typealias Digest = SHA256.Digest

    private struct State: Sendable {
        var records: [Digest: Record] = [:]
        var digestsByClient: [String: Set<Digest>] = [:]
        /// Issuances not yet in `records` (journal write in progress), per client and in total.
        var pendingByClient: [String: Int] = [:]
        var pendingCount = 0
        /// Digests by expiry, soonest first (tokens of every lifetime: portal sessions, client tokens).
        var expiries = ExpiryQueue<Digest>()
        /// Digests of recent revocations, so their holders hear `token_revoked` (bounded FIFO).
        var recentlyRevoked: Set<Digest> = []
        var recentlyRevokedOrder: [Digest] = []
        var rateLimiter = TokenRateLimiter(requestsPerSecond: ServiceLimits.Tokens.requestsPerSecondPerClientMax,
                                           clientCountMax: ServiceLimits.Clients.countMax)
        var journalLineCount = 0

        mutating func insert(_ digest: Digest, _ record: Record) {
            records[digest] = record
            digestsByClient[record.clientID, default: []].insert(digest)
            expiries.insert(digest, expiresAtMs: record.expiresAtMs)
        }

        mutating func remove(_ digest: Digest) {
            guard let record = records.removeValue(forKey: digest) else { return }
            digestsByClient[record.clientID]?.remove(digest)
            if digestsByClient[record.clientID]?.isEmpty == true { digestsByClient[record.clientID] = nil }
        }

        /// Drops tokens whose expiry passed, soonest first, and the queue's entries of removed tokens.
        mutating func pruneExpired(nowMs: Int64) {
            for (expiresAtMs, digest) in expiries.popExpired(nowMs: nowMs) where records[digest]?.expiresAtMs == expiresAtMs {
                remove(digest)
            }
            if expiries.count > 2 * records.count + 1024 {
                // Mostly revoked tokens waiting for their expiry: keep the queue bounded by live tokens.
                expiries = ExpiryQueue(records.map { ($0.value.expiresAtMs, $0.key) })
            }
        }

        mutating func rememberRevoked(_ digest: Digest) {
            guard recentlyRevoked.insert(digest).inserted else { return }
            recentlyRevokedOrder.append(digest)
            if recentlyRevokedOrder.count > TokenStore.recentlyRevokedCountMax * 2 {
                let dropped = recentlyRevokedOrder.count - TokenStore.recentlyRevokedCountMax
                for old in recentlyRevokedOrder[..<dropped] { recentlyRevoked.remove(old) }
                recentlyRevokedOrder.removeFirst(dropped)
            }
        }

        func liveCount(of clientID: String) -> Int {
            (digestsByClient[clientID]?.count ?? 0) + (pendingByClient[clientID] ?? 0)
        }
    }

    /// Revocations remembered to answer `token_revoked` (older ones answer `invalid_token`).
    static let recentlyRevokedCountMax = 10_000

    private let state: Mutex<State>
    /// Serialises journal appends and rewrites (kept apart from `state` so lookups never wait for an fsync).
    private let journal: Mutex<Journal>
    /// Largest journal record, in bytes (an issuance names a digest, a client, an organization and scopes).
    static let recordSizeBytesMax = 64 * 1024

    /// Opens the store in `directory`, replaying the journal and rewriting it with the live tokens only.
    public init(directory: String, nowMs: Int64) throws {
        try FileSystem.createDirectory(directory)
        let (journal, records) = try Journal.open(path: directory + "/tokens.journal", durability: .synchronizeEachAppend,
                                                  recordSizeBytesMax: Self.recordSizeBytesMax, legacy: FileStore.jsonLines)
        var loaded = State()
        for record in records {
            guard let json = try? JSONParser.parse(record) else { continue }
            if json["deleted"]?.boolValue == true, let client = json["client_id"]?.stringValue {
                for digest in loaded.digestsByClient[client] ?? [] { loaded.remove(digest) }
            } else if let text = json["token_sha256"]?.stringValue, let digest = Digest(lowercaseHex: text) {
                if json["revoked"]?.boolValue == true {
                    loaded.remove(digest)
                } else if let client = json["client_id"]?.stringValue, let organization = json["organization_id"]?.stringValue,
                          let scopes = json["scopes"]?.arrayValue?.compactMap(\.stringValue),
                          let expires = json["expires_at_ms"]?.int64Value, expires > nowMs {
                    loaded.insert(digest, Record(clientID: client, organizationID: organization, scopes: scopes, expiresAtMs: expires))
                }
            }
        }
        loaded.expiries = ExpiryQueue(loaded.records.map { ($0.value.expiresAtMs, $0.key) })
        try journal.replace(with: loaded.records.map { Self.issueLine(digest: $0.key, record: $0.value) })
        loaded.journalLineCount = loaded.records.count
        state = Mutex(loaded)
        self.journal = Mutex(journal)
    }

    static func issueLine(digest: Digest, record: Record) -> [UInt8] {
        JSONValue.object([
            ("token_sha256", .string(digest.hex)), ("client_id", .string(record.clientID)),
            ("organization_id", .string(record.organizationID)), ("scopes", .array(record.scopes.map(JSONValue.string))),
            ("expires_at_ms", .integer(record.expiresAtMs)),
        ]).encoded()
    }

    private static func revokeLine(digest: Digest) -> [UInt8] {
        JSONValue.object([("token_sha256", .string(digest.hex)), ("revoked", .bool(true))]).encoded()
    }

    private static func deleteLine(clientID: String) -> [UInt8] {
        JSONValue.object([("client_id", .string(clientID)), ("deleted", .bool(true))]).encoded()
    }

    /// Appends `line` durably, then applies `change` to the state while still holding the journal
    /// (so a rewrite never misses a change that is already in the journal, nor restores an undone
    /// one). Rewrites the journal first when it holds more than twice the live tokens.
    @discardableResult
    private func append<R>(_ line: [UInt8], then change: (inout State) -> R) throws -> R {
        try journal.withLock { journal in
            let (lineCount, liveCount) = state.withLock { ($0.journalLineCount, $0.records.count) }
            if lineCount > 2 * liveCount + 1024 {
                let records = state.withLock { $0.records }
                try journal.replace(with: records.map { Self.issueLine(digest: $0.key, record: $0.value) })
                state.withLock { $0.journalLineCount = records.count }
            }
            try journal.append(line)
            return state.withLock { state in
                state.journalLineCount += 1
                return change(&state)
            }
        }
    }

    /// The hex SHA-256 of `token`: how the journal (and the engine's `ARGUS_TOKENS` bucket) names it.
    static func digest(of token: String) -> String { key(of: Substring(token)).hex }

    /// The SHA-256 of `token`, inline: how the store finds it in memory (hashed in place, no allocation).
    static func key(of token: Substring) -> Digest { SHA256.digest(token.utf8) }

    /// Counts a token request of `clientID` against its rate limit.
    /// - Returns: nil when allowed, else the seconds to wait before the next request (for `Retry-After`).
    package func admitRequest(clientID: String, nowMs: Int64) -> Int? {
        state.withLock { state in
            state.rateLimiter.admit(clientID, nowMs: nowMs).map { Int(($0 + 999) / 1000) }
        }
    }

    /// Issues a token for `client` with `scopes`, durably.
    /// - Throws: `StoreError.clientTokenLimit` when the client holds
    ///   `ServiceLimits.Tokens.liveCountPerClientMax` live tokens; `.tokenLimit` at the store's cap
    ///   (`APIError(_:)` maps them to 429 and 503); `.system` when the journal cannot be written.
    package func issue(client: OAuthClient, scopes: [String], nowMs: Int64,
                      lifetimeSeconds: Int64 = ServiceLimits.Tokens.lifetimeSeconds) throws -> (token: String, expiresAtMs: Int64) {
        try issue(clientID: client.clientID, organizationID: client.organizationID, scopes: scopes, nowMs: nowMs,
                  lifetimeSeconds: lifetimeSeconds)
    }

    /// Issues a token on behalf of `clientID` for `organizationID` (a portal session names its
    /// organization), counted against that client's live tokens. Pruned at its expiry whatever its lifetime.
    /// - Throws: as `issue(client:scopes:nowMs:lifetimeSeconds:)`.
    package func issue(clientID: String, organizationID: String, scopes: [String], nowMs: Int64,
                      lifetimeSeconds: Int64) throws -> (token: String, expiresAtMs: Int64) {
        let client = (clientID: clientID, organizationID: organizationID)
        try state.withLock { state throws(StoreError) in
            state.pruneExpired(nowMs: nowMs)
            guard state.liveCount(of: client.clientID) < ServiceLimits.Tokens.liveCountPerClientMax else {
                throw .clientTokenLimit(limit: ServiceLimits.Tokens.liveCountPerClientMax)
            }
            guard state.records.count + state.pendingCount < ServiceLimits.Tokens.liveCountMax else {
                throw .tokenLimit(limit: ServiceLimits.Tokens.liveCountMax)
            }
            state.pendingByClient[client.clientID, default: 0] += 1
            state.pendingCount += 1
        }
        func settle(_ state: inout State) {
            state.pendingCount -= 1
            state.pendingByClient[client.clientID, default: 1] -= 1
            if state.pendingByClient[client.clientID] == 0 { state.pendingByClient[client.clientID] = nil }
        }
        let token: String
        let digest: Digest
        let record = Record(clientID: client.clientID, organizationID: client.organizationID, scopes: scopes,
                            expiresAtMs: nowMs + lifetimeSeconds * 1000)
        do {
            token = "at_" + Base64.encode(try SecureRandom.bytes(count: 32), alphabet: .url)
            digest = Self.key(of: Substring(token))
            try append(Self.issueLine(digest: digest, record: record)) { state in
                settle(&state)
                state.insert(digest, record)
            }
        } catch {
            state.withLock { settle(&$0) }
            throw error
        }
        return (token, record.expiresAtMs)
    }

    /// What `token` is at `nowMs`.
    package func lookup(_ token: String, nowMs: Int64) -> Lookup {
        lookup(Substring(token), nowMs: nowMs)
    }

    /// What `token` (a part of the request's `Authorization` value) is at `nowMs`; allocates nothing
    /// unless the token is valid.
    package func lookup(_ token: Substring, nowMs: Int64) -> Lookup {
        let digest = Self.key(of: token)
        return state.withLock { state in
            guard let record = state.records[digest] else { return state.recentlyRevoked.contains(digest) ? .revoked : .unknown }
            if record.expiresAtMs <= nowMs { return .expired }
            return .valid(Principal(clientID: record.clientID, organizationID: record.organizationID, scopes: record.scopeSet,
                                    expiresAtMs: record.expiresAtMs))
        }
    }

    /// Revokes `token` when it belongs to `clientID` (RFC 7009: other tokens are ignored silently).
    /// - Returns: true when a live token was revoked.
    @discardableResult
    package func revoke(_ token: String, clientID: String) throws -> Bool {
        let digest = Self.key(of: Substring(token))
        guard state.withLock({ $0.records[digest]?.clientID == clientID }) else { return false }
        return try append(Self.revokeLine(digest: digest)) { state in
            guard state.records[digest] != nil else { return false }
            state.remove(digest)
            state.rememberRevoked(digest)
            return true
        }
    }

    /// Ends every token of `clientID` at once, durably (the client is being deleted).
    /// - Returns: how many live tokens it had.
    @discardableResult
    package func revokeAll(clientID: String) throws -> Int {
        return try append(Self.deleteLine(clientID: clientID)) { state in
            let digests = state.digestsByClient[clientID] ?? []
            for digest in digests {
                state.remove(digest)
                state.rememberRevoked(digest)
            }
            state.rateLimiter.forget(clientID)
            return digests.count
        }
    }

    /// The journal line of the live token `token` (its issuance record: digest, client, organization,
    /// scopes, expiry; never the token), nil when it is not live here. What `serve --engine` shares.
    func issuanceRecord(of token: String) -> (digest: String, line: [UInt8])? {
        let digest = Self.key(of: Substring(token))
        return state.withLock { state in state.records[digest].map { (digest.hex, Self.issueLine(digest: digest, record: $0)) } }
    }

    /// Takes in a token another process issued (`line` as `issuanceRecord` made it), in memory only:
    /// under `serve --engine` the engine's bucket is where such tokens live, read again at every start.
    /// - Returns: false when `line` is not an issuance record of `digest`, the token expired, its
    ///   client has `ServiceLimits.Tokens.liveCountPerClientMax` live tokens here, or the store holds
    ///   `ServiceLimits.Tokens.liveCountMax`, or the token's revocation was heard here (`forget`), or
    ///   `digest` is not 64 lowercase hex digits (no token has such a name).
    @discardableResult
    func adopt(digest text: String, line: [UInt8], nowMs: Int64) -> Bool {
        guard let digest = Digest(lowercaseHex: text), let json = try? JSONParser.parse(line), json["token_sha256"]?.stringValue == text,
              let client = json["client_id"]?.stringValue, let organization = json["organization_id"]?.stringValue,
              let scopes = json["scopes"]?.arrayValue?.compactMap(\.stringValue),
              let expires = json["expires_at_ms"]?.int64Value, expires > nowMs else { return false }
        return state.withLock { state in
            if state.records[digest] != nil { return true }
            guard !state.recentlyRevoked.contains(digest) else { return false }
            guard state.liveCount(of: client) < ServiceLimits.Tokens.liveCountPerClientMax,
                  state.records.count + state.pendingCount < ServiceLimits.Tokens.liveCountMax else { return false }
            state.insert(digest, Record(clientID: client, organizationID: organization, scopes: scopes, expiresAtMs: expires))
            return true
        }
    }

    /// Ends the token `digest` in memory (another process revoked it; its holder hears `token_revoked`).
    /// Remembered even when the token is not here (yet): a read of the bucket for it may still be on its
    /// way, and `adopt` refuses a remembered revocation (a digest is never issued again). A `digest` that is
    /// not 64 lowercase hex digits names no token and is ignored.
    func forget(digest text: String) {
        guard let digest = Digest(lowercaseHex: text) else { return }
        state.withLock { state in
            state.remove(digest)
            state.rememberRevoked(digest)
        }
    }

    /// The digests of `clientID`'s live tokens (at most `ServiceLimits.Tokens.liveCountPerClientMax`).
    func digests(clientID: String) -> [String] {
        state.withLock { ($0.digestsByClient[clientID] ?? []).map(\.hex) }
    }

    /// Forgets tokens that expired at or before `nowMs` (also done at every issuance).
    package func pruneExpired(nowMs: Int64) {
        state.withLock { $0.pruneExpired(nowMs: nowMs) }
    }

    /// Tokens held in memory (live, or expired and not yet pruned), and lines in the journal.
    public var counts: (tokens: Int, journalLines: Int) {
        state.withLock { ($0.records.count, $0.journalLineCount) }
    }

    /// Live tokens of `clientID` held in memory.
    package func tokenCount(clientID: String) -> Int {
        state.withLock { $0.digestsByClient[clientID]?.count ?? 0 }
    }
}
