import Foundation
import HTTPServer
import JSON
import Testing
import ArgusTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The real `serve` process: what survives kill -9 and a graceful restart (clients, revoked and deleted clients'
/// tokens, delivery history), SIGTERM's exit status, and the batch limits as `serve` wires them over HTTP.
@Suite(.serialized, .timeLimit(.minutes(5)), .stopsReceivers) struct ServeDurabilityTests {
    typealias Server = ServeProcessTests.Server
    static let form = "application/x-www-form-urlencoded"

    static func directory(_ name: String) -> String { NSTemporaryDirectory() + "argus-\(name)-\(UUID().uuidString.prefix(8))" }

    /// A token for `clientID`, or nil with the status when refused.
    static func token(_ server: Server, _ clientID: String, _ secret: String) async throws -> (Int, String?) {
        let (status, reply) = try await RawHTTP.request("POST", server.base + "/oauth/token", basic: "\(clientID):\(secret)",
                                                                  body: "grant_type=client_credentials", contentType: form)
        return (status, reply?["access_token"]?.stringValue)
    }

    /// The admin token of a freshly started server.
    static func adminToken(_ server: Server) async throws -> String {
        let clientID = try #require(server.value(after: "client_id:"))
        let secret = try #require(server.value(after: "client_secret:"))
        return try #require(try await token(server, clientID, secret).1)
    }

    /// What a restart must keep: the history as the API shows it (ids, statuses, each attempt's number, status code and body).
    static func historySnapshot(_ server: Server, webhookID: String, token: String) async throws -> [String] {
        let (status, reply) = try await RawHTTP.request("GET", server.base + "/v1/webhooks/\(webhookID)/deliveries?limit=100", token: token)
        #expect(status == 200)
        return (reply?["data"]?.arrayValue ?? []).map { record in
            let attempts = (record["attempts"]?.arrayValue ?? []).map { attempt in
                "\(attempt["attempt"]?.int64Value ?? -1):\(attempt["status_code"]?.int64Value ?? -1):\(attempt["response_body"]?.stringValue ?? "?")"
            }
            return "\(record["id"]?.stringValue ?? "?") \(record["offset"]?.int64Value ?? -1) \(record["status"]?.stringValue ?? "?") \(attempts)"
        }
    }

    @Test func clientsTokensAndHistorySurviveKillDashNineAndAGracefulRestart() async throws {
        let directory = Self.directory("survive")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // The first attempt of each delivery answers 500 with a body; the retry 200.
        let receiver = try Receiver { request, _ in
            request.headers["x-argus-attempt"] == "1" ? HTTPResponse(status: 500, body: Array("try again".utf8)) : HTTPResponse(status: 200, body: Array("ok".utf8))
        }
        var server = try await Server.start(dataDirectory: directory, firstStart: true)
        defer { server.kill9() }
        let admin = try await Self.adminToken(server)

        // Two clients of org_a: one stays, one is deleted. The staying one has a live token and a revoked one.
        func createClient() async throws -> (String, String) {
            let (status, reply) = try await RawHTTP.request("POST", server.base + "/v1/clients", token: admin,
                body: #"{"scopes":["events:publish","events:read","webhooks:read","webhooks:write"],"organization_id":"org_a","description":"kept"}"#)
            #expect(status == 201)
            return (try #require(reply?["client_id"]?.stringValue), try #require(reply?["client_secret"]?.stringValue))
        }
        let (keptID, keptSecret) = try await createClient()
        let (deletedID, deletedSecret) = try await createClient()
        let live = try #require(try await Self.token(server, keptID, keptSecret).1)
        let revoked = try #require(try await Self.token(server, keptID, keptSecret).1)
        let orphaned = try #require(try await Self.token(server, deletedID, deletedSecret).1)
        let (revokeStatus, _) = try await RawHTTP.request("POST", server.base + "/oauth/revoke", basic: "\(keptID):\(keptSecret)",
                                                                    body: "token=\(revoked)", contentType: Self.form)
        #expect(revokeStatus == 200)
        #expect(try await RawHTTP.request("DELETE", server.base + "/v1/clients/\(deletedID)", token: admin).0 == 204)

        let (created, webhook) = try await RawHTTP.request("POST", server.base + "/v1/webhooks", token: live,
            body: #"{"url":"\#(receiver.url)","event_types":["user.*"],"retry":{"max_retries":2,"initial_delay_ms":100,"max_delay_ms":100}}"#)
        #expect(created == 201)
        let webhookID = try #require(webhook?["id"]?.stringValue)
        for n in 0..<3 {
            let (status, _) = try await RawHTTP.request("POST", server.base + "/v1/events", token: live,
                                                                  body: #"{"type":"user.login","data":{"n":\#(n)}}"#)
            #expect(status == 201)
        }
        var history: [String] = []
        for _ in 0..<300 {
            history = try await Self.historySnapshot(server, webhookID: webhookID, token: live)
            if history.count == 3 && history.allSatisfy({ $0.contains(" succeeded ") }) { break }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        #expect(history.count == 3 && history.allSatisfy { $0.contains(#"["1:500:try again", "2:200:ok"]"#) },
                "three deliveries, each a 500 then a 200: \(history)")

        /// Everything the restarted server must still know.
        func expectKept(_ when: String) async throws {
            #expect(try await RawHTTP.request("GET", server.base + "/v1/webhooks/\(webhookID)", token: live).0 == 200,
                    "\(when): the live token still works")
            let (revokedStatus, revokedReply) = try await RawHTTP.request("GET", server.base + "/v1/webhooks", token: revoked)
            let revokedCode = revokedReply?["error"]?["code"]?.stringValue ?? ""
            // A revoked token may be forgotten (journals stay bounded by live tokens): then it is simply unknown.
            #expect(revokedStatus == 401 && ["token_revoked", "invalid_token"].contains(revokedCode),
                    "\(when): the revoked token stays refused (\(revokedStatus) \(revokedCode))")
            #expect(try await RawHTTP.request("GET", server.base + "/v1/webhooks", token: orphaned).0 == 401,
                    "\(when): the deleted client's token stays refused")
            #expect(try await Self.token(server, deletedID, deletedSecret).0 == 401, "\(when): the deleted client stays deleted")
            #expect(try await Self.token(server, keptID, keptSecret).1 != nil, "\(when): the kept client gets new tokens")
            let (_, clients) = try await RawHTTP.request("GET", server.base + "/v1/clients?organization_id=org_a", token: admin)
            let ids = clients?["data"]?.arrayValue?.compactMap { $0["client_id"]?.stringValue } ?? []
            #expect(ids.contains(keptID) && !ids.contains(deletedID), "\(when): clients listed: \(ids)")
            #expect(try await Self.historySnapshot(server, webhookID: webhookID, token: live) == history, "\(when): the history is unchanged")
            let (_, stats) = try await RawHTTP.request("GET", server.base + "/v1/webhooks/\(webhookID)/stats", token: live)
            #expect(stats?["succeeded"]?.int64Value == 3 && stats?["attempts"]?.int64Value == 6, "\(when): stats \(String(describing: stats))")
        }
        #expect(try await RawHTTP.request("GET", server.base + "/v1/webhooks", token: revoked).0 == 401, "revoked before the restart")

        server.kill9()
        server = try await Server.start(dataDirectory: directory, firstStart: false)
        try await expectKept("after kill -9")

        // SIGTERM: a graceful stop exits 0 (the documented status) and keeps everything as well.
        server.process.send(SIGTERM)
        let status = await server.process.wait(timeoutSeconds: 30)
        #expect(status == 0, "serve exits 0 on SIGTERM: \(String(describing: status)); stderr: \(server.process.standardError.suffix(2000))")
        server = try await Server.start(dataDirectory: directory, firstStart: false)
        try await expectKept("after SIGTERM and a restart")
        #expect(receiver.received.count == 6, "nothing was delivered again: each delivery had settled")
    }

    @Test func theSupervisedServeExitsZeroOnSIGTERM() async throws {
        let directory = Self.directory("sigterm")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let supervisor = try ChildProcess(ServeProcessTests.executable, ["serve", "--data-dir", directory, "--listen", "127.0.0.1:0"])
        defer { supervisor.stop() }
        #expect(await supervisor.waitForOutput(timeoutSeconds: 30) { $0.contains("Try it:") }, "serve started: \(supervisor.standardError)")
        supervisor.send(SIGTERM)
        let status = await supervisor.wait(timeoutSeconds: 30)
        #expect(status == 0, "the supervisor passes SIGTERM on and exits with the server's 0: \(String(describing: status))")
        // The lock is free: a new server starts on the same directory at once.
        let next = try await Server.start(dataDirectory: directory, firstStart: false)
        next.kill9()
    }

    @Test func batchLimitsAsServeWiresThem() async throws {
        let directory = Self.directory("batch")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try await Server.start(dataDirectory: directory, firstStart: true, extraArguments: ["--fsync", "none"])
        defer { server.kill9() }
        let admin = try await Self.adminToken(server)
        let url = server.base + "/v1/events/batch"
        func batch(_ count: Int, dataBytes: Int = 0) -> String {
            let pad = String(repeating: "x", count: dataBytes)
            let event = #"{"type":"user.login","organization_id":"org_a","data":{"p":"\#(pad)"}}"#
            return #"{"events":["# + Array(repeating: event, count: count).joined(separator: ",") + "]}"
        }
        func head() async throws -> Int64 {
            let (_, reply) = try await RawHTTP.request("POST", server.base + "/v1/events", token: admin,
                                                                 body: #"{"type":"user.login","organization_id":"org_a","data":{}}"#)
            return try #require(reply?["offset"]?.int64Value) + 1
        }

        // 1,000 events: one commit; 1,001: 422 validation_failed, nothing appended.
        let (accepted, reply) = try await RawHTTP.request("POST", url, token: admin, body: batch(1000))
        #expect(accepted == 201 && reply?["events"]?.arrayValue?.count == 1000)
        let before = try await head()
        let (tooMany, tooManyReply) = try await RawHTTP.request("POST", url, token: admin, body: batch(1001))
        #expect(tooMany == 422 && tooManyReply?["error"]?["code"]?.stringValue == "validation_failed", "\(tooMany) \(String(describing: tooManyReply))")
        #expect(try await head() == before + 1, "the refused batch appended nothing")

        // A body of exactly 8 MiB is read; one byte more is 413 body_too_large. JSON whitespace pads to the byte.
        let limit = 8 << 20
        let core = batch(40, dataBytes: 200_000)
        #expect(core.utf8.count < limit)
        let exact = core + String(repeating: " ", count: limit - core.utf8.count)
        #expect(exact.utf8.count == limit)
        let (atLimit, atLimitReply) = try await RawHTTP.request("POST", url, token: admin, body: exact)
        #expect(atLimit == 201 && atLimitReply?["events"]?.arrayValue?.count == 40, "exactly 8 MiB is accepted: \(atLimit)")
        let afterExact = try await head()
        let (over, overReply) = try await RawHTTP.request("POST", url, token: admin, body: exact + " ")
        #expect(over == 413 && overReply?["error"]?["code"]?.stringValue == "body_too_large", "8 MiB + 1 byte: \(over) \(String(describing: overReply))")
        #expect(try await head() == afterExact + 1, "the refused body appended nothing")
        // Other routes keep their 1 MiB.
        let oneMiB = 1 << 20
        let single = #"{"type":"user.login","organization_id":"org_a","data":{}}"#
        let (big, _) = try await RawHTTP.request("POST", server.base + "/v1/events", token: admin,
                                                           body: single + String(repeating: " ", count: oneMiB + 1 - single.utf8.count))
        #expect(big == 413)
        let (fits, _) = try await RawHTTP.request("POST", server.base + "/v1/events", token: admin,
                                                            body: single + String(repeating: " ", count: oneMiB - single.utf8.count))
        #expect(fits == 201)
    }
}
