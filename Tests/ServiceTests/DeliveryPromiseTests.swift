import ArgusTestSupport
import HTTPClient
import Delivery
import EventLog
import Foundation
import HTTPServer
import JSON
import Synchronization
import Testing
@testable import Service

/// README promises about delivery, each against a real receiver on 127.0.0.1: replay by `since`, the
/// history's 4 KiB body prefix and attempt numbering, auto-disable after the documented failure time.
@Suite(.serialized, .timeLimit(.minutes(3)), .stopsReceivers) struct DeliveryPromiseTests {
    /// Milliseconds of the wall clock.
    static var wallClockMs: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// Waits until each webhook's lane is settled: its cursor at the head, nothing in flight or unresolved (after that
    /// nothing more is sent until something is appended). False when one never settled within `seconds`.
    static func settled(_ harness: ServiceHarness, _ ids: [String], seconds: Double = 30) async -> Bool {
        await eventually(seconds: seconds) {
            ids.allSatisfy { id in
                guard let progress = harness.service.dispatcher.progress(id) else { return false }
                return progress.cursor == harness.service.log.nextOffset && progress.inFlight == 0 && progress.unresolved == 0
            }
        }
    }

    /// Publishes one `user.login` with `n`; returns its offset and its log time in ms.
    static func publish(_ harness: ServiceHarness, token: String, n: Int) async throws -> (offset: Int64, timestampMs: Int64) {
        let reply = await harness.send("POST", "/v1/events", token: token, body: #"{"type":"user.login","data":{"n":\#(n)}}"#)
        let offset = try #require(reply.json?["offset"]?.int64Value, "\(reply.status)")
        let timestampMs = try #require(reply.json?["timestamp"]?.stringValue.flatMap(Timestamp.parse))
        return (offset, timestampMs)
    }

    /// The shared scan stops reading while no webhook exists; webhooks created afterwards (from the
    /// beginning, and from now) still receive every event they ask for.
    @Test func webhooksCreatedAfterTheLogGrewWithoutAnyGetEveryEventTheyAskFor() async throws {
        let harness = try DeliveryTests.harness()
        defer { harness.close(); harness.removeDirectory() }
        try await harness.service.startDelivery()
        let token = try await harness.token(organization: "org_a")
        for n in 0..<300 { _ = try await Self.publish(harness, token: token, n: n) }
        let receiver = try Receiver()
        let (fromStart, _) = try await DeliveryTests.create(harness, token: token, url: receiver.url + "start", types: #"["user.login"]"#,
                                                            extra: #","start":"beginning""#)
        let (fromNow, _) = try await DeliveryTests.create(harness, token: token, url: receiver.url + "now", types: #"["user.login"]"#)
        for n in 300..<302 { _ = try await Self.publish(harness, token: token, n: n) }
        #expect(await receiver.wait { deliveries in
            deliveries.filter { $0.path.hasSuffix("start") }.count >= 302 && deliveries.filter { $0.path.hasSuffix("now") }.count >= 2
        }, "every event reached the webhook from the beginning, the two new ones the webhook from now")
        #expect(await Self.settled(harness, [fromStart, fromNow]))
        let received = receiver.received
        #expect(Set(received.filter { $0.path.hasSuffix("start") }.compactMap(\.offset)).count == 302)
        #expect(received.filter { $0.path.hasSuffix("now") }.count == 2)
    }

    /// A delivery the receiver acknowledged keeps its place in the window until the history has
    /// written it (after a crash the history is what keeps it from going out again): with the
    /// history's writer held, a window of 4 sends exactly 4; released, everything follows.
    @Test func settledDeliveriesHoldTheirPlaceInTheWindowUntilTheHistoryWroteThem() async throws {
        let harness = try DeliveryTests.harness()
        defer { harness.close(); harness.removeDirectory() }
        try await harness.service.startDelivery()
        let token = try await harness.token(organization: "org_a")
        let receiver = try Receiver()
        _ = try await DeliveryTests.create(harness, token: token, url: receiver.url, types: #"["user.login"]"#, extra: #","max_in_flight":4"#)
        let held = Atomic<Bool>(true)
        harness.service.dispatcher.history.setWriteGate {
            // Bounded: released by the test, or after 30 s.
            for _ in 0..<3000 where held.load(ordering: .acquiring) { usleep(10_000) }
        }
        for n in 0..<20 { _ = try await Self.publish(harness, token: token, n: n) }
        #expect(await receiver.wait { $0.count >= 4 }, "the window's four went out")
        // Nothing more may go out while the writer is held: look for a while (the engine is idle by then).
        try await Task.sleep(for: .milliseconds(300))
        #expect(receiver.received.count == 4, "got \(receiver.received.count) with the history's writer held")
        held.store(false, ordering: .releasing)
        harness.service.dispatcher.history.setWriteGate(nil)
        #expect(await receiver.wait { Set($0.compactMap(\.offset)).count >= 20 }, "the rest followed once the history was written")
    }

    @Test func replayBySinceResendsExactlyTheEventsAppendedFromThatTimeWithTheirIds() async throws {
        let harness = try DeliveryTests.harness()
        defer { harness.close(); harness.removeDirectory() }
        try await harness.service.startDelivery()
        let token = try await harness.token(organization: "org_a")
        let receiver = try Receiver()
        let (id, _) = try await DeliveryTests.create(harness, token: token, url: receiver.url, types: #"["user.login"]"#)
        var early: [(offset: Int64, timestampMs: Int64)] = []
        for n in 0..<3 { early.append(try await Self.publish(harness, token: token, n: n)) }
        let lastEarlyMs = try #require(early.last?.timestampMs)
        // The log stamps appends with the wall clock (never going back): once it has passed the last early
        // event, every later event is stamped after it.
        #expect(await eventually(seconds: 5) { Self.wallClockMs > lastEarlyMs + 1 }, "the wall clock passed the early events")
        var late: [(offset: Int64, timestampMs: Int64)] = []
        for n in 3..<6 { late.append(try await Self.publish(harness, token: token, n: n)) }
        #expect(late.allSatisfy { $0.timestampMs > lastEarlyMs } && late.count == 3)
        #expect(await receiver.wait { $0.count == 6 }, "the six events were delivered once")
        let firstDeliveries = receiver.received

        // Replay since the millisecond after the early events: exactly the late ones, from the first late offset.
        let since = Timestamp.format(ms: lastEarlyMs + 1)
        let replay = await harness.send("POST", "/v1/webhooks/\(id)/replay", token: token, body: #"{"since":"\#(since)"}"#)
        #expect(replay.status == 202, "\(String(decoding: replay.response.body, as: UTF8.self))")
        let head = Int64(harness.service.log.nextOffset)
        #expect(replay.json?["from_offset"]?.int64Value == late[0].offset)
        #expect(replay.json?["until_offset"]?.int64Value == head)
        #expect(replay.json?["event_count"]?.int64Value == head - late[0].offset)
        #expect(await receiver.wait { $0.count >= 9 }, "the three late events came again")
        // Settled: nothing in flight, nothing unresolved, the cursor at the head; then nothing more is sent.
        #expect(await eventually {
            let stats = await harness.send("GET", "/v1/webhooks/\(id)/stats", token: token).json
            return stats?["lag"]?.int64Value == 0 && stats?["in_flight"]?.int64Value == 0 && stats?["unresolved"]?.int64Value == 0
        }, "the replay settled")
        let received = receiver.received
        #expect(received.count == 9, "only the late events were sent again: \(received.compactMap(\.offset))")
        let again = received.dropFirst(firstDeliveries.count)
        #expect(again.compactMap(\.offset).sorted() == late.map(\.offset), "from the first event at or after `since` (unordered webhook: any order)")
        for delivery in again {
            let original = firstDeliveries.first { $0.offset == delivery.offset }
            #expect(original != nil && original?.deliveryID == delivery.deliveryID, "offset \(delivery.offset ?? -1) keeps its delivery id")
        }

        // `since` at the first late event's own time includes it (at or after); a time past the head replays nothing.
        let exact = await harness.send("POST", "/v1/webhooks/\(id)/replay", token: token,
                                       body: #"{"since":"\#(Timestamp.format(ms: late[0].timestampMs))"}"#)
        #expect(exact.json?["from_offset"]?.int64Value == late[0].offset)
        let future = await harness.send("POST", "/v1/webhooks/\(id)/replay", token: token,
                                        body: #"{"since":"\#(Timestamp.format(ms: Self.wallClockMs + 3_600_000))"}"#)
        #expect(future.status == 202 && future.json?["event_count"]?.int64Value == 0)
        let bad = await harness.send("POST", "/v1/webhooks/\(id)/replay", token: token, body: #"{"since":"yesterday"}"#)
        #expect(bad.status == 422 && bad.code == "validation_failed")
        let both = await harness.send("POST", "/v1/webhooks/\(id)/replay", token: token, body: #"{"since":"\#(since)","from_offset":0}"#)
        #expect(both.status == 422 && both.code == "validation_failed")
    }

    @Test func historyKeepsTheFirstFourKiBOfABodyAndNumbersAttemptsAcrossRetriesAndAManualRetry() async throws {
        let harness = try DeliveryTests.harness()
        defer { harness.close(); harness.removeDirectory() }
        try await harness.service.startDelivery()
        let token = try await harness.token(organization: "org_a")
        // 10,000 bytes, ASCII for the first event; 3-byte characters for the second (4096 is not a multiple of 3).
        let asciiBody = Array((0..<10_000).map { UInt8(ascii: "a") + UInt8($0 % 26) })
        let wideBody = Array(String(repeating: "€", count: 3_334).utf8)
        let failing = Atomic<Bool>(true)
        let receiver = try Receiver { request, _ in
            let n = (try? JSONParser.parse(request.body))?["data"]?["n"]?.int64Value ?? -1
            guard failing.load(ordering: .relaxed) else { return HTTPResponse(status: 200, body: Array("ok".utf8)) }
            return HTTPResponse(status: 500, body: n == 0 ? asciiBody : wideBody)
        }
        let (id, _) = try await DeliveryTests.create(harness, token: token, url: receiver.url, types: #"["user.login"]"#,
                                                     extra: #","retry":{"max_retries":1,"initial_delay_ms":100,"max_delay_ms":100}"#)
        let first = try await Self.publish(harness, token: token, n: 0)
        _ = try await Self.publish(harness, token: token, n: 1)
        let history = harness.service.dispatcher.history
        #expect(await eventually { history.statistics(webhookID: id).failed == 2 }, "both deliveries used their retries")
        let failed = await harness.send("GET", "/v1/webhooks/\(id)/deliveries?status=failed", token: token)
        let records = try #require(failed.json?["data"]?.arrayValue)
        #expect(records.count == 2)
        let ascii = try #require(records.first { $0["offset"]?.int64Value == first.offset })
        let wide = try #require(records.first { $0["offset"]?.int64Value != first.offset })
        let asciiAttempts = try #require(ascii["attempts"]?.arrayValue)
        #expect(asciiAttempts.compactMap { $0["attempt"]?.int64Value } == [1, 2])
        for attempt in asciiAttempts {
            let kept = Array((attempt["response_body"]?.stringValue ?? "").utf8)
            #expect(kept.count == 4096 && kept == Array(asciiBody.prefix(4096)), "the first 4,096 bytes, exactly: \(kept.count) bytes")
        }
        #expect(DeliveryLimits.Attempts.responseBodySizeBytesMax == 4096)
        for attempt in wide["attempts"]?.arrayValue ?? [] {
            let kept = Array((attempt["response_body"]?.stringValue ?? "").utf8)
            #expect(kept.count <= 4096 && kept.count >= 4094, "at most 4 KiB, cut at a character boundary: \(kept.count) bytes")
            let isPrefix = Array(wideBody.prefix(kept.count)) == kept
            #expect(isPrefix, "a prefix of the body, no replacement character")
        }

        // A manual retry continues the numbering: attempt 3, in the history and in the x-argus-attempt header.
        failing.store(false, ordering: .relaxed)
        let deliveryID = try #require(ascii["id"]?.stringValue)
        let retry = await harness.send("POST", "/v1/webhooks/\(id)/deliveries/\(deliveryID)/retry", token: token)
        #expect(retry.status == 202)
        #expect(await eventually { history.delivery(deliveryID, webhookID: id)?.status == .succeeded }, "the manual retry succeeded")
        let record = await harness.send("GET", "/v1/webhooks/\(id)/deliveries?status=succeeded", token: token).json?["data"]?.arrayValue?.first
        #expect(record?["id"]?.stringValue == deliveryID)
        #expect(record?["attempts"]?.arrayValue?.compactMap { $0["attempt"]?.int64Value } == [1, 2, 3])
        #expect(record?["attempts"]?.arrayValue?.last?["response_body"]?.stringValue == "ok")
        let headers = receiver.received.filter { $0.deliveryID == deliveryID }.compactMap { $0.headers["x-argus-attempt"] }
        #expect(headers == ["1", "2", "3"], "the receiver saw attempts 1, 2 and 3 of one delivery id")
    }

    @Test func aWebhookFailingForTheDocumentedFiveDaysIsDisabledAndSaysWhy() async throws {
        // The wall clock, shifted by hand: the engine sees days pass while the receiver answers 500.
        let shiftMs = Atomic<Int64>(0)
        let harness = try ServiceHarness(configure: { configuration in
            configuration.targetGuard = TargetGuard(allowsHTTP: true, allowedCIDRs: [CIDR("127.0.0.0/8")].compactMap { $0 })
            configuration.nowMs = { Self.wallClockMs + shiftMs.load(ordering: .relaxed) }
        })
        defer { harness.close(); harness.removeDirectory() }
        #expect(harness.service.configuration.autoDisableSeconds == 5 * 86_400, "the documented default: 5 days")
        try await harness.service.startDelivery()
        let token = try await harness.token(organization: "org_a")
        let receiver = try Receiver { _, _ in HTTPResponse(status: 500) }
        let (id, _) = try await DeliveryTests.create(harness, token: token, url: receiver.url, types: #"["user.login"]"#,
                                                     extra: #","retry":{"max_retries":10,"initial_delay_ms":100,"max_delay_ms":100}"#)
        _ = try await Self.publish(harness, token: token, n: 0)
        // The failure handled (not only received) before the clock moves: the streak starts now.
        #expect(await eventually { harness.service.dispatcher.history.statistics(webhookID: id).consecutiveFailures >= 1 },
                "failing from now on")
        // An hour short of five days: a new event fails twice. Its second attempt was sent after the first one's
        // answer was handled on the moved clock, which a disabled webhook never does.
        shiftMs.store((5 * 24 - 1) * 3_600_000, ordering: .relaxed)
        let short = try await Self.publish(harness, token: try await harness.token(organization: "org_a"), n: 10)  // tokens last an hour
        #expect(await receiver.wait { deliveries in
            deliveries.filter { $0.offset == short.offset }.count >= 2 || harness.service.webhooks.get(id)?.status != .enabled
        }, "a new delivery failed twice after the clock moved")
        #expect(harness.service.webhooks.get(id)?.status == .enabled, "not disabled before five days")
        // Past five days: the failure of the next event disables it.
        shiftMs.store((5 * 24 + 1) * 3_600_000, ordering: .relaxed)
        let renewed = try await harness.token(organization: "org_a")
        _ = try await Self.publish(harness, token: renewed, n: 11)
        let disabled = await eventually { harness.service.webhooks.get(id)?.status == .disabled }
        let statsText = String(decoding: await harness.send("GET", "/v1/webhooks/\(id)/stats", token: renewed).response.body, as: UTF8.self)
        #expect(disabled, "disabled after five days of failures; stats: \(statsText); received \(receiver.received.compactMap(\.offset))")
        let shown = await harness.send("GET", "/v1/webhooks/\(id)", token: renewed)
        #expect(shown.json?["status"]?.stringValue == "disabled")
        #expect(shown.json?["status_reason"]?.stringValue?.contains("failing continuously since") == true,
                "\(String(decoding: shown.response.body, as: UTF8.self))")
        // Operators learn of it as an operational event in the organization.
        #expect(await eventually {
            let events = await harness.send("GET", "/v1/events?type=webhook.disabled", token: renewed).json?["data"]?.arrayValue ?? []
            return events.contains { $0["data"]?["webhook_id"]?.stringValue == id && $0["data"]?["reason"]?.stringValue?.contains("failing") == true }
        }, "webhook.disabled with the reason")
    }
}
