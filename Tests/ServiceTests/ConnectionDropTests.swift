import Delivery
import Foundation
import JSON
import Testing
@testable import Service

/// Ordered and unordered webhooks against a receiver that drops a share of its connections (before
/// reading the body, after reading it, in the middle of its answer): every drop is one failed attempt
/// with `connection_closed` in the history, retried on the normal schedule; the receiver never sees a
/// request that was not an attempt; an ordered webhook keeps its order.
@Suite(.serialized) struct ConnectionDropTests {
    /// Requests 2, 3 and 4 of every 5 are dropped, one way each; the others are answered 204.
    static func plan(_ number: Int) -> DroppingReceiver.Action {
        switch number % 5 {
        case 2: .closeBeforeBody
        case 3: .closeAfterBody
        case 4: .closeMidResponse
        default: .respond(204)
        }
    }

    @Test(.timeLimit(.minutes(2)), arguments: [true, false])
    func dropsFailOneAttemptEachAndAreRetried(ordered: Bool) async throws {
        // A 60 s attempt deadline: a drop noticed only at the deadline would not finish within the time limit.
        let harness = try DeliveryTests.harness(attemptTimeoutSeconds: 60)
        defer { harness.close(); harness.removeDirectory() }
        try await harness.service.startDelivery()
        let token = try await harness.token(organization: "org_a")
        let receiver = try DroppingReceiver(plan: Self.plan)
        defer { receiver.stop() }
        let (id, _) = try await DeliveryTests.create(harness, token: token, url: receiver.url, types: #"["user.*"]"#,
                                                     extra: #","ordered":\#(ordered),"retry":{"max_retries":10,"initial_delay_ms":100,"max_delay_ms":200}"#)
        let count = 20
        var offsets: [Int64] = []
        for number in 0..<count {
            let reply = await harness.send("POST", "/v1/events", token: token, body: #"{"type":"user.login","data":{"n":\#(number)}}"#)
            offsets.append(try #require(reply.json?["offset"]?.int64Value))
        }
        let settled = await receiver.wait(seconds: 90) { _ in
            harness.service.dispatcher.history.statistics(webhookID: id).succeeded == count
        }
        #expect(settled, "every event acknowledged")
        let requests = receiver.requests
        let history = await harness.send("GET", "/v1/webhooks/\(id)/deliveries?limit=1000", token: token)
        let records = try #require(history.json?["data"]?.arrayValue)
        let attempts = records.flatMap { $0["attempts"]?.arrayValue ?? [] }
        // The receiver saw exactly the attempts: one request per attempt, each (delivery, attempt) once, each with its body.
        #expect(requests.count == attempts.count, "\(requests.count) requests for \(attempts.count) attempts")
        let keys = requests.map { "\($0.deliveryID ?? "?")#\($0.attempt ?? -1)" }
        #expect(Set(keys).count == keys.count, "no request sent twice")
        #expect(requests.filter { $0.action.readsBody }.allSatisfy { $0.complete }, "no request without its body")
        // Each drop is one failed attempt, named as such; none waited for the deadline.
        let failed = attempts.filter { $0["status_code"]?.int64Value == nil }
        #expect(failed.count == requests.filter { if case .respond = $0.action { false } else { true } }.count)
        #expect(!failed.isEmpty)
        for attempt in failed {
            let error = attempt["error"]?.stringValue ?? ""
            #expect(error.hasPrefix("connection_closed: the receiver closed the connection"), "\(error)")
            // Seen at once, not at the 60 s deadline (the bound is coarse on purpose: it tells the two apart on a
            // loaded machine, it does not measure speed).
            let duration: Double = if case .number(let text) = attempt["duration_ms"] { Double(text) ?? .infinity } else { .infinity }
            #expect(duration < 10_000, "a drop was noticed after \(duration) ms")
        }
        // And the retry follows on the schedule (at most 200 ms), never after a stall of the deadline's order.
        for record in records {
            let starts = (record["attempts"]?.arrayValue ?? []).compactMap { $0["started_at_ms"]?.int64Value }
            for (earlier, later) in zip(starts, starts.dropFirst()) {
                #expect(later - earlier < 10_000, "\(later - earlier) ms between two attempts of one delivery")
            }
        }
        let acknowledged = requests.filter { if case .respond = $0.action { true } else { false } }
        let acknowledgedOffsets = acknowledged.compactMap { request in
            (try? JSONParser.parse(request.body))?["offset"]?.int64Value
        }
        #expect(Set(acknowledgedOffsets) == Set(offsets))
        if ordered {
            let sent = requests.compactMap { (try? JSONParser.parse($0.body))?["offset"]?.int64Value }
            #expect(sent == sent.sorted(), "an ordered webhook sends in offset order, retries included")
            #expect(acknowledgedOffsets == offsets, "and acknowledges each event once, in order")
        }
    }
}
