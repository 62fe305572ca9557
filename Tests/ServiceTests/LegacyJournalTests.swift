import Crypto
import Foundation
import JSON
import SystemIO
import Testing
@testable import Service

/// Data directories written before SystemIO's `Journal` (JSON lines in `oauth/tokens.journal` and
/// `oauth/idempotency.journal`) open unchanged and are compacted into the journal format.
@Suite struct LegacyJournalTests {
    static let startMs: Int64 = 1_780_000_000_000

    /// The lines as the old `TokenStore` and `IdempotencyCache` wrote them (JSON object, newline),
    /// with a torn last line as a crash mid-append leaves it.
    static func writeLegacyFixture(at path: String) throws {
        let oauth = path + "/oauth"
        try FileManager.default.createDirectory(atPath: oauth, withIntermediateDirectories: true)
        let live = Hex.encode(SHA256.hash(Array("at_legacy".utf8)))
        let revoked = Hex.encode(SHA256.hash(Array("at_revoked".utf8)))
        func issue(_ digest: String) -> String {
            #"{"token_sha256":"\#(digest)","client_id":"cl_1","organization_id":"org_a","scopes":["events:publish"],"expires_at_ms":\#(startMs + 3_600_000)}"#
        }
        let tokens = issue(live) + "\n" + issue(revoked) + "\n" + #"{"token_sha256":"\#(revoked)","revoked":true}"# + "\n" + #"{"token_sha2"#
        try Data(tokens.utf8).write(to: URL(fileURLWithPath: oauth + "/tokens.journal"))
        let digest = Hex.encode(SHA256.hash(Array(#"{"type":"user.created"}"#.utf8)))
        let key = JSONValue.string("org_a\u{0}k-1").text
        let idempotency = #"{"key":\#(key),"request_sha256":"\#(digest)","status":201,"body":"{\"id\":\"ev_1\"}","created_at_ms":\#(startMs)}"# + "\n"
        try Data(idempotency.utf8).write(to: URL(fileURLWithPath: oauth + "/idempotency.journal"))
    }

    @Test func legacyTokenAndIdempotencyJournalsOpenAndAreRewritten() throws {
        let path = NSTemporaryDirectory() + "argus-legacy-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Self.writeLegacyFixture(at: path)
        for round in 0..<2 {
            let harness = try ServiceHarness(path: path, startMs: Self.startMs)
            let now = Self.startMs + 1000
            #expect(harness.service.tokens.lookup("at_legacy", nowMs: now)
                    == .valid(Principal(clientID: "cl_1", organizationID: "org_a", scopes: ["events:publish"],
                                     expiresAtMs: Self.startMs + 3_600_000)), "round \(round)")
            #expect(harness.service.tokens.lookup("at_revoked", nowMs: now) == .unknown)
            let digest = SHA256.hash(Array(#"{"type":"user.created"}"#.utf8))
            switch harness.service.idempotency.claim(IdempotencyCache.key(organizationID: "org_a", key: "k-1"), requestDigest: digest, nowMs: now) {
            case .replay(let status, let body):
                #expect(status == 201 && body == Array(#"{"id":"ev_1"}"#.utf8))
            default:
                Issue.record("the legacy idempotency key was not loaded (round \(round))")
            }
            harness.close()
            for name in ["tokens.journal", "idempotency.journal"] {
                #expect(try FileSystem.contents(of: path + "/oauth/" + name)?.starts(with: Journal.magic) == true, "\(name) rewritten")
            }
        }
    }
}
