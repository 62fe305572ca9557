import HTTPClient
import Delivery
import Testing
@testable import Service

/// `POST /v1/portal/sessions` and what its token may do.
@Suite struct PortalSessionTests {
    static func loopbackHarness() throws -> ServiceHarness {
        try ServiceHarness { configuration in
            configuration.targetGuard = TargetGuard(allowsHTTP: true, allowedCIDRs: [CIDR("127.0.0.0/8")].compactMap { $0 })
        }
    }

    static func webhook(_ harness: ServiceHarness, token: String) async throws -> String {
        let reply = await harness.send("POST", "/v1/webhooks", token: token,
                                       body: #"{"url":"http://127.0.0.1:9/hook","event_types":["user.login"]}"#)
        return try #require(reply.json?["id"]?.stringValue, "\(String(decoding: reply.response.body, as: UTF8.self))")
    }

    @Test func sessionGivesAURLWithTheTokenInTheFragmentAndBoundsItsLifetime() async throws {
        let harness = try ServiceHarness()
        defer { harness.close(); harness.removeDirectory() }
        let token = try await harness.token(organization: "org_a")
        let created = await harness.send("POST", "/v1/portal/sessions", token: token, body: #"{"read_only":false,"expires_in":3600}"#,
                                         headers: [("Host", "argus.example:8080")])
        #expect(created.status == 201)
        let portalToken = try #require(created.json?["token"]?.stringValue)
        #expect(created.json?["url"]?.stringValue == "http://argus.example:8080/portal#token=" + portalToken)
        #expect(created.json?["expires_at"]?.stringValue != nil && created.json?["read_only"]?.boolValue == false)
        #expect(await harness.send("POST", "/v1/portal/sessions", token: token).status == 201, "an empty body means the defaults")
        for bad in [#"{"expires_in":59}"#, #"{"expires_in":86401}"#, #"{"expires_in":"1"}"#, #"{"color":1}"#, #"{"organization_id":"*"}"#] {
            #expect(await harness.send("POST", "/v1/portal/sessions", token: token, body: bad).status == 422, "\(bad)")
        }
        #expect(await harness.send("POST", "/v1/portal/sessions", token: token, body: #"{"expires_in":86400}"#).status == 201)
        let other = await harness.send("POST", "/v1/portal/sessions", token: token, body: #"{"organization_id":"org_b"}"#)
        #expect(other.status == 403)
        let readOnlyClient = try await harness.token(organization: "org_a", scopes: ["webhooks:read"])
        let writable = await harness.send("POST", "/v1/portal/sessions", token: readOnlyClient, body: #"{"read_only":false}"#)
        #expect(writable.status == 403 && writable.code == "insufficient_scope")
        #expect(await harness.send("POST", "/v1/portal/sessions", token: readOnlyClient, body: #"{"read_only":true}"#).status == 201)
        let admin = try await harness.token(organization: "platform", scopes: ["platform:admin"])
        let named = await harness.send("POST", "/v1/portal/sessions", token: admin, body: #"{"organization_id":"org_b"}"#)
        #expect(named.status == 201 && named.json?["organization_id"]?.stringValue == "org_b")
        let eventsOnly = try await harness.token(organization: "org_a", scopes: ["events:read"])
        #expect(await harness.send("POST", "/v1/portal/sessions", token: eventsOnly).status == 403)
    }

    @Test func portalTokenSeesOnlyItsOrganizationAndThePortalsActionsUntilItExpires() async throws {
        let harness = try Self.loopbackHarness()
        defer { harness.close(); harness.removeDirectory() }
        let tokenA = try await harness.token(organization: "org_a")
        let tokenB = try await harness.token(organization: "org_b")
        let hookA = try await Self.webhook(harness, token: tokenA)
        let hookB = try await Self.webhook(harness, token: tokenB)
        let session = await harness.send("POST", "/v1/portal/sessions", token: tokenA, body: #"{"expires_in":120}"#)
        let portal = try #require(session.json?["token"]?.stringValue)

        let list = await harness.send("GET", "/v1/webhooks", token: portal)
        #expect(list.status == 200 && list.json?["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == [hookA])
        #expect(await harness.send("GET", "/v1/webhooks/\(hookB)", token: portal).status == 404)
        #expect(await harness.send("GET", "/v1/webhooks/\(hookA)/stats", token: portal).status == 200)
        #expect(await harness.send("GET", "/v1/webhooks/\(hookA)/deliveries", token: portal).status == 200)
        #expect(await harness.send("POST", "/v1/webhooks/\(hookA)/test", token: portal).status == 202)
        let pause = await harness.send("PATCH", "/v1/webhooks/\(hookA)", token: portal, body: #"{"status":"disabled"}"#)
        #expect(pause.status == 200 && pause.json?["status"]?.stringValue == "disabled")
        let rotate = await harness.send("POST", "/v1/webhooks/\(hookA)/rotate-secret", token: portal)
        #expect(rotate.status == 200 && rotate.json?["secret"]?.stringValue != nil)

        // Everything else is refused, even with the scope the session holds.
        let forbidden: [(String, String, String?)] = [
            ("PATCH", "/v1/webhooks/\(hookA)", #"{"url":"http://127.0.0.1:9/other"}"#),
            ("DELETE", "/v1/webhooks/\(hookA)", nil),
            ("POST", "/v1/webhooks", #"{"url":"http://127.0.0.1:9/new"}"#),
            ("POST", "/v1/portal/sessions", nil),
            ("GET", "/v1/events", nil), ("POST", "/v1/events", #"{"type":"user.login","data":{}}"#),
            ("GET", "/v1/clients", nil), ("GET", "/v1/event-types", nil),
        ]
        for (method, path, body) in forbidden {
            let reply = await harness.send(method, path, token: portal, body: body)
            #expect(reply.status == 403, "\(method) \(path): \(reply.status)")
        }
        #expect(harness.service.webhooks.all().count == 2, "nothing was created or deleted")

        harness.advance(seconds: 121)
        let expired = await harness.send("GET", "/v1/webhooks", token: portal)
        #expect(expired.status == 401 && expired.code == "token_expired")
        #expect(await harness.send("GET", "/v1/webhooks", token: tokenA).status == 200, "the creator's own token lives on")
    }

    @Test func readOnlySessionCannotAct() async throws {
        let harness = try Self.loopbackHarness()
        defer { harness.close(); harness.removeDirectory() }
        let token = try await harness.token(organization: "org_a")
        let hook = try await Self.webhook(harness, token: token)
        let session = await harness.send("POST", "/v1/portal/sessions", token: token, body: #"{"read_only":true}"#)
        let portal = try #require(session.json?["token"]?.stringValue)
        #expect(await harness.send("GET", "/v1/webhooks/\(hook)", token: portal).status == 200)
        let actions: [(String, String, String?)] = [
            ("POST", "/v1/webhooks/\(hook)/test", nil), ("POST", "/v1/webhooks/\(hook)/rotate-secret", nil),
            ("PATCH", "/v1/webhooks/\(hook)", #"{"status":"disabled"}"#),
            ("POST", "/v1/webhooks/\(hook)/replay", #"{"from_offset":0}"#),
            ("POST", "/v1/webhooks/\(hook)/deliveries/00000000-0000-4000-8000-000000000000/retry", nil),
        ]
        for (method, path, body) in actions {
            let reply = await harness.send(method, path, token: portal, body: body)
            #expect(reply.status == 403 && reply.code == "insufficient_scope", "\(method) \(path): \(reply.status)")
        }
    }

    @Test func portalRoutePolicy() {
        #expect(PortalRoutes.allows(method: "GET", path: "/v1/webhooks"))
        #expect(PortalRoutes.allows(method: "POST", path: "/v1/webhooks/wh_1/deliveries/d1/retry"))
        #expect(!PortalRoutes.allows(method: "POST", path: "/v1/webhooks"))
        #expect(!PortalRoutes.allows(method: "DELETE", path: "/v1/webhooks/wh_1"))
        #expect(!PortalRoutes.allows(method: "GET", path: "/v1/webhooks//stats"))
        #expect(PortalRoutes.allows(method: "GET", path: "/v1/webhooks/wh_1/stats/timeseries"))
        #expect(!PortalRoutes.allows(method: "GET", path: "/v1/webhooks/wh_1/stats/other"))
        #expect(!PortalRoutes.allows(method: "GET", path: "/v1/webhooks/wh_1/series"))
        #expect(!PortalRoutes.allows(method: "GET", path: "/v1/events"))
        #expect(!PortalRoutes.allows(method: "POST", path: "/v1/portal/sessions"))
    }
}
