import Foundation
import HTTPServer
import Testing
@testable import Service

/// `GET /portal` and its files: served without a token, with a strict CSP; the page calls exactly the routes a
/// portal token may use; a portal token reaches no other organization's webhook through any of them.
@Suite(.timeLimit(.minutes(2))) struct PortalPageTests {
    @Test func pageAndFilesAreServedWithoutATokenUnderAStrictPolicy() async throws {
        let harness = try ServiceHarness()
        defer { harness.close(); harness.removeDirectory() }
        let files = [("/portal", "text/html; charset=utf-8", "no-store"), ("/portal/app.js", "text/javascript; charset=utf-8", "no-cache"),
                     ("/portal/app.css", "text/css; charset=utf-8", "no-cache"), ("/portal/icon.svg", "image/svg+xml", "no-cache")]
        for (path, type, cache) in files {
            let reply = await harness.send("GET", path)
            let headers = reply.response.headers
            #expect(reply.status == 200 && headers["content-type"] == type, "\(path)")
            let policy = try #require(headers["content-security-policy"])
            #expect(policy.hasPrefix("default-src 'self';") && policy.contains("frame-ancestors 'none'") && !policy.contains("unsafe"))
            #expect(headers["x-content-type-options"] == "nosniff" && headers["referrer-policy"] == "no-referrer")
            #expect(headers["cache-control"] == cache && headers["x-frame-options"] == "DENY")
            #expect(!reply.response.body.isEmpty)
        }
        let page = String(decoding: await harness.send("GET", "/portal").response.body, as: UTF8.self)
        #expect(page.contains(#"<script src="/portal/app.js" defer></script>"#) && page.contains(#"<link rel="stylesheet" href="/portal/app.css">"#))
        // Nothing inline (the CSP would block it) and nothing from elsewhere.
        #expect(page.components(separatedBy: "<script").count == 2, "one script element, the same-origin file")
        for forbidden in ["<style", " style=", " onclick", " onload", "javascript:", "http://", "https://", "//cdn"] {
            #expect(!page.contains(forbidden), "\(forbidden)")
        }
        // Data goes into the page as text only: no HTML sinks in the script.
        for sink in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "setAttribute('style'",
                     "setAttribute('on", "https://", "localStorage", "sessionStorage", "document.cookie"] {
            #expect(!PortalAssets.javaScript.contains(sink), "\(sink)")
        }
        #expect(!PortalAssets.css.contains("@import") && !PortalAssets.css.contains("url("))
    }

    /// Every `api('METHOD', '/v1/...')` call of the script, as `METHOD /v1/...` with each `${...}` as `{}`.
    static func routesTheScriptCalls() -> Set<String> {
        let pattern = try! NSRegularExpression(pattern: #"api\('([A-Z]+)', [`'](/v1/[^`'?]*)"#)
        let script = PortalAssets.javaScript
        let range = NSRange(script.startIndex..., in: script)
        return Set(pattern.matches(in: script, range: range).map { match in
            let method = String(script[Range(match.range(at: 1), in: script)!])
            let path = String(script[Range(match.range(at: 2), in: script)!])
                .replacingOccurrences(of: #"\$\{[^}]*\}"#, with: "{}", options: .regularExpression)
            return method + " " + path
        })
    }

    @Test func thePageCallsExactlyTheRoutesAPortalTokenMayUse() throws {
        let harness = try ServiceHarness()
        defer { harness.close(); harness.removeDirectory() }
        let called = Self.routesTheScriptCalls()
        #expect(called.count >= 10, "\(called)")
        // The router's /v1 routes a portal token may use, with their parameters as `{}`.
        let allowed = Set(harness.router.registeredRoutes.filter { route in
            route.pattern.hasPrefix("/v1/") && PortalRoutes.allows(method: route.method,
                path: route.pattern.replacingOccurrences(of: "{id}", with: "wh_1").replacingOccurrences(of: "{delivery_id}", with: "d_1"))
        }.map { "\($0.method) " + $0.pattern.replacingOccurrences(of: #"\{[a-z_]+\}"#, with: "{}", options: .regularExpression) })
        #expect(called == allowed, "called but not allowed: \(called.subtracting(allowed)); allowed but unused: \(allowed.subtracting(called))")
    }

    @Test func sessionSaysWhatTheTokenIs() async throws {
        let harness = try ServiceHarness()
        defer { harness.close(); harness.removeDirectory() }
        let token = try await harness.token(organization: "org_a")
        let created = await harness.send("POST", "/v1/portal/sessions", token: token, body: #"{"read_only":true,"expires_in":600}"#)
        let portal = try #require(created.json?["token"]?.stringValue)
        let session = await harness.send("GET", "/v1/portal/session", token: portal)
        #expect(session.status == 200 && session.json?["organization_id"]?.stringValue == "org_a")
        #expect(session.json?["read_only"]?.boolValue == true && session.json?["portal"]?.boolValue == true)
        #expect(session.json?["expires_at"]?.stringValue == created.json?["expires_at"]?.stringValue)
        let writable = try #require(await harness.send("POST", "/v1/portal/sessions", token: token).json?["token"]?.stringValue)
        #expect(await harness.send("GET", "/v1/portal/session", token: writable).json?["read_only"]?.boolValue == false)
        let own = await harness.send("GET", "/v1/portal/session", token: token)
        #expect(own.json?["portal"]?.boolValue == false && own.json?["read_only"]?.boolValue == false)
        #expect(await harness.send("GET", "/v1/portal/session").status == 401)
    }

    /// Every route the page uses, with another organization's webhook: 404, as for one that does not exist.
    @Test func aPortalTokenReachesNoOtherOrganizationsWebhook() async throws {
        let harness = try PortalSessionTests.loopbackHarness()
        defer { harness.close(); harness.removeDirectory() }
        let tokenA = try await harness.token(organization: "org_a")
        let tokenB = try await harness.token(organization: "org_b")
        _ = try await PortalSessionTests.webhook(harness, token: tokenA)
        let hookB = try await PortalSessionTests.webhook(harness, token: tokenB)
        let portal = try #require(await harness.send("POST", "/v1/portal/sessions", token: tokenA).json?["token"]?.stringValue)
        let delivery = "00000000-0000-4000-8000-000000000000"
        for route in Self.routesTheScriptCalls() where route.contains("/webhooks/{}") {
            let parts = route.split(separator: " ", maxSplits: 1).map(String.init)
            var path = parts[1]
            path = path.replacingOccurrences(of: "/webhooks/{}", with: "/webhooks/\(hookB)").replacingOccurrences(of: "{}", with: delivery)
            let body: String? = switch parts[0] {
            case "PATCH": #"{"status":"disabled"}"#
            case "POST" where path.hasSuffix("/replay"): #"{"from_offset":0}"#
            default: nil
            }
            let reply = await harness.send(parts[0], path, token: portal, body: body)
            #expect(reply.status == 404, "\(route): \(reply.status) \(reply.code ?? "-")")
        }
        #expect(harness.service.webhooks.get(hookB)?.status == .enabled, "org_b's webhook was not paused")
    }
}
