import EventLog
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import JSON
@testable import Service
import Testing

/// `ArgusServer`: start on a free port, serve, shut down (run() returns, the directory is released);
/// the offline views (`WebhookCursor`, `EventRules`) the CLI calls.
@Suite(.timeLimit(.minutes(1)))
struct ArgusServerTests {
    static func temporaryDirectory() -> String { NSTemporaryDirectory() + "argus-server-\(UUID().uuidString.prefix(8))" }

    static func configuration(_ directory: String) -> ArgusServer.Configuration {
        var service = ServiceConfiguration(dataDirectory: directory)
        service.logOptions.fsyncPolicy = .none
        var configuration = ArgusServer.Configuration(service: service)
        configuration.port = 0
        configuration.shutdownGraceSeconds = 1
        return configuration
    }

    @Test func startsServesAndShutsDownReleasingTheDirectory() async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try ArgusServer(configuration: Self.configuration(directory))
        let started = try await server.start()
        #expect(started.port > 0)
        #expect(started.baseURL == "http://127.0.0.1:\(started.port)")
        #expect(started.createdAdmin != nil)
        let (data, response) = try await URLSession.shared.data(from: URL(string: started.baseURL + "/healthz")!)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        #expect(try JSONParser.parse([UInt8](data))["status"]?.stringValue == "ok")

        async let ran: Void = server.run()
        await server.shutdown()
        await ran
        await server.shutdown()

        // Released: a second server opens the same directory, and creates no second admin.
        let reopened = try ArgusServer(configuration: Self.configuration(directory))
        let again = try await reopened.start()
        #expect(again.createdAdmin == nil)
        await reopened.shutdown()
    }

    @Test func aSecondServerOnTheSameDirectoryIsRefused() async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try ArgusServer(configuration: Self.configuration(directory))
        #expect {
            _ = try ArgusServer(configuration: Self.configuration(directory))
        } throws: { error in
            guard case .locked = error as? EventLogError else { return false }
            return true
        }
        await server.shutdown()
    }

    @Test func webhookCursorsReportCursorHeadAndLagWithoutALock() async throws {
        let harness = try ServiceHarness()
        defer { harness.removeDirectory() }
        let token = try await harness.token(organization: "org_a")
        let created = await harness.createWebhook(token: token)
        #expect(created.status == 201)
        for _ in 0..<3 {
            _ = await harness.send("POST", "/v1/events", token: token, body: #"{"type":"user.created","data":{}}"#)
        }
        let rows = try WebhookCursor.all(layout: harness.service.configuration.layout)
        #expect(rows.count == 1)
        #expect(rows.first?.organizationID == "org_a")
        #expect(rows.first?.webhookID == created.json?["id"]?.stringValue)
        #expect(rows.first.map { $0.head >= 3 && $0.lag == $0.head - $0.cursor && $0.status == .enabled } == true)
        harness.close()
    }

    @Test func theRetentionFloorIsTheLowestCursorOrTheHead() async throws {
        let harness = try ServiceHarness()
        defer { harness.close(); harness.removeDirectory() }
        let token = try await harness.token(organization: "org_a")
        for _ in 0..<3 { _ = await harness.send("POST", "/v1/events", token: token, body: #"{"type":"user.created","data":{}}"#) }
        let head = harness.service.log.nextOffset
        #expect(harness.service.consumersFloor == head, "no webhook: nothing holds segments back")
        let created = await harness.createWebhook(token: token)
        let id = try #require(created.json?["id"]?.stringValue)
        #expect(harness.service.consumersFloor == head, "a new webhook starts at the head")
        try await harness.service.cursors.commit(id, offset: 1)
        #expect(harness.service.consumersFloor == 1)
    }

    @Test func onlyTheBatchRouteTakesLargeBodies() {
        #expect(ServiceLimits.RequestBody.sizeBytesMax(method: "POST", path: "/v1/events/batch") == ServiceLimits.RequestBody.batchSizeBytesMax)
        #expect(ServiceLimits.RequestBody.sizeBytesMax(method: "POST", path: "/v1/events") == ServiceLimits.RequestBody.sizeBytesMax)
        #expect(ServiceLimits.RequestBody.sizeBytesMax(method: "PATCH", path: "/v1/webhooks/wh_1") == ServiceLimits.RequestBody.sizeBytesMax)
    }

    @Test func eventRulesAnswerAsTheAPIDoes() throws {
        #expect(throws: APIError.self) { try EventRules.checkType("User.Created", context: "x") }
        #expect(throws: APIError.self) { try EventRules.checkType("user.no_such_thing", context: "x") }
        #expect(throws: APIError.self) { try EventRules.checkOrganization("", context: "x") }
        #expect(throws: APIError.self) { _ = try EventRules.checkedData(Array("[1]".utf8), context: "x") }
        #expect(throws: APIError.self) { _ = try EventRules.checkedData(Array("{".utf8), context: "x") }
        let big = Array(("{\"a\":\"" + String(repeating: "x", count: ServiceLimits.Events.dataSizeBytesMax) + "\"}").utf8)
        do {
            _ = try EventRules.checkedData(big, context: "x")
            Issue.record("oversized data accepted")
        } catch {
            #expect(error.status == 413)
        }
        #expect(try EventRules.checkedData(Array(#"{"a": 1}"#.utf8), context: "x") == Array(#"{"a": 1}"#.utf8))
        try EventRules.checkType("user.created", context: "x")
    }
}
