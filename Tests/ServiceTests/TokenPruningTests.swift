import Foundation
import Testing
@testable import Service

/// Expired tokens are pruned by expiry, not by issue order: a long portal session issued first does not
/// keep the short tokens issued after it in memory.
@Suite struct TokenPruningTests {
    @Test func tokensArePrunedAtTheirExpiryWhateverWasIssuedBefore() throws {
        let directory = NSTemporaryDirectory() + "argus-token-prune-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let now: Int64 = 1_800_000_000_000
        let tokens = try TokenStore(directory: directory, nowMs: now)
        let (session, _) = try tokens.issue(clientID: "cl_portal", organizationID: "org_1", scopes: ["events:read"], nowMs: now,
                                            lifetimeSeconds: 86_400)
        var short: [String] = []
        for index in 0..<20 {
            short.append(try tokens.issue(clientID: "cl_\(index % 4)", organizationID: "org_1", scopes: ["events:read"], nowMs: now,
                                          lifetimeSeconds: 60).token)
        }
        #expect(tokens.counts.tokens == 21)
        tokens.pruneExpired(nowMs: now + 60_000)
        #expect(tokens.counts.tokens == 1, "every 60 s token is gone although the day-long one was issued first")
        #expect(short.allSatisfy { tokens.lookup($0, nowMs: now + 60_000) == .unknown })
        if case .valid = tokens.lookup(session, nowMs: now + 60_000) {} else { Issue.record("the session is still valid") }
        tokens.pruneExpired(nowMs: now + 86_400_000)
        #expect(tokens.counts.tokens == 0)
    }

    @Test func theExpiryQueueHandsBackEntriesSoonestFirst() {
        var queue = ExpiryQueue<String>()
        let expiries: [Int64] = [50, 10, 40, 10, 30, 20, 60, 0]
        for (index, expiry) in expiries.enumerated() { queue.insert("k\(index)", expiresAtMs: expiry) }
        #expect(queue.popExpired(nowMs: -1).isEmpty)
        #expect(queue.popExpired(nowMs: 30).map(\.expiresAtMs) == [0, 10, 10, 20, 30])
        #expect(queue.entries.first?.expiresAtMs == 40 && queue.count == 3)
        let rebuilt = ExpiryQueue(expiries.enumerated().map { (Int64($0.element), "k\($0.offset)") })
        var copy = rebuilt
        #expect(copy.popExpired(nowMs: .max).map(\.expiresAtMs) == expiries.sorted())
    }
}
