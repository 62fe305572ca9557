import Testing
@testable import Service

/// The token and scope check of every `/v1` route, as a table. The table must name every route the
/// router serves: a new route without a row fails `everyRouteHasARow`.
@Suite(.timeLimit(.minutes(2))) struct RouteScopeTests {
    static let scopes = ["events:publish", "events:read", "webhooks:read", "webhooks:write", "clients:write", "metrics:read"]

    /// Route -> the one scope it requires.
    static let table: [String: String] = [
        "GET /v1/event-types": "events:read",
        "POST /v1/events": "events:publish",
        "POST /v1/events/batch": "events:publish",
        "GET /v1/events": "events:read",
        "POST /v1/webhooks": "webhooks:write",
        "GET /v1/webhooks": "webhooks:read",
        "GET /v1/webhooks/{id}": "webhooks:read",
        "PATCH /v1/webhooks/{id}": "webhooks:write",
        "DELETE /v1/webhooks/{id}": "webhooks:write",
        "POST /v1/webhooks/{id}/rotate-secret": "webhooks:write",
        "GET /v1/webhooks/{id}/deliveries": "webhooks:read",
        "POST /v1/webhooks/{id}/deliveries/{delivery_id}/retry": "webhooks:write",
        "POST /v1/webhooks/{id}/replay": "webhooks:write",
        "GET /v1/webhooks/{id}/stats": "webhooks:read",
        "GET /v1/webhooks/{id}/stats/timeseries": "webhooks:read",
        "POST /v1/webhooks/{id}/test": "webhooks:write",
        "GET /v1/clients": "clients:write",
        "POST /v1/clients": "clients:write",
        "POST /v1/portal/sessions": "webhooks:read",
        "GET /v1/portal/session": "webhooks:read",
        "DELETE /v1/clients/{id}": "clients:write",
        "GET /v1/events/{id}/proof": "events:read",
    ]

    /// Routes any valid token may use (no scope).
    static let anyValidToken: Set<String> = ["GET /v1/log/checkpoint", "GET /v1/log/vkey", "GET /v1/log/consistency"]

    static func v1Routes(_ harness: ServiceHarness) -> [String] {
        harness.router.registeredRoutes.filter { $0.pattern.hasPrefix("/v1/") }.map { "\($0.method) \($0.pattern)" }
    }

    @Test func everyRouteHasARow() throws {
        let harness = try ServiceHarness()
        defer { harness.close(); harness.removeDirectory() }
        let routes = Self.v1Routes(harness)
        #expect(!routes.isEmpty)
        let rows = Set(Self.table.keys).union(Self.anyValidToken)
        #expect(Set(routes) == rows, "routes without a row: \(Set(routes).subtracting(rows)); rows without a route: \(rows.subtracting(routes))")
    }

    /// For each route: no token is 401, a token holding every scope but the route's is 403
    /// `insufficient_scope`, and a token with only the route's scope gets past the check.
    @Test func eachRouteChecksTheTokenAndItsScope() async throws {
        let harness = try ServiceHarness()
        defer { harness.close(); harness.removeDirectory() }
        let owner = try await harness.token(organization: "org_a", scopes: ["webhooks:write"])
        let webhook = try #require(await harness.createWebhook(token: owner).json?["id"]?.stringValue)
        let routes = Self.v1Routes(harness)
        #expect(!routes.isEmpty)
        for route in routes {
            let parts = route.split(separator: " ", maxSplits: 1).map(String.init)
            let method = parts[0]
            let path = parts[1].replacingOccurrences(of: "{id}", with: route.contains("/clients/") ? "cli_unknown" : webhook)
                .replacingOccurrences(of: "{delivery_id}", with: "00000000-0000-4000-8000-000000000000")
            // A read-only portal session needs webhooks:read alone (a writable one also webhooks:write).
            let body: String? = method == "GET" || method == "DELETE" ? nil
                : route == "POST /v1/portal/sessions" ? #"{"read_only":true}"# : "{}"
            if Self.anyValidToken.contains(route) {
                #expect(await harness.send(method, path, body: body).status == 401, "\(route) without a token")
                let any = try await harness.token(organization: "org_a", scopes: ["metrics:read"])
                let allowed = await harness.send(method, path, token: any, body: body)
                #expect(allowed.status != 401 && allowed.status != 403, "\(route) with any token: \(allowed.status) \(allowed.code ?? "-")")
                continue
            }
            guard let scope = Self.table[route] else {
                Issue.record("\(route) has no row")
                continue
            }
            let anonymous = await harness.send(method, path, body: body)
            #expect(anonymous.status == 401, "\(route) without a token: \(anonymous.status) \(anonymous.code ?? "-")")
            let others = try await harness.token(organization: "org_a", scopes: Self.scopes.filter { $0 != scope })
            let refused = await harness.send(method, path, token: others, body: body)
            #expect(refused.status == 403 && refused.code == "insufficient_scope",
                    "\(route) with every scope but \(scope): \(refused.status) \(refused.code ?? "-")")
            let only = try await harness.token(organization: "org_a", scopes: [scope])
            let allowed = await harness.send(method, path, token: only, body: body)
            #expect(allowed.status != 401 && allowed.status != 403, "\(route) with \(scope): \(allowed.status) \(allowed.code ?? "-")")
        }
        #expect(harness.service.webhooks.get(webhook) != nil || routes.contains("DELETE /v1/webhooks/{id}"))
    }

    /// `GET /v1/event-types` lists exactly DESIGN.md's built-in catalog.
    @Test func eventTypesAreTheDesignCatalog() async throws {
        let harness = try ServiceHarness()
        defer { harness.close(); harness.removeDirectory() }
        let token = try await harness.token(organization: "org_a", scopes: ["events:read"])
        let reply = await harness.send("GET", "/v1/event-types", token: token)
        #expect(reply.status == 200)
        let listed = try #require(reply.json?["data"]?.arrayValue).compactMap { $0["type"]?.stringValue }
        let design = """
            user.created user.login user.login_failed user.logout user.password_changed user.email_changed
            user.profile_updated mfa.enabled mfa.disabled mfa.passkey_registered mfa.challenge_failed
            security.breach_attempt_detected security.account_locked security.suspicious_login
            security.password_breach_detected sso.authentication_completed sso.provider_linked
            sso.provider_unlinked organization.user_added organization.user_removed organization.role_changed
            session.created session.terminated session.concurrent_limit_reached oauth.client_registered
            oauth.token_issued oauth.token_revoked webhook.test webhook.failing webhook.recovered webhook.paused
            webhook.disabled webhook.enabled delivery.exhausted
            """.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
        #expect(design.count == 34)
        #expect(listed == design, "missing: \(Set(design).subtracting(listed)); extra: \(Set(listed).subtracting(design))")
        #expect(reply.json?["data"]?.arrayValue?.allSatisfy { $0["category"]?.stringValue == $0["type"]?.stringValue?.split(separator: ".").first.map(String.init) } == true)
    }

    /// A webhook created without `start` starts at "now": events published before it are not its to deliver.
    @Test func startDefaultsToNow() async throws {
        let harness = try ServiceHarness()
        defer { harness.close(); harness.removeDirectory() }
        let token = try await harness.token(organization: "org_a")
        for number in 0..<3 {
            #expect(await harness.send("POST", "/v1/events", token: token, body: #"{"type":"user.login","data":{"n":\#(number)}}"#).status == 201)
        }
        let head = Int64(harness.service.log.nextOffset)
        #expect(head >= 3)
        let implicit = await harness.createWebhook(token: token)
        #expect(implicit.status == 201 && implicit.json?["start_offset"]?.int64Value == head, "\(implicit.json.map { "\($0)" } ?? "")")
        let now = await harness.createWebhook(token: token, extra: #","start":"now""#)
        #expect(now.json?["start_offset"]?.int64Value == head)
        let beginning = await harness.createWebhook(token: token, extra: #","start":"beginning""#)
        #expect(beginning.json?["start_offset"]?.int64Value == 0)
        let id = try #require(implicit.json?["id"]?.stringValue)
        let stats = await harness.send("GET", "/v1/webhooks/\(id)/stats", token: token)
        #expect(stats.json?["cursor"]?.int64Value == head && stats.json?["lag"]?.int64Value == 0)
    }
}
