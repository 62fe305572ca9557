import Foundation
import HTTPServer
import JSON
import Testing
@testable import Service

/// Requests that try to make the API do too much: huge pages, bodies before credentials.
@Suite(.timeLimit(.minutes(3))) struct HostileInputTests {
    @Test func aListPageHoldsAtMostFourMebibytesOfJSON() async throws {
        let harness = try ServiceHarness()
        defer { harness.close(); harness.removeDirectory() }
        let token = try await harness.token(organization: "org_a")
        let filler = String(repeating: "x", count: 200 * 1024)
        for _ in 0..<30 {
            let reply = await harness.send("POST", "/v1/events", token: token, body: #"{"type":"user.created","data":{"x":"\#(filler)"}}"#)
            #expect(reply.status == 201)
        }
        var after: Int64?
        var seen = 0
        var pages = 0
        while pages < 30 {
            let reply = await harness.send("GET", "/v1/events?limit=1000" + (after.map { "&after=\($0)" } ?? ""), token: token)
            #expect(reply.status == 200)
            #expect(reply.response.body.count <= ServiceLimits.Pages.sizeBytesMax + 1024, "page of \(reply.response.body.count) bytes")
            let data = reply.json?["data"]?.arrayValue ?? []
            #expect(!data.isEmpty)
            seen += data.count
            pages += 1
            guard let next = reply.json?["next_after"]?.int64Value else { break }
            #expect(next == data.last?["offset"]?.int64Value, "next_after is the last listed offset")
            after = next
        }
        #expect(seen == 31, "every event (30 and the client registration) is listed once")
        #expect(pages >= 2, "30 events of 200 KB do not fit one page")
    }

    @Test func theBodyOfAnExpectContinueRequestWaitsForTheToken() async throws {
        let harness = try ServiceHarness()
        defer { harness.close(); harness.removeDirectory() }
        let token = try await harness.token(organization: "org_a", scopes: ["events:read"])
        func decision(_ method: String, _ target: String, token: String?) async -> HTTPResponse? {
            var headers = HTTPHeaders([("Expect", "100-continue"), ("Content-Length", "10")])
            if let token { headers.add("Authorization", "Bearer \(token)") }
            return await harness.router.continueDecision(HTTPRequest(method: method, target: target, headers: headers))
        }
        #expect(await decision("POST", "/v1/events", token: nil)?.status == 401)
        #expect(await decision("POST", "/v1/events", token: "at_wrong")?.status == 401)
        #expect(await decision("POST", "/v1/events", token: token)?.status == 403, "events:read cannot publish")
        #expect(await decision("POST", "/v1/nowhere", token: token)?.status == 404)
        let publisher = try await harness.token(organization: "org_a", scopes: ["events:publish"])
        #expect(await decision("POST", "/v1/events", token: publisher) == nil, "a publisher may send the body")
        #expect(await decision("POST", "/v1/events/batch", token: publisher) == nil)
        #expect(await decision("POST", "/v1/webhooks", token: publisher)?.status == 403)
    }

    @Test func theConnectionCapLeavesRoomForDeliveriesAndFiles() {
        #expect(ServiceLimits.Connections.countMax(descriptorLimit: 1024) == 512)
        #expect(ServiceLimits.Connections.countMax(descriptorLimit: 10_000) == 10_000 - 2304)
        #expect(ServiceLimits.Connections.countMax(descriptorLimit: 1_048_576) == ServiceLimits.Connections.countCeiling)
        #expect(ServiceLimits.Connections.countMax(descriptorLimit: 20) == 16)
        for limit in [64, 256, 1024, 4096, 65_536] {
            #expect(ServiceLimits.Connections.countMax(descriptorLimit: limit) < limit)
        }
    }
}
