import Foundation
import JSON
@testable import NATS
import Synchronization
import Testing
@testable import Service

/// The rules `serve --engine` applies to the tokens and idempotency keys it shares, as pure values
/// and in-memory stores (the buckets themselves are exercised by `EngineServeTests`).
@Suite struct EngineSharedStateTests {
    static func entry(_ value: String, revision: UInt64 = 7, deleted: Bool = false) -> KeyValueEntry {
        KeyValueEntry(key: "k", value: Array(value.utf8), revision: revision, isDeleted: deleted)
    }

    @Test func anIdempotencyKeyIsClaimedReplayedRefusedOrTakenOverWhenStale() {
        let digest: [UInt8] = [1, 2, 3]
        let other: [UInt8] = [9]
        let now: Int64 = 1_000_000
        func decide(_ entry: KeyValueEntry?, _ requestDigest: [UInt8] = digest, nowMs: Int64 = now) -> EngineIdempotency.Decision {
            EngineIdempotency.decide(entry, requestDigest: requestDigest, nowMs: nowMs)
        }
        let pending = String(decoding: EngineIdempotency.pending(requestDigest: digest, nowMs: now - 1_000), as: UTF8.self)
        let done = String(decoding: EngineIdempotency.done(requestDigest: digest, status: 201, body: Array(#"{"id":"evt_1"}"#.utf8), nowMs: now - 1_000),
                          as: UTF8.self)
        #expect(decide(nil) == .claim(revision: 0), "a key never written is created")
        #expect(decide(Self.entry("", deleted: true)) == .claim(revision: 7), "a given-up claim is replaced at its revision")
        #expect(decide(Self.entry(done)) == .replay(status: 201, body: Array(#"{"id":"evt_1"}"#.utf8)))
        #expect(decide(Self.entry(done), other) == .mismatch)
        #expect(decide(Self.entry(pending)) == .inProgress)
        #expect(decide(Self.entry(pending), other) == .mismatch)
        #expect(decide(Self.entry(pending), nowMs: now - 1_000 + EngineIdempotency.staleClaimMs) == .claim(revision: 7),
                "a claim left by a process that died is taken over once stale")
        #expect(decide(Self.entry("not json")) == .claim(revision: 7))
    }

    @Test func theSharedBucketsAreBoundedAsTheLocalStores() {
        #expect(EngineTokens.limits.ageSecondsMax >= Double(ServiceLimits.Tokens.lifetimeSeconds))
        #expect(EngineTokens.limits.ageSecondsMax == Double(ServiceLimits.Portal.sessionSeconds.range.upperBound))
        #expect(EngineIdempotency.limits.entriesMax == ServiceLimits.Idempotency.keyCountMax && EngineIdempotency.limits.dropsOldest)
        #expect(EngineIdempotency.limits.ageSecondsMax == Double(ServiceLimits.Idempotency.retentionSeconds))
        #expect(EngineIdempotency.bucketKey("org\u{0}key").count == 64, "a key of any visible characters becomes a valid bucket key")
        #expect(EngineHistoryForwarder.limits.entriesMax == 10_000 && EngineHistoryForwarder.limits.ageSecondsMax > EngineHistoryForwarder.refreshSeconds * 3,
                "a live process's address outlives a few missed refreshes; a dead one's goes")
    }

    @Test func aProcessJoinsOnlyWithTheEnginesSegmentSize() {
        func agreement(_ recorded: String?, _ sizeBytes: Int = 4096) -> EngineBinding.SegmentSizeAgreement {
            EngineBinding.segmentSizeAgreement(recorded: recorded.map { Array($0.utf8) }, sizeBytes: sizeBytes)
        }
        #expect(agreement(nil) == .record, "the first process records its size")
        #expect(agreement("4096") == .agrees)
        #expect(agreement("8192") == .differs(recorded: "8192"), "another size is refused")
        #expect(agreement("4096", 8192) == .differs(recorded: "4096"))
        #expect(agreement("4096 ") == .differs(recorded: "4096 "), "an entry that is not a plain decimal never agrees")
        for signed in ["+4096", "-4096"] {
            #expect(agreement(signed) == .differs(recorded: signed), "\(signed): a sign is no plain decimal")
        }
        #expect(agreement("1") == .differs(recorded: "1"), "a size out of --segment-bytes' range never agrees")
        #expect(agreement(String(repeating: "9", count: 100)) == .differs(recorded: String(repeating: "9", count: 24)),
                "what a foreign entry holds is shown cut short")
    }

    @Test func aProcessAdvertisesAnAddressOthersCanReach() {
        #expect(EngineHistoryForwarder.advertisedURL(host: "127.0.0.1", port: 8787) == "http://127.0.0.1:8787")
        #expect(EngineHistoryForwarder.advertisedURL(host: "::1", port: 8787) == "http://[::1]:8787")
        #expect(EngineHistoryForwarder.advertisedURL(host: "0.0.0.0", port: 8787) == "http://\(ProcessInfo.processInfo.hostName):8787",
                "a wildcard listener advertises the machine's name")
    }

    /// A store in `directory`/b and a token another store (in `directory`/a) issued at `nowMs` for 60 s, with its
    /// issuance record as the engine's bucket holds it.
    static func tokenIssuedElsewhere(directory: String, nowMs: Int64) throws -> (other: TokenStore, token: String, digest: String, line: [UInt8]) {
        let issuer = try TokenStore(directory: directory + "/a", nowMs: nowMs)
        let other = try TokenStore(directory: directory + "/b", nowMs: nowMs)
        let (token, _) = try issuer.issue(clientID: "cli_1", organizationID: "org_a", scopes: ["events:read"], nowMs: nowMs, lifetimeSeconds: 60)
        let (digest, line) = try #require(issuer.issuanceRecord(of: token))
        return (other, token, digest, line)
    }

    @Test func anAdoptedTokenIsValidUntilItsExpiryOrItsRevocationElsewhere() throws {
        let directory = NSTemporaryDirectory() + "argus-engine-tokens-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let now: Int64 = 1_780_000_000_000
        let (other, token, digest, line) = try Self.tokenIssuedElsewhere(directory: directory, nowMs: now)
        #expect(!String(decoding: line, as: UTF8.self).contains(token), "the shared record never holds the token")
        #expect(other.lookup(token, nowMs: now) == .unknown)
        let otherDigest = (digest.first == "0" ? "1" : "0") + digest.dropFirst()
        #expect(otherDigest != digest)
        #expect(!other.adopt(digest: otherDigest, line: line, nowMs: now), "a record under another key is refused")
        #expect(!other.adopt(digest: digest, line: line, nowMs: now + 60_000), "an expired record is refused")
        #expect(other.adopt(digest: digest, line: line, nowMs: now))
        guard case .valid(let principal) = other.lookup(token, nowMs: now + 1_000) else {
            Issue.record("the adopted token is valid")
            return
        }
        #expect(principal.organizationID == "org_a" && principal.clientID == "cli_1")
        #expect(other.lookup(token, nowMs: now + 60_000) == .expired, "the adopted token expires at the issuer's expiry")
        other.forget(digest: digest)
        #expect(other.lookup(token, nowMs: now + 1_000) == .revoked)
        #expect(!other.adopt(digest: digest, line: line, nowMs: now), "an issuance read after the revocation does not bring the token back")
        #expect(other.lookup(token, nowMs: now + 1_000) == .revoked)
        #expect(other.counts.journalLines == 0, "adopted tokens are not journaled: the engine's bucket holds them")
    }

    @Test func adoptionRespectsThePerClientLimit() throws {
        let directory = NSTemporaryDirectory() + "argus-engine-tokens-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let now: Int64 = 1_780_000_000_000
        let store = try TokenStore(directory: directory, nowMs: now)
        let scopes = JSONValue.array([.string("events:read")])
        var adopted = 0
        for n in 0..<(ServiceLimits.Tokens.liveCountPerClientMax + 5) {
            let digest = String(format: "%064x", n)
            let line = JSONValue.object([("token_sha256", .string(digest)), ("client_id", .string("cli_1")), ("organization_id", .string("org_a")),
                                         ("scopes", scopes), ("expires_at_ms", .integer(now + 60_000))]).encoded()
            if store.adopt(digest: digest, line: line, nowMs: now) { adopted += 1 }
        }
        #expect(adopted == ServiceLimits.Tokens.liveCountPerClientMax)
        #expect(store.tokenCount(clientID: "cli_1") == ServiceLimits.Tokens.liveCountPerClientMax)
    }

    /// A revocation heard before the token was taken in (a read of the bucket for an unknown token still on
    /// its way when the bucket's deletion is applied) wins: the late issuance record is refused.
    @Test func aRevocationHeardBeforeTheAdoptionIsNotUndone() throws {
        let directory = NSTemporaryDirectory() + "argus-engine-tokens-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let now: Int64 = 1_780_000_000_000
        let (other, token, digest, line) = try Self.tokenIssuedElsewhere(directory: directory, nowMs: now)
        other.forget(digest: digest)  // the bucket's deletion, applied while the read of the key was under way
        #expect(!other.adopt(digest: digest, line: line, nowMs: now), "the record read before the deletion is refused")
        #expect(other.lookup(token, nowMs: now) == .revoked)
    }

    /// At most `EngineTokens.fetchesInFlightMax` bucket reads for unknown tokens run at once: with that many
    /// under way, one more unknown token is not read (it counts as unknown for its request); once they end,
    /// the next unknown token is read again.
    @Test(.timeLimit(.minutes(1))) func readsOfTheBucketForUnknownTokensAreBoundedAtOnce() async throws {
        let directory = NSTemporaryDirectory() + "argus-engine-tokens-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let now: Int64 = 1_780_000_000_000
        // Never connected (nothing listens on port 1): every read goes to `reads` instead of the bucket.
        let connection = try NATSConnection(servers: "nats://127.0.0.1:1")
        defer { connection.close() }
        let bucket = KeyValueBucket(jetStream: JetStream(connection: connection), name: EngineTokens.bucketName)
        let bound = EngineTokens.fetchesInFlightMax
        let reads = HeldReads(holdingUpTo: bound)
        let shared = EngineTokens(bucket: bucket, clientBucket: bucket, tokens: try TokenStore(directory: directory + "/oauth", nowMs: now),
                                  clients: ClientStore(directory: directory + "/clients"), nowMs: { now }, logger: .discarding,
                                  reconnectCount: { 0 }, readKey: { key in await reads.read(key) })
        try await withThrowingTaskGroup(of: Void.self) { group in
            for n in 0..<bound { group.addTask { await shared.fetchIfUnknown("unknown-\(n)") } }
            for _ in 0..<2_000 where reads.held < bound { try await Task.sleep(nanoseconds: 10_000_000) }
            try #require(reads.held == bound, "\(bound) reads under way within 20 s")
            await shared.fetchIfUnknown("one-more")
            #expect(reads.started == bound, "with \(bound) reads under way the next unknown token is not read")
            reads.releaseAll()
            try await group.waitForAll()
        }
        await shared.fetchIfUnknown("after-the-others")
        #expect(reads.started == bound + 1, "once the reads ended, an unknown token is read again")
        #expect(reads.keys.last == TokenStore.digest(of: "after-the-others"), "the read is of the token's digest")
    }
}

/// A reader of the tokens bucket that holds the first `holdingUpTo` reads until `releaseAll()` and answers
/// "no such key" to the others at once; it counts the reads started.
private final class HeldReads: Sendable {
    private let holdingUpTo: Int
    private let state = Mutex<(keys: [String], waiting: [CheckedContinuation<Void, Never>], released: Bool)>(([], [], false))

    init(holdingUpTo: Int) { self.holdingUpTo = holdingUpTo }

    var started: Int { state.withLock { $0.keys.count } }
    var held: Int { state.withLock { $0.waiting.count } }
    var keys: [String] { state.withLock { $0.keys } }

    func read(_ key: String) async -> KeyValueEntry? {
        await withCheckedContinuation { continuation in
            let holds = state.withLock { state in
                state.keys.append(key)
                guard !state.released, state.waiting.count < holdingUpTo else { return false }
                state.waiting.append(continuation)
                return true
            }
            if !holds { continuation.resume() }
        }
        return nil
    }

    func releaseAll() {
        let waiting = state.withLock { state in
            state.released = true
            defer { state.waiting = [] }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }
}
