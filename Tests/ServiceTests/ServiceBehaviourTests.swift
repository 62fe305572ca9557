import EventLog
import ArgusTestSupport
import Foundation
import HTTPServer
import Synchronization
import Testing
@testable import Service

@Suite(.timeLimit(.minutes(2))) struct ServiceBehaviourTests {
    @Test func idempotentPublishReturnsTheFirstResult() async throws {
        let harness = try ServiceHarness()
        defer { harness.close(); harness.removeDirectory() }
        let token = try await harness.token(organization: "org_a")
        let body = #"{"type":"user.created","data":{"user_id":"u_1"}}"#
        let first = await harness.send("POST", "/v1/events", token: token, body: body, headers: [("Idempotency-Key", "k-1")])
        let second = await harness.send("POST", "/v1/events", token: token, body: body, headers: [("Idempotency-Key", "k-1")])
        #expect(first.status == 201 && second.status == 201)
        #expect(first.json == second.json)
        #expect(second.response.headers["idempotent-replayed"] == "true")
        let other = await harness.send("POST", "/v1/events", token: token, body: #"{"type":"user.created","data":{}}"#,
                                       headers: [("Idempotency-Key", "k-1")])
        #expect(other.status == 422 && other.code == "idempotency_key_reused")
        #expect(try TestLog.types(harness).filter { $0 == "user.created" }.count == 1)
        // The key survives a restart.
        harness.close()
        let restarted = try ServiceHarness(reopening: harness)
        defer { restarted.close() }
        let third = await restarted.send("POST", "/v1/events", token: token, body: body, headers: [("Idempotency-Key", "k-1")])
        #expect(third.json == first.json)
    }

    @Test func batchPublishIsOneCommitInOrder() async throws {
        let harness = try ServiceHarness(configure: { $0.logOptions.fsyncPolicy = .always })
        defer { harness.close(); harness.removeDirectory() }
        let token = try await harness.token(organization: "org_a")
        let events = (0..<100).map { #"{"type":"user.login","data":{"n":\#($0)}}"# }.joined(separator: ",")
        let syncsBefore = harness.service.log.syncStatistics.count
        let reply = await harness.send("POST", "/v1/events/batch", token: token, body: #"{"events":[\#(events)]}"#)
        #expect(reply.status == 201)
        let syncs = harness.service.log.syncStatistics.count - syncsBefore
        #expect(syncs == 1, "a batch of 100 is one durable commit, one fdatasync: \(syncs)")
        let offsets = try #require(reply.json?["events"]?.arrayValue).compactMap { $0["offset"]?.int64Value }
        #expect(offsets.count == 100 && offsets == Array(offsets[0]..<(offsets[0] + 100)))
    }

    @Test func publishesStartedInOneTurnOfTheIOLoopShareOneCommit() async throws {
        let harness = try ServiceHarness(configure: { configuration in
            configuration.logOptions.fsyncPolicy = .always
            configuration.logOptions.writerIdleWaitSecondsMax = 3600  // only the end of the turn wakes the writer
        })
        defer { harness.close(); harness.removeDirectory() }
        let token = try await harness.token(organization: "org_a")
        #expect(await eventually(seconds: 10) { harness.service.log.writerIsIdle })
        let syncsBefore = harness.service.log.syncStatistics.count
        let tasks = RequestTasks()
        let statuses = Mutex<[Int]>([])
        for number in 0..<8 {
            let request = HTTPRequest(method: "POST", target: "/v1/events",
                                      headers: HTTPHeaders([("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")]),
                                      body: Array(#"{"type":"user.login","data":{"n":\#(number)}}"#.utf8))
            harness.router.start(request, in: tasks) { response in statuses.withLock { $0.append(response.status) } }
        }
        #expect(statuses.withLock { $0.isEmpty } && harness.service.log.writerIsIdle, "the publishes wait for the end of the turn")
        harness.router.turnEnded()
        #expect(await eventually(seconds: 10) { statuses.withLock { $0.count } == 8 })
        #expect(statuses.withLock { $0 } == Array(repeating: 201, count: 8))
        #expect(harness.service.log.syncStatistics.count - syncsBefore == 1, "eight publishes, one fdatasync")
        await tasks.shutdown()
    }

    @Test func webhooksAndEventsPaginate() async throws {
        let harness = try ServiceHarness()
        defer { harness.close(); harness.removeDirectory() }
        let token = try await harness.token(organization: "org_a")
        var created: [String] = []
        for _ in 0..<5 { created.append(try #require(await harness.createWebhook(token: token).json?["id"]?.stringValue)) }
        var seen: [String] = []
        var after: String? = nil
        var pages = 0
        repeat {  // bounded: 5 webhooks in pages of 2 take 3 pages; a cursor that never ends stops at 10
            let reply = await harness.send("GET", "/v1/webhooks?limit=2" + (after.map { "&after=\($0)" } ?? ""), token: token)
            seen += reply.json?["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
            after = reply.json?["next_after"]?.stringValue
            pages += 1
        } while after != nil && pages < 10
        #expect(after == nil && pages == 3, "the pages ended: \(pages)")
        #expect(seen == created.sorted())
        for number in 0..<7 {
            #expect(await harness.send("POST", "/v1/events", token: token, body: #"{"type":"user.login","data":{"n":\#(number)}}"#).status == 201)
        }
        var numbers: [Int64] = []
        var cursor: Int64? = nil
        var eventPages = 0
        repeat {  // bounded like the loop above
            let reply = await harness.send("GET", "/v1/events?type=user.login&limit=3" + (cursor.map { "&after=\($0)" } ?? ""), token: token)
            numbers += reply.json?["data"]?.arrayValue?.compactMap { $0["data"]?["n"]?.int64Value } ?? []
            cursor = reply.json?["next_after"]?.int64Value
            eventPages += 1
        } while cursor != nil && eventPages < 20
        #expect(cursor == nil, "the event pages ended after \(eventPages)")
        #expect(numbers == Array(0..<7))
    }

    @Test func webhookLifecycleAndSecretRotation() async throws {
        let harness = try ServiceHarness()
        defer { harness.close(); harness.removeDirectory() }
        let token = try await harness.token(organization: "org_a")
        let created = await harness.createWebhook(token: token, types: #"["security.*","user.login_failed"]"#, extra: #","ordered":true,"start":"beginning""#)
        #expect(created.status == 201)
        let id = try #require(created.json?["id"]?.stringValue)
        let secret = try #require(created.json?["secret"]?.stringValue)
        #expect(secret.hasPrefix("whsec_") && created.json?["max_in_flight"]?.int64Value == 1 && created.json?["start_offset"]?.int64Value == 0)
        let fetched = await harness.send("GET", "/v1/webhooks/\(id)", token: token)
        #expect(fetched.json?["secret"] == nil, "the secret is shown only at creation and rotation")
        let patched = await harness.send("PATCH", "/v1/webhooks/\(id)", token: token, body: #"{"description":"SIEM","status":"disabled"}"#)
        #expect(patched.json?["description"]?.stringValue == "SIEM" && patched.json?["status"]?.stringValue == "disabled")
        let rotated = await harness.send("POST", "/v1/webhooks/\(id)/rotate-secret", token: token)
        let newSecret = try #require(rotated.json?["secret"]?.stringValue)
        #expect(newSecret != secret)
        let stored = try #require(harness.service.webhooks.get(id))
        let signing = stored.secrets.signingSecrets(at: Date(timeIntervalSince1970: Double(harness.clock.withLock { $0 }) / 1000))
        #expect(signing.map(\.encoded) == [newSecret, secret], "both sign during the grace period, newest first")
        #expect(await harness.send("DELETE", "/v1/webhooks/\(id)", token: token).status == 204)
        #expect(await harness.send("GET", "/v1/webhooks/\(id)", token: token).status == 404)
    }

    @Test func everythingSurvivesARestart() async throws {
        let harness = try ServiceHarness()
        defer { harness.removeDirectory() }
        let token = try await harness.token(organization: "org_a")
        let id = try #require(await harness.createWebhook(token: token).json?["id"]?.stringValue)
        #expect(await harness.send("POST", "/v1/events", token: token, body: #"{"type":"user.created","data":{}}"#).status == 201)
        let offset = harness.service.log.nextOffset
        harness.close()
        let restarted = try ServiceHarness(reopening: harness)
        defer { restarted.close() }
        #expect(await restarted.send("GET", "/v1/webhooks/\(id)", token: token).status == 200)
        #expect(restarted.service.log.nextOffset == offset)
    }

    @Test func clientsCreatedWhileTheServerRunsArePublishedThroughTheSpool() async throws {
        let harness = try ServiceHarness()
        defer { harness.close(); harness.removeDirectory() }
        let (client, secret) = try ArgusService.registerClient(dataDirectory: harness.path, organizationID: "org_cli",
                                                               scopes: ["events:read"], nowMs: 1)
        #expect(secret.hasPrefix("cs_"))
        #expect(harness.service.clients.authenticate(clientID: client.clientID, secret: secret) != nil)
        #expect(await harness.service.drainSpool() == 1)
        #expect(try TestLog.types(harness).contains("oauth.client_registered"))
        #expect(await harness.service.drainSpool() == 0)
    }

    @Test func healthMetricsAndOpenAPIAreServed() async throws {
        let harness = try ServiceHarness()
        defer { harness.close(); harness.removeDirectory() }
        #expect(await harness.send("GET", "/healthz").status == 200)
        let anonymous = await harness.send("GET", "/metrics")
        #expect(anonymous.status == 401 && anonymous.code == "missing_token", "/metrics needs a token")
        let publisher = try await harness.token(organization: "org_a", scopes: ["events:publish"])
        #expect(await harness.send("GET", "/metrics", token: publisher).status == 403, "and the metrics:read scope")
        let scraper = try await harness.token(organization: "org_a", scopes: ["metrics:read"])
        let metrics = await harness.send("GET", "/metrics", token: scraper)
        #expect(metrics.status == 200)
        let text = String(decoding: metrics.response.body, as: UTF8.self)
        for name in ["argus_log_next_offset", "argus_append_duration_seconds_count", "argus_log_fsync_duration_seconds_count",
                     "argus_deliveries_total", "argus_retry_queue_depth", "argus_delivery_lag_events", "argus_api_responses_total"] {
            #expect(text.contains(name), "\(name) in /metrics")
        }
        let document = await harness.send("GET", "/openapi.json")
        #expect(document.json?["openapi"]?.stringValue == "3.1.0")
    }

    /// Every failed request is counted once under its status, whatever kind of error answered it (an API
    /// error, an OAuth error, an unknown webhook).
    @Test func failedRequestsAreCountedByStatus() async throws {
        let harness = try ServiceHarness()
        defer { harness.close(); harness.removeDirectory() }
        let token = try await harness.token(organization: "org_a")
        let (id, _) = try harness.client(organization: "org_a", scopes: ["events:read"])
        let form = "application/x-www-form-urlencoded"
        for _ in 0..<2 { #expect(await harness.send("POST", "/v1/events", token: token, body: "{").status == 400) }
        let wrongSecret = await harness.send("POST", "/oauth/token", body: "grant_type=client_credentials&client_id=\(id)&client_secret=nope",
                                             contentType: form)
        #expect(wrongSecret.status == 401 && wrongSecret.code == "invalid_client")
        for _ in 0..<3 { #expect(await harness.send("GET", "/v1/webhooks/wh_nope/deliveries", token: token).status == 404) }
        let scraper = try await harness.token(organization: "org_a", scopes: ["metrics:read"])
        let text = String(decoding: await harness.send("GET", "/metrics", token: scraper).response.body, as: UTF8.self)
        for (status, count) in [(400, 2), (401, 1), (404, 3)] {
            #expect(text.contains("argus_api_responses_total{status=\"\(status)\"} \(count)\n"), "\(count) counted as \(status)")
        }
    }
}
