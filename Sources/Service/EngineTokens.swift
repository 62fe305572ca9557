import Foundation
import JSON
import NATS
import Synchronization

/// Access tokens shared by the processes of `serve --engine`, in the key-value bucket `ARGUS_TOKENS`
/// (key: the token's SHA-256 in hex; value: its issuance record, as in `tokens.journal`: client,
/// organization, scopes, expiry; never the token itself). Each process keeps its `TokenStore` as the
/// cache every request reads:
/// - an issuance is in the bucket before the token is answered, so any process accepts it at once: a
///   process that does not know a presented token reads its key (at most `fetchesInFlightMax` such
///   reads at once; beyond that the token counts as unknown for that request);
/// - a revocation deletes the key before it is answered; the other processes apply the change when the
///   bucket's subjects ring (milliseconds), at the latest after `pollSeconds`; after their connection to the
///   engine was re-established they read the whole bucket again once (`BucketFollowPosition`: a restart of
///   every node can hand out a revision they already applied);
/// - expiry is each record's own `expires_at_ms`; the bucket drops entries after `limits.ageSecondsMax`.
final class EngineTokens: Sendable {
    /// The bucket's name.
    static let bucketName = "ARGUS_TOKENS"
    /// Its bounds: as many entries as live tokens a store may hold (a write beyond is refused: 503),
    /// kept for the longest token lifetime (a portal session's), records of at most `TokenStore.recordSizeBytesMax`.
    static let limits = KeyValueBucket.Limits(entriesMax: ServiceLimits.Tokens.liveCountMax,
                                              ageSecondsMax: Double(ServiceLimits.Portal.sessionSeconds.range.upperBound),
                                              valueBytesMax: TokenStore.recordSizeBytesMax, dropsOldest: false)
    /// The most bucket reads for unknown tokens at once.
    static let fetchesInFlightMax = 64

    /// Reads one key of the tokens bucket: `bucket.get` (tests put in a reader that holds its answer).
    typealias KeyReader = @Sendable (String) async throws -> KeyValueEntry?

    let bucket: KeyValueBucket
    let clientBucket: KeyValueBucket
    private let readKey: KeyReader
    let tokens: TokenStore
    let clients: ClientStore
    private let nowMs: @Sendable () -> Int64
    private let logger: Logger
    /// The engine connection's reconnect count (`NATSConnection.reconnectCount`).
    private let reconnectCount: @Sendable () -> Int
    /// Where the bucket's changes are read from, and the reads for unknown tokens running now.
    private let state = Mutex<(position: BucketFollowPosition, fetches: Int)>((BucketFollowPosition(), 0))

    /// - Parameters:
    ///   - reconnectCount: the engine connection's reconnect count; after it changed, `pull` reads the whole bucket again.
    ///   - readKey: reads one key (tests put in a reader that holds its answer); `bucket.get` when nil.
    init(bucket: KeyValueBucket, clientBucket: KeyValueBucket, tokens: TokenStore, clients: ClientStore,
         nowMs: @escaping @Sendable () -> Int64, logger: Logger, reconnectCount: @escaping @Sendable () -> Int,
         readKey: KeyReader? = nil) {
        self.bucket = bucket
        self.reconnectCount = reconnectCount
        self.readKey = readKey ?? { try await bucket.get($0) }
        self.clientBucket = clientBucket
        self.tokens = tokens
        self.clients = clients
        self.nowMs = nowMs
        self.logger = logger
    }

    /// Puts the issuance of the live token `token` into the bucket.
    /// - Throws: `JetStreamError` (the bucket is full or the engine did not answer: the caller fails the issuance).
    func shareIssued(_ token: String) async throws {
        guard let (digest, line) = tokens.issuanceRecord(of: token) else { return }
        try await bucket.put(digest, line)
    }

    /// Deletes `digests` from the bucket (revoked, or their client deleted).
    /// - Throws: `JetStreamError` for the first that failed.
    func shareRevoked(_ digests: [String]) async throws {
        for digest in digests { try await bucket.delete(digest) }
    }

    /// Reads `token`'s key when this process does not know the token, and takes it in when the bucket
    /// holds a live one whose client exists (here, or in the engine's clients bucket when the client
    /// was created a moment ago elsewhere). Failures count as "unknown".
    func fetchIfUnknown(_ token: String) async {
        guard case .unknown = tokens.lookup(token, nowMs: nowMs()) else { return }
        let admitted = state.withLock { state in
            guard state.fetches < Self.fetchesInFlightMax else { return false }
            state.fetches += 1
            return true
        }
        guard admitted else { return }
        defer { state.withLock { $0.fetches -= 1 } }
        let digest = TokenStore.digest(of: token)
        guard let entry = try? await readKey(digest), await clientExists(in: entry.value) else { return }
        tokens.adopt(digest: digest, line: entry.value, nowMs: nowMs())
    }

    private func clientExists(in line: [UInt8]) async -> Bool {
        guard let clientID = (try? JSONParser.parse(line))?["client_id"]?.stringValue else { return false }
        if clients.client(clientID) != nil { return true }
        guard (try? KeyValueBucket.validate(key: clientID)) != nil else { return false }
        return (try? await clientBucket.get(clientID)) != nil
    }

    /// Applies the bucket's changes since the last call (all of its entries again after a reconnect):
    /// issuances are taken in (when their client is known here), deletions end the token here. Returns how many changes.
    /// - Throws: `JetStreamError`.
    @discardableResult
    func pull() async throws -> Int {
        let reconnects = reconnectCount()
        let startsOver = state.withLock { $0.position.begin(reconnectCount: reconnects) }
        if startsOver { logger.info("reading all of \(bucket.name) again: the engine connection was re-established") }
        let count = try await bucket.applyChanges(after: { state.withLock { $0.position.revision } }) { change in
            if change.isDeleted {
                tokens.forget(digest: change.key)
            } else if let clientID = (try? JSONParser.parse(change.value))?["client_id"]?.stringValue, clients.client(clientID) != nil {
                tokens.adopt(digest: change.key, line: change.value, nowMs: nowMs())
            }
            state.withLock { $0.position.applied(change.revision) }
        }
        state.withLock { $0.position.caughtUp() }  // a start-over a reconnect left pending begins with the next pull
        return count
    }

    /// Until cancelled: pulls whenever the bucket's subjects ring, at least every `pollSeconds`.
    func run(connection: NATSConnection, pollSeconds: Double = 2) async {
        await EngineReplica.follow(bucket, connection: connection, pollSeconds: pollSeconds) { [self] in
            do {
                try await pull()
            } catch {
                logger.error("could not read \(bucket.name)'s changes; retrying", [("error", .string(String(describing: error)))])
            }
        }
    }
}
