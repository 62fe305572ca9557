@testable import Delivery
import EventLog
import JSON
import Testing
@testable import Service

/// `GET /v1/webhooks/{id}/stats/timeseries`: buckets from the delivery history, bounded parameters, tenant isolation.
@Suite(.timeLimit(.minutes(2))) struct TimeseriesAPITests {
    static func record(_ webhookID: String, _ offset: Int, _ attempts: [(atMs: Int64, status: Int?)]) -> DeliveryRecord {
        DeliveryRecord(deliveryID: DeliveryID.make(webhookID: webhookID, offset: UInt64(offset)), webhookID: webhookID, offset: UInt64(offset),
                       eventID: "evt_\(offset)", eventType: "user.login", status: .failed,
                       attempts: attempts.enumerated().map { index, attempt in
                           DeliveryAttempt(attempt: index + 1, startedAtMs: attempt.atMs, durationMs: 1, statusCode: attempt.status,
                                           responseBody: "", error: attempt.status == nil ? "connection refused" : nil)
                       },
                       nextAttemptAtMs: nil)
    }

    @Test func bucketsCountAttemptsAndFailuresOfTheLastHours() async throws {
        let harness = try ServiceHarness()
        defer { harness.close(); harness.removeDirectory() }
        let token = try await harness.token(organization: "org_a")
        let hook = try #require(await harness.createWebhook(token: token).json?["id"]?.stringValue)
        let now = harness.clock.withLock { $0 }
        let hourMs: Int64 = 3_600_000
        let history = harness.service.dispatcher.history
        history.record(Self.record(hook, 0, [(now - 30 * 60_000, 500), (now - 29 * 60_000, 200)]))
        history.record(Self.record(hook, 1, [(now - 2 * hourMs, nil)]))
        history.record(Self.record(hook, 2, [(now - 25 * hourMs, 500)]))

        let reply = await harness.send("GET", "/v1/webhooks/\(hook)/stats/timeseries", token: token)
        #expect(reply.status == 200)
        let json = try #require(reply.json)
        let buckets = try #require(json["buckets"]?.arrayValue)
        #expect(buckets.count == 24 && json["bucket_seconds"]?.int64Value == 3600 && json["complete"]?.boolValue == true)
        let endMs = (now / hourMs + 1) * hourMs
        #expect(json["end"]?.stringValue == Timestamp.format(ms: endMs) && json["start"]?.stringValue == Timestamp.format(ms: endMs - 24 * hourMs))
        #expect(json["attempts"]?.int64Value == 3 && json["failed"]?.int64Value == 2, "the attempt 25 h ago is outside")
        func bucket(at ms: Int64) -> JSONValue? {
            buckets.first { $0["start"]?.stringValue == Timestamp.format(ms: ms / hourMs * hourMs) }
        }
        let recent = try #require(bucket(at: now - 30 * 60_000))
        // Both attempts of delivery 0 fall in one hour unless that hour boundary lies between them.
        let split = (now - 30 * 60_000) / hourMs != (now - 29 * 60_000) / hourMs
        if !split { #expect(recent["attempts"]?.int64Value == 2 && recent["failed"]?.int64Value == 1) }
        #expect(bucket(at: now - 2 * hourMs)?["failed"]?.int64Value == 1)

        let minutes = await harness.send("GET", "/v1/webhooks/\(hook)/stats/timeseries?hours=24&bucket_seconds=60", token: token)
        #expect(minutes.status == 200 && minutes.json?["buckets"]?.arrayValue?.count == ServiceLimits.Series.bucketCountMax)
        let week = await harness.send("GET", "/v1/webhooks/\(hook)/stats/timeseries?hours=168&bucket_seconds=86400", token: token)
        #expect(week.status == 200 && week.json?["buckets"]?.arrayValue?.count == 7 && week.json?["attempts"]?.int64Value == 4)
        for bad in ["hours=0", "hours=169", "hours=abc", "hours=", "hours=1e3", "bucket_seconds=59", "bucket_seconds=86401",
                    "hours=25&bucket_seconds=60", "hours=99999999999999999999"] {
            let refused = await harness.send("GET", "/v1/webhooks/\(hook)/stats/timeseries?\(bad)", token: token)
            #expect(refused.status == 400 && refused.code == "invalid_query", "\(bad): \(refused.status)")
        }
    }

    @Test func onlyTheWebhooksOrganizationAndItsPortalSessionsSeeIt() async throws {
        let harness = try ServiceHarness()
        defer { harness.close(); harness.removeDirectory() }
        let tokenA = try await harness.token(organization: "org_a")
        let tokenB = try await harness.token(organization: "org_b")
        let hookA = try #require(await harness.createWebhook(token: tokenA).json?["id"]?.stringValue)
        let hookB = try #require(await harness.createWebhook(token: tokenB).json?["id"]?.stringValue)
        #expect(await harness.send("GET", "/v1/webhooks/\(hookA)/stats/timeseries", token: tokenB).status == 404)
        #expect(await harness.send("GET", "/v1/webhooks/wh_000000000000000000000000/stats/timeseries", token: tokenA).status == 404)
        let session = await harness.send("POST", "/v1/portal/sessions", token: tokenA, body: #"{"read_only":true}"#)
        let portal = try #require(session.json?["token"]?.stringValue)
        #expect(await harness.send("GET", "/v1/webhooks/\(hookA)/stats/timeseries?hours=1", token: portal).status == 200)
        #expect(await harness.send("GET", "/v1/webhooks/\(hookB)/stats/timeseries", token: portal).status == 404)
        #expect(await harness.send("GET", "/v1/webhooks/\(hookA)/stats/timeseries", token: nil).status == 401)
    }
}
