import Delivery
import EventLog
import Foundation
import HTTPServer
import JSON
import Synchronization
import Testing
@testable import Service

/// The delivery engine against real receivers on 127.0.0.1: hostile answers, manual retries, windows measured by
/// the receiver, operational events.
@Suite(.serialized, .timeLimit(.minutes(2)), .stopsReceivers) struct DeliveryEngineTests {
    /// Counts requests being handled at once, and the most seen.
    final class Concurrency: Sendable {
        private let state = Mutex((now: 0, most: 0))
        func enter() { state.withLock { $0.now += 1; $0.most = max($0.most, $0.now) } }
        func leave() { state.withLock { $0.now -= 1 } }
        var most: Int { state.withLock { $0.most } }
        var now: Int { state.withLock { $0.now } }
    }

    /// Publishes `count` events; returns their offsets.
    @discardableResult
    static func publish(_ harness: ServiceHarness, token: String, count: Int, type: String = "user.login") async throws -> [UInt64] {
        var offsets: [UInt64] = []
        for number in 0..<count {
            let reply = await harness.send("POST", "/v1/events", token: token, body: #"{"type":"\#(type)","data":{"n":\#(number)}}"#)
            offsets.append(UInt64(try #require(reply.json?["offset"]?.int64Value)))
        }
        return offsets
    }

    @Test func hostileRetryAfterValuesAreClampedAndTheServerKeepsServing() async throws {
        let harness = try DeliveryTests.harness()
        defer { harness.close(); harness.removeDirectory() }
        try await harness.service.startDelivery()
        let token = try await harness.token(organization: "org_a")
        // Each first attempt gets a 429 with an absurd or malformed Retry-After; the retry gets a 200.
        let values = ["99999999999999999", "Sun, 06 Nov 99999999999999 08:49:37 GMT", "Fri, 31 Dec 9999 23:59:59 GMT", "-1", "soon", "1"]
        let receiver = try Receiver { request, _ in
            let body = (try? JSONParser.parse(request.body))?["data"]?["n"]?.int64Value ?? 0
            if request.headers["x-argus-attempt"] == "1" {
                return HTTPResponse(status: 429, headers: HTTPHeaders([("Retry-After", values[Int(body) % values.count])]))
            }
            return HTTPResponse(status: 200)
        }
        let (id, _) = try await DeliveryTests.create(harness, token: token, url: receiver.url, types: #"["user.*"]"#,
                                                     extra: #","retry":{"max_retries":2,"initial_delay_ms":200,"max_delay_ms":1500}"#)
        try await Self.publish(harness, token: token, count: values.count)
        #expect(await receiver.wait(seconds: 30) { deliveries in deliveries.filter { $0.headers["x-argus-attempt"] == "2" }.count == values.count })
        let history = harness.service.dispatcher.history
        #expect(await receiver.wait { _ in history.list(webhookID: id, status: .succeeded, after: nil, limit: 100).page.count == values.count })
        let records = history.list(webhookID: id, status: nil, after: nil, limit: 100).page
        #expect(records.count == values.count)
        for record in records {
            #expect(record.status == .succeeded)
            #expect(record.attempts.map(\.statusCode) == [429, 200])
        }
        #expect(await harness.send("GET", "/healthz").status == 200, "still serving")
    }

    @Test func aRetryAfterOfA429DecidesWhenTheRetryIsDue() async throws {
        let harness = try DeliveryTests.harness()
        defer { harness.close(); harness.removeDirectory() }
        try await harness.service.startDelivery()
        let token = try await harness.token(organization: "org_a")
        let hold = Atomic<Bool>(true)
        let receiver = try Receiver { _, number in
            if number == 1 { return HTTPResponse(status: 429, headers: HTTPHeaders([("Retry-After", "3")])) }
            while hold.load(ordering: .relaxed) { try? await Task.sleep(nanoseconds: 10_000_000) }
            return HTTPResponse(status: 200)
        }
        // Backoff would be 100 ms; Retry-After asks for 3 s (within max_delay_ms 10 s).
        let (id, _) = try await DeliveryTests.create(harness, token: token, url: receiver.url, types: #"["user.*"]"#,
                                                     extra: #","retry":{"max_retries":1,"initial_delay_ms":100,"max_delay_ms":10000}"#)
        let offsets = try await Self.publish(harness, token: token, count: 1)
        let deliveryID = DeliveryID.make(webhookID: id, offset: offsets[0])
        let history = harness.service.dispatcher.history
        #expect(await receiver.wait { _ in history.delivery(deliveryID, webhookID: id)?.attempts.count == 1 })
        let record = try #require(history.delivery(deliveryID, webhookID: id))
        let first = try #require(record.attempts.first)
        let due = try #require(record.nextAttemptAtMs)
        #expect(due - first.startedAtMs >= 3_000, "the retry is due no sooner than Retry-After asked")
        // Not the 10 s cap either (a margin wide enough for a loaded machine: this is not a timing test).
        #expect(due - first.startedAtMs - Int64(first.durationMs) < 8_000, "the retry is due at Retry-After, not at max_delay_ms")
        let listed = await harness.send("GET", "/v1/webhooks/\(id)/deliveries?status=pending", token: token)
        #expect(listed.json?["data"]?.arrayValue?.first?["next_attempt_at"]?.stringValue == Timestamp.format(ms: due))
        hold.store(false, ordering: .relaxed)
        #expect(await receiver.wait(seconds: 20) { $0.count == 2 })
    }

    @Test func manualRetriesAreOneAtATimeAndDeletingTheWebhookStopsThem() async throws {
        // The retry the receiver holds must not end by its attempt timeout while the 20 retry requests
        // are answered (each looks its delivery up on the shared blocking-I/O queue, slow when the whole
        // suite runs on two loaded cores: seen at 15 s, when a second retry was rightly accepted).
        let harness = try DeliveryTests.harness(attemptTimeoutSeconds: 300)
        defer { harness.close(); harness.removeDirectory() }
        try await harness.service.startDelivery()
        let token = try await harness.token(organization: "org_a")
        let release = Atomic<Bool>(false)
        let receiver = try Receiver { _, number in
            if number == 1 { return HTTPResponse(status: 500) }
            while !release.load(ordering: .relaxed) { try? await Task.sleep(nanoseconds: 10_000_000) }
            return HTTPResponse(status: 500)
        }
        let (id, _) = try await DeliveryTests.create(harness, token: token, url: receiver.url, types: #"["user.*"]"#,
                                                     extra: #","retry":{"max_retries":0}"#)
        let offsets = try await Self.publish(harness, token: token, count: 1)
        let deliveryID = DeliveryID.make(webhookID: id, offset: offsets[0])
        let history = harness.service.dispatcher.history
        #expect(await receiver.wait { _ in history.delivery(deliveryID, webhookID: id)?.status == .failed })
        let path = "/v1/webhooks/\(id)/deliveries/\(deliveryID)/retry"
        var statuses: [Int] = []
        var codes: [String] = []
        for _ in 0..<20 {
            let reply = await harness.send("POST", path, token: token)
            statuses.append(reply.status)
            if let code = reply.json?["error"]?["code"]?.stringValue { codes.append(code) }
        }
        #expect(statuses.filter { $0 == 202 }.count == 1, "\(statuses)")
        #expect(codes.count == 19 && Set(codes) == ["retry_in_progress"])
        #expect(await receiver.wait { $0.count == 2 }, "the retry is in flight, held by the receiver")
        #expect(harness.service.dispatcher.inFlightCount == 1)
        #expect(await harness.send("DELETE", "/v1/webhooks/\(id)", token: token).status == 204)
        // The attempt ends while the receiver still holds the request: deleting cancelled it.
        #expect(await receiver.wait(seconds: 10) { _ in harness.service.dispatcher.inFlightCount == 0 })
        release.store(true, ordering: .relaxed)
        // The lane is gone (nothing can send for this webhook any more), and the receiver saw only the two.
        #expect(await receiver.wait(seconds: 10) { _ in harness.service.dispatcher.progress(id) == nil })
        #expect(receiver.received.count == 2)
        let unknown = await harness.send("POST", "/v1/webhooks/\(id)/deliveries/\(deliveryID)/retry", token: token)
        #expect(unknown.status == 404)
    }

    @Test func maxInFlightAndOrderedAreMeasuredByTheReceiver() async throws {
        let harness = try DeliveryTests.harness()
        defer { harness.close(); harness.removeDirectory() }
        try await harness.service.startDelivery()
        let token = try await harness.token(organization: "org_a")
        let wide = Concurrency()
        let ordered = Concurrency()
        let receiver = try Receiver { request, _ in
            let counter = request.path == "/ordered" ? ordered : wide
            counter.enter()
            if counter === wide {
                // Held until three are here (or 2 s): the overlap the engine allows is then seen on any machine.
                for _ in 0..<200 where wide.now < 3 { try? await Task.sleep(nanoseconds: 10_000_000) }
            } else {
                try? await Task.sleep(nanoseconds: 30_000_000)
            }
            counter.leave()
            return HTTPResponse(status: 200)
        }
        let base = "http://127.0.0.1:\(receiver.port)"
        _ = try await DeliveryTests.create(harness, token: token, url: base + "/wide", types: #"["user.*"]"#, extra: #","max_in_flight":3"#)
        _ = try await DeliveryTests.create(harness, token: token, url: base + "/ordered", types: #"["user.*"]"#, extra: #","ordered":true"#)
        try await Self.publish(harness, token: token, count: 30)
        #expect(await receiver.wait(seconds: 60) { $0.count == 60 })
        #expect(wide.most == 3, "max_in_flight 3 reached and never passed")
        #expect(ordered.most == 1, "ordered: one at a time")
        let offsets = receiver.received.filter { $0.path == "/ordered" }.compactMap(\.offset)
        #expect(offsets == offsets.sorted())
    }

    @Test func operationalEventsReachOtherWebhooksOfTheOrganizationButNeverTheOneTheyAreAbout() async throws {
        let harness = try DeliveryTests.harness()
        defer { harness.close(); harness.removeDirectory() }
        try await harness.service.startDelivery()
        let token = try await harness.token(organization: "org_a")
        let receiver = try Receiver { request, _ in HTTPResponse(status: request.path == "/broken" ? 500 : 200) }
        let base = "http://127.0.0.1:\(receiver.port)"
        let (broken, _) = try await DeliveryTests.create(harness, token: token, url: base + "/broken", types: #"["*"]"#,
                                                         extra: #","max_in_flight":1,"retry":{"max_retries":0}"#)
        _ = try await DeliveryTests.create(harness, token: token, url: base + "/ops", types: #"["webhook.*","delivery.*"]"#)
        try await Self.publish(harness, token: token, count: 5)
        let about = { (delivery: Receiver.Delivery) in delivery.json?["data"]?["webhook_id"]?.stringValue == broken }
        #expect(await receiver.wait(seconds: 30) { deliveries in
            deliveries.contains { $0.path == "/ops" && $0.json?["type"]?.stringValue == "webhook.failing" && about($0) }
                && deliveries.filter { $0.path == "/ops" && $0.json?["type"]?.stringValue == "delivery.exhausted" }.count == 5
        })
        let exhausted = try #require(receiver.received.first { $0.path == "/ops" && $0.json?["type"]?.stringValue == "delivery.exhausted" })
        let data = try #require(exhausted.json?["data"])
        #expect(data["delivery_id"]?.stringValue != nil && data["event_id"]?.stringValue != nil && data["offset"]?.int64Value != nil)
        #expect(data["attempts"]?.int64Value == 1 && data["last_status_code"]?.int64Value == 500)
        #expect(exhausted.json?["organization_id"]?.stringValue == "org_a")
        // The broken webhook's lane is settled past every operational event: nothing more will be sent to it.
        #expect(await DeliveryPromiseTests.settled(harness, [broken]), "the broken webhook's lane settled")
        #expect(!receiver.received.contains { $0.path == "/broken" && about($0) }, "never delivered to the webhook it is about")
        #expect(receiver.received.filter { $0.path == "/broken" }.count == 5)
    }

    @Test func rateLimitPerSecondIsValidatedStoredAndShown() async throws {
        let harness = try DeliveryTests.harness()
        defer { harness.close(); harness.removeDirectory() }
        let token = try await harness.token(organization: "org_a")
        for bad in ["0", "10001", "1.5", "\"5\""] {
            let reply = await harness.send("POST", "/v1/webhooks", token: token,
                                           body: #"{"url":"http://127.0.0.1:9/x","event_types":["*"],"rate_limit_per_second":\#(bad)}"#)
            #expect(reply.status == 422, "\(bad)")
        }
        let (id, _) = try await DeliveryTests.create(harness, token: token, url: "http://127.0.0.1:9/x", types: #"["*"]"#,
                                                     extra: #","rate_limit_per_second":25"#)
        #expect(await harness.send("GET", "/v1/webhooks/\(id)", token: token).json?["rate_limit_per_second"]?.int64Value == 25)
        #expect(harness.service.webhooks.get(id)?.subscription.rateLimitPerSecond == 25)
        let cleared = await harness.send("PATCH", "/v1/webhooks/\(id)", token: token, body: #"{"rate_limit_per_second":null}"#)
        #expect(cleared.json?["rate_limit_per_second"] == .null)
        let set = await harness.send("PATCH", "/v1/webhooks/\(id)", token: token, body: #"{"rate_limit_per_second":10000}"#)
        #expect(set.json?["rate_limit_per_second"]?.int64Value == 10_000)
    }
}
