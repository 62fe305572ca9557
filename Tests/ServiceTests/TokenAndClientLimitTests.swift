import Crypto
import Foundation
import JSON
import SystemIO
import Testing
import WebhookSigning
@testable import Service

/// Tokens stay bounded by live tokens, clients are managed through the API, tenants cannot forge
/// the service's own events or evict each other's idempotency keys.
@Suite struct TokenAndClientLimitTests {
    static let form = "application/x-www-form-urlencoded"

    static func basic(_ id: String, _ secret: String) -> (String, String) {
        ("Authorization", "Basic " + Base64.encode(Array("\(id):\(secret)".utf8)))
    }

    @Test func expiredAndRevokedTokensAreForgottenInMemoryAndInTheJournal() async throws {
        let harness = try ServiceHarness()
        defer { harness.close(); harness.removeDirectory() }
        let (id, secret) = try harness.client(organization: "org_a", scopes: ["events:read"])
        var issued: [String] = []
        for round in 0..<30 {
            for _ in 0..<10 {
                let reply = await harness.send("POST", "/oauth/token", body: "grant_type=client_credentials", contentType: Self.form,
                                               headers: [Self.basic(id, secret)])
                #expect(reply.status == 200, "round \(round): \(reply.status) \(reply.code ?? "")")
                issued.append(reply.json?["access_token"]?.stringValue ?? "")
            }
            harness.advance(seconds: 600)  // a token lives 3600 s: at most 7 rounds of 10 are live
        }
        let tokens = harness.service.tokens
        #expect(tokens.counts.tokens <= 70, "memory holds live tokens only: \(tokens.counts.tokens)")
        let revoked = try #require(issued.last)
        #expect(try tokens.revoke(revoked, clientID: id))
        #expect(tokens.lookup(revoked, nowMs: harness.clock.withLock { $0 }) == .revoked)
        #expect(tokens.counts.tokens <= 69)
        // The journal is rewritten with live tokens at open.
        harness.close()
        let reopened = try ServiceHarness(reopening: harness)
        defer { reopened.close() }
        let counts = reopened.service.tokens.counts
        #expect(counts.tokens <= 69 && counts.journalLines == counts.tokens)
        let records = try Journal.read(path: harness.path + "/oauth/tokens.journal", recordSizeBytesMax: 1 << 20)
        #expect(records.count == counts.tokens)
    }

    @Test func oneClientHoldsAtMostAThousandLiveTokens() async throws {
        let harness = try ServiceHarness()
        defer { harness.close(); harness.removeDirectory() }
        let client = try #require(harness.service.clients.client(try harness.client(organization: "org_a", scopes: ["events:read"]).0))
        let now = harness.clock.withLock { $0 }
        for _ in 0..<ServiceLimits.Tokens.liveCountPerClientMax {
            _ = try harness.service.tokens.issue(client: client, scopes: client.scopes, nowMs: now)
        }
        #expect(APIError(StoreError.clientTokenLimit(limit: 1000))
                == APIError(429, "too_many_tokens", "this client holds 1000 live tokens; reuse one or revoke some"))
        #expect(throws: StoreError.clientTokenLimit(limit: ServiceLimits.Tokens.liveCountPerClientMax)) {
            _ = try harness.service.tokens.issue(client: client, scopes: client.scopes, nowMs: now)
        }
        // Another client of the same organization is not affected.
        let other = try #require(harness.service.clients.client(try harness.client(organization: "org_a", scopes: ["events:read"]).0))
        _ = try harness.service.tokens.issue(client: other, scopes: other.scopes, nowMs: now)
        // Once they expire, the client may get tokens again.
        _ = try harness.service.tokens.issue(client: client, scopes: client.scopes, nowMs: now + 3_600_001)
        #expect(harness.service.tokens.tokenCount(clientID: client.clientID) == 1)
    }

    @Test func theTokenEndpointAnswers429WithRetryAfterBeyondTwentyPerSecond() async throws {
        let harness = try ServiceHarness()
        defer { harness.close(); harness.removeDirectory() }
        let (id, secret) = try harness.client(organization: "org_a", scopes: ["events:read"])
        let (otherID, otherSecret) = try harness.client(organization: "org_b", scopes: ["events:read"])
        func ask(_ id: String, _ secret: String) async -> ServiceHarness.Reply {
            await harness.send("POST", "/oauth/token", body: "grant_type=client_credentials", contentType: Self.form,
                               headers: [Self.basic(id, secret)])
        }
        for number in 0..<ServiceLimits.Tokens.requestsPerSecondPerClientMax {
            #expect(await ask(id, secret).status == 200, "request \(number)")
        }
        let limited = await ask(id, secret)
        #expect(limited.status == 429 && limited.code == "too_many_requests")
        #expect(limited.response.headers["retry-after"] == "1")
        #expect(await ask(otherID, otherSecret).status == 200, "another client is not limited")
        harness.advance(seconds: 1)
        #expect(await ask(id, secret).status == 200)
    }

    @Test func clientsAreListedCreatedAndDeletedWithinTheOrganization() async throws {
        let harness = try ServiceHarness()
        defer { harness.close(); harness.removeDirectory() }
        let manager = try await harness.token(organization: "org_a", scopes: ["clients:write", "events:read", "events:publish"])
        let outsider = try await harness.token(organization: "org_b", scopes: ["clients:write", "events:read"])
        let created = await harness.send("POST", "/v1/clients", token: manager,
                                         body: #"{"scopes":["events:read"],"description":"reporting job"}"#)
        #expect(created.status == 201)
        let id = try #require(created.json?["client_id"]?.stringValue)
        let secret = try #require(created.json?["client_secret"]?.stringValue)
        #expect(created.json?["organization_id"]?.stringValue == "org_a")
        #expect(created.json?["description"]?.stringValue == "reporting job")

        let escalation = await harness.send("POST", "/v1/clients", token: manager, body: #"{"scopes":["platform:admin"]}"#)
        #expect(escalation.status == 403 && escalation.code == "insufficient_scope", "no scope beyond the creator's")
        let elsewhere = await harness.send("POST", "/v1/clients", token: manager,
                                           body: #"{"scopes":["events:read"],"organization_id":"org_b"}"#)
        #expect(elsewhere.status == 403 && elsewhere.code == "forbidden_organization")
        let noScope = try await harness.token(organization: "org_a", scopes: ["events:read"])
        #expect(await harness.send("GET", "/v1/clients", token: noScope).status == 403)

        let listed = await harness.send("GET", "/v1/clients", token: manager)
        let ids = listed.json?["data"]?.arrayValue?.compactMap { $0["client_id"]?.stringValue } ?? []
        #expect(ids.contains(id))
        #expect(listed.json?["data"]?.arrayValue?.allSatisfy { $0["organization_id"]?.stringValue == "org_a" } == true)
        #expect(!String(decoding: listed.response.body, as: UTF8.self).contains("secret"), "no secret or digest is listed")
        let theirs = await harness.send("GET", "/v1/clients", token: outsider)
        #expect(theirs.json?["data"]?.arrayValue?.contains { $0["client_id"]?.stringValue == id } == false)

        // A token of the new client works until the client is deleted, then at once answers 401.
        let issued = await harness.send("POST", "/oauth/token", body: "grant_type=client_credentials", contentType: Self.form,
                                        headers: [Self.basic(id, secret)])
        let token = try #require(issued.json?["access_token"]?.stringValue)
        #expect(await harness.send("GET", "/v1/events", token: token).status == 200)
        #expect(await harness.send("DELETE", "/v1/clients/\(id)", token: outsider).status == 404, "another organization's client is 404")
        #expect(await harness.send("DELETE", "/v1/clients/\(id)", token: manager).status == 204)
        let refused = await harness.send("GET", "/v1/events", token: token)
        #expect(refused.status == 401)
        #expect(await harness.send("DELETE", "/v1/clients/\(id)", token: manager).status == 404)
        let again = await harness.send("POST", "/oauth/token", body: "grant_type=client_credentials", contentType: Self.form,
                                       headers: [Self.basic(id, secret)])
        #expect(again.status == 401 && again.code == "invalid_client")
        // The deletion survives a restart.
        harness.close()
        let reopened = try ServiceHarness(reopening: harness)
        defer { reopened.close() }
        #expect(await reopened.send("GET", "/v1/events", token: token).status == 401)
    }

    @Test func tenantsCannotPublishTheServicesOwnEventTypes() async throws {
        let harness = try ServiceHarness()
        defer { harness.close(); harness.removeDirectory() }
        let token = try await harness.token(organization: "org_a")
        let before = harness.service.log.nextOffset
        for type in ["oauth.token_issued", "oauth.client_registered", "webhook.test", "webhook.disabled", "delivery.exhausted"] {
            let reply = await harness.send("POST", "/v1/events", token: token, body: #"{"type":"\#(type)","data":{}}"#)
            #expect(reply.status == 422 && reply.code == "reserved_event_type", "\(type): \(reply.status)")
            let batch = await harness.send("POST", "/v1/events/batch", token: token,
                                           body: #"{"events":[{"type":"user.created"},{"type":"\#(type)"}]}"#)
            #expect(batch.status == 422 && batch.code == "reserved_event_type")
        }
        #expect(harness.service.log.nextOffset == before)
        #expect(await harness.send("POST", "/v1/events", token: token, body: #"{"type":"user.created","data":{}}"#).status == 201)
    }

    @Test func rotationKeepsAtMostThreePreviousSecrets() throws {
        var ring = SecretRing(current: try WebhookSecret.generate())
        let now = Date(timeIntervalSince1970: 1_780_000_000)
        var currents: [WebhookSecret] = [ring.current]
        for _ in 0..<5 {
            try ring.rotate(now: now)
            currents.append(ring.current)
        }
        #expect(ring.previous.count == SecretRing.previousCountMax)
        #expect(ring.previous.map(\.secret) == Array(currents.dropLast().suffix(3).reversed()), "the newest three, newest first")
        #expect(ring.signingSecrets(at: now).count == 4)
    }

    @Test func idempotencyKeysAreBoundedPerOrganization() {
        var book = IdempotencyBook(perOrganizationMax: 3, totalMax: 5, retentionMs: 1000)
        func finish(_ organization: String, _ key: String, at ms: Int64 = 0) {
            let full = IdempotencyCache.key(organizationID: organization, key: key)
            book.begin(full, requestDigest: [1])
            book.finish(full, requestDigest: [1], status: 201, body: [], createdAtMs: ms)
        }
        func has(_ organization: String, _ key: String) -> Bool {
            book.entry(IdempotencyCache.key(organizationID: organization, key: key), nowMs: 0) != nil
        }
        finish("quiet", "q1")
        finish("quiet", "q2")
        for number in 0..<100 { finish("noisy", "n\(number)") }
        #expect(has("quiet", "q1") && has("quiet", "q2"), "one tenant cannot evict another's keys")
        #expect(book.count(of: "noisy") == 3 && has("noisy", "n99") && !has("noisy", "n96"))
        // The total cap takes from the organization holding the most.
        finish("third", "t1")
        #expect(book.finishedCount == 5 && book.count(of: "noisy") == 2 && has("quiet", "q1"))
        // Expired keys count as absent and leave as new ones arrive.
        #expect(book.entry(IdempotencyCache.key(organizationID: "quiet", key: "q1"), nowMs: 1000) == nil)
        finish("quiet", "q3", at: 2000)
        #expect(book.count(of: "quiet") == 1)
    }
}
