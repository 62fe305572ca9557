import Testing
@testable import Service

@Suite(.timeLimit(.minutes(2))) struct IsolationTests {
    @Test func anotherOrganizationsWebhookAnswers404OnEveryRouteAndNothingChanges() async throws {
        let harness = try ServiceHarness()
        defer { harness.close(); harness.removeDirectory() }
        let tokenA = try await harness.token(organization: "org_a")
        let tokenB = try await harness.token(organization: "org_b")
        let created = await harness.createWebhook(token: tokenA)
        #expect(created.status == 201)
        let id = try #require(created.json?["id"]?.stringValue)
        let before = try #require(harness.service.webhooks.get(id))

        let attempts = [
            await harness.send("GET", "/v1/webhooks/\(id)", token: tokenB),
            await harness.send("PATCH", "/v1/webhooks/\(id)", token: tokenB, body: #"{"description":"mine now"}"#),
            await harness.send("POST", "/v1/webhooks/\(id)/rotate-secret", token: tokenB),
            await harness.send("GET", "/v1/webhooks/\(id)/deliveries", token: tokenB),
            await harness.send("GET", "/v1/webhooks/\(id)/stats", token: tokenB),
            await harness.send("POST", "/v1/webhooks/\(id)/replay", token: tokenB, body: #"{"from_offset":0}"#),
            await harness.send("POST", "/v1/webhooks/\(id)/test", token: tokenB),
            await harness.send("POST", "/v1/webhooks/\(id)/deliveries/00000000-0000-4000-8000-000000000000/retry", token: tokenB),
            await harness.send("DELETE", "/v1/webhooks/\(id)", token: tokenB),
        ]
        let offsetBefore = harness.service.log.nextOffset
        for reply in attempts {
            #expect(reply.status == 404 && reply.code == "not_found")
        }
        let missing = await harness.send("GET", "/v1/webhooks/wh_doesnotexist", token: tokenB)
        #expect(missing.status == 404 && missing.code == attempts[0].code, "a foreign id looks exactly like a missing one")
        #expect(harness.service.webhooks.get(id) == before, "nothing changed")
        #expect(harness.service.log.nextOffset == offsetBefore, "no test event was published for another organization's webhook")
        let listB = await harness.send("GET", "/v1/webhooks", token: tokenB)
        #expect(listB.json?["data"]?.arrayValue?.isEmpty == true)
        let listA = await harness.send("GET", "/v1/webhooks", token: tokenA)
        #expect(listA.json?["data"]?.arrayValue?.count == 1)
    }

    @Test func eventsStayInTheirOrganization() async throws {
        let harness = try ServiceHarness()
        defer { harness.close(); harness.removeDirectory() }
        let tokenA = try await harness.token(organization: "org_a")
        let tokenB = try await harness.token(organization: "org_b")
        #expect(await harness.send("POST", "/v1/events", token: tokenA, body: #"{"type":"user.created","data":{"secret":"a"}}"#).status == 201)
        let intoA = await harness.send("POST", "/v1/events", token: tokenB, body: #"{"type":"user.created","organization_id":"org_a","data":{}}"#)
        #expect(intoA.status == 403 && intoA.code == "forbidden_organization")
        let readB = await harness.send("GET", "/v1/events", token: tokenB)
        let eventsB = try #require(readB.json?["data"]?.arrayValue)
        #expect(!eventsB.isEmpty && eventsB.allSatisfy { $0["organization_id"]?.stringValue == "org_b" })
        #expect(!eventsB.contains { $0["type"]?.stringValue == "user.created" })
        let readAasB = await harness.send("GET", "/v1/events?organization_id=org_a", token: tokenB)
        #expect(readAasB.status == 403)
        let readA = await harness.send("GET", "/v1/events?type=user.*", token: tokenA)
        #expect(readA.json?["data"]?.arrayValue?.count == 1)
    }

    @Test func onlyPlatformAdminsSubscribeAcrossOrganizations() async throws {
        let harness = try ServiceHarness()
        defer { harness.close(); harness.removeDirectory() }
        let tenant = try await harness.token(organization: "org_a")
        let admin = try await harness.token(organization: "platform", scopes: ["platform:admin"])
        let refused = await harness.createWebhook(token: tenant, extra: #","organization_id":"*""#)
        #expect(refused.status == 403)
        let global = await harness.createWebhook(token: admin, extra: #","organization_id":"*""#)
        #expect(global.status == 201 && global.json?["organization_id"]?.stringValue == "*")
        let id = try #require(global.json?["id"]?.stringValue)
        #expect(await harness.send("GET", "/v1/webhooks/\(id)", token: tenant).status == 404)
        #expect(await harness.send("GET", "/v1/webhooks/\(id)", token: admin).status == 200)
    }
}
