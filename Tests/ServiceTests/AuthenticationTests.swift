import Crypto
import Testing
@testable import Service

@Suite(.timeLimit(.minutes(2))) struct AuthenticationTests {
    @Test func eachTokenProblemHasItsStatusAndCode() async throws {
        let harness = try ServiceHarness()
        defer { harness.close(); harness.removeDirectory() }
        let missing = await harness.send("GET", "/v1/webhooks")
        #expect(missing.status == 401 && missing.code == "missing_token")
        #expect(missing.response.headers["www-authenticate"]?.hasPrefix("Bearer") == true)
        let malformed = await harness.send("GET", "/v1/webhooks", headers: [("Authorization", "Token abc")])
        #expect(malformed.status == 400 && malformed.code == "invalid_request")
        let unknown = await harness.send("GET", "/v1/webhooks", token: "at_unknown")
        #expect(unknown.status == 401 && unknown.code == "invalid_token")

        let token = try await harness.token(organization: "org_a")
        #expect(await harness.send("GET", "/v1/webhooks", token: token).status == 200)
        harness.advance(seconds: 3601)
        let expired = await harness.send("GET", "/v1/webhooks", token: token)
        #expect(expired.status == 401 && expired.code == "token_expired")

        let readOnly = try await harness.token(organization: "org_a", scopes: ["events:read"])
        let wrongScope = await harness.send("POST", "/v1/events", token: readOnly, body: #"{"type":"user.created","data":{}}"#)
        #expect(wrongScope.status == 403 && wrongScope.code == "insufficient_scope")
        #expect(wrongScope.response.headers["www-authenticate"]?.contains("insufficient_scope") == true)
        #expect(harness.service.log.nextOffset == 0 + 2, "only the two oauth.token_issued events were appended")
    }

    /// The Authorization value's grammar, byte by byte: what the split-based parser accepted before.
    @Test func bearerTokenIsTheSchemeOneSpaceAndOneWord() {
        #expect(ArgusService.bearerToken("Bearer abc") == "abc")
        #expect(ArgusService.bearerToken("bEaReR abc") == "abc")
        #expect(ArgusService.bearerToken("  Bearer abc") == "abc")
        #expect(ArgusService.bearerToken("Bearer " + String(repeating: "t", count: 512)) != nil)
        for refused in ["", "Bearer", "Bearer ", "Bearer  abc", "Bearer abc def", "Bearerx abc", "Bear abc", "Basic abc",
                        "Token abc", "Bearer\tabc", "Bearer " + String(repeating: "t", count: 513), "Béarer abc"] {
            #expect(ArgusService.bearerToken(refused) == nil, "\(refused)")
        }
    }

    @Test func revokedTokensAreRefusedAndRevocationIsAnEvent() async throws {
        let harness = try ServiceHarness()
        defer { harness.close(); harness.removeDirectory() }
        let (id, secret) = try harness.client(organization: "org_a", scopes: ["webhooks:read"])
        let issued = await harness.send("POST", "/oauth/token", body: "grant_type=client_credentials&client_id=\(id)&client_secret=\(secret)",
                                        contentType: "application/x-www-form-urlencoded")
        #expect(issued.status == 200)
        #expect(issued.json?["token_type"]?.stringValue == "Bearer" && issued.json?["expires_in"]?.int64Value == 3600)
        #expect(issued.response.headers["cache-control"] == "no-store")
        let token = try #require(issued.json?["access_token"]?.stringValue)
        let revoke = await harness.send("POST", "/oauth/revoke", body: "token=\(token)", contentType: "application/x-www-form-urlencoded",
                                        headers: [("Authorization", "Basic " + Base64.encode(Array("\(id):\(secret)".utf8)))])
        #expect(revoke.status == 200)
        let refused = await harness.send("GET", "/v1/webhooks", token: token)
        #expect(refused.status == 401 && refused.code == "token_revoked")
        let types = try TestLog.types(harness)
        #expect(types.contains("oauth.token_issued") && types.contains("oauth.token_revoked"))
    }

    @Test func tokenEndpointErrorsFollowRFC6749() async throws {
        let harness = try ServiceHarness()
        defer { harness.close(); harness.removeDirectory() }
        let (id, secret) = try harness.client(organization: "org_a", scopes: ["events:read"])
        let form = "application/x-www-form-urlencoded"
        let basic = ("Authorization", "Basic " + Base64.encode(Array("\(id):\(secret)".utf8)))
        let wrongSecret = await harness.send("POST", "/oauth/token", body: "grant_type=client_credentials&client_id=\(id)&client_secret=nope", contentType: form)
        #expect(wrongSecret.status == 401 && wrongSecret.code == "invalid_client")
        #expect(wrongSecret.response.headers["www-authenticate"]?.hasPrefix("Basic") == true)
        let noGrant = await harness.send("POST", "/oauth/token", body: "", contentType: form, headers: [basic])
        #expect(noGrant.status == 400 && noGrant.code == "invalid_request")
        let password = await harness.send("POST", "/oauth/token", body: "grant_type=password", contentType: form, headers: [basic])
        #expect(password.status == 400 && password.code == "unsupported_grant_type")
        let scope = await harness.send("POST", "/oauth/token", body: "grant_type=client_credentials&scope=webhooks:write", contentType: form, headers: [basic])
        #expect(scope.status == 400 && scope.code == "invalid_scope")
        let json = await harness.send("POST", "/oauth/token", body: #"{"grant_type":"client_credentials"}"#, headers: [basic])
        #expect(json.status == 400 && json.code == "invalid_request")
        let ok = await harness.send("POST", "/oauth/token", body: "grant_type=client_credentials&scope=events:read", contentType: form, headers: [basic])
        #expect(ok.status == 200 && ok.json?["scope"]?.stringValue == "events:read")
    }
}

enum TestLog {
    static func types(_ harness: ServiceHarness) throws -> [String] {
        var reader = try harness.service.log.makeReader(from: .beginning)
        var types: [String] = []
        while let record = try reader.next() { types.append(record.type) }
        return types
    }
}
