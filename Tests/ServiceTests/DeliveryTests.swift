import HTTPClient
import Crypto
import Delivery
import EventLog
import Foundation
import HTTPServer
import JSON
import Synchronization
import Testing
import WebhookSigning
@testable import Service

/// End-to-end delivery through real sockets to receivers on 127.0.0.1.
@Suite(.serialized, .timeLimit(.minutes(5)), .stopsReceivers) struct DeliveryTests {
    static func harness(attemptTimeoutSeconds: Double = 15, resolver: (@Sendable (String) async -> [IPAddress])? = nil) throws -> ServiceHarness {
        try ServiceHarness(configure: { configuration in
            configuration.targetGuard = TargetGuard(allowsHTTP: true, allowedCIDRs: [CIDR("127.0.0.0/8")].compactMap { $0 },
                                                    resolver: resolver ?? { await TargetGuard.resolve($0) })
            configuration.deliveryAttemptTimeoutSeconds = attemptTimeoutSeconds
            configuration.nowMs = { Int64(Date().timeIntervalSince1970 * 1000) }
        })
    }

    static func create(_ harness: ServiceHarness, token: String, url: String, types: String, extra: String = "") async throws -> (String, String) {
        let reply = await harness.send("POST", "/v1/webhooks", token: token,
                                       body: #"{"url":"\#(url)","event_types":\#(types)\#(extra)}"#)
        let id = try #require(reply.json?["id"]?.stringValue, "\(String(decoding: reply.response.body, as: UTF8.self))")
        return (id, try #require(reply.json?["secret"]?.stringValue))
    }

    @Test func eventsOfThreeOrganizationsReachFiveWebhooksExactlyWhereTheyBelongSigned() async throws {
        let harness = try Self.harness()
        defer { harness.close(); harness.removeDirectory() }
        try await harness.service.startDelivery()
        let admin = try await harness.token(organization: "platform", scopes: ["platform:admin"])
        let organizations = ["org_a", "org_b", "org_c"]
        var tokens: [String: String] = [:]
        for organization in organizations { tokens[organization] = try await harness.token(organization: organization) }
        let receiver = try Receiver()
        // (path, organization token, filters): five different subscriptions.
        let specs: [(String, String, String, String)] = [
            ("a-all", "org_a", #"["*"]"#, ""), ("a-security", "org_a", #"["security.*"]"#, ""),
            ("b-login", "org_b", #"["user.login","user.login_failed"]"#, ""), ("c-all-ordered", "org_c", #"["*"]"#, #","ordered":true"#),
            ("global-lockouts", "platform", #"["security.account_locked"]"#, #","organization_id":"*""#),
        ]
        var webhooks: [(path: String, id: String, secret: String, organization: String, filters: [String])] = []
        for (path, organization, filters, extra) in specs {
            let token = organization == "platform" ? admin : tokens[organization] ?? ""
            let (id, secret) = try await Self.create(harness, token: token, url: "http://127.0.0.1:\(receiver.port)/\(path)",
                                                     types: filters, extra: extra)
            let parsed = try #require(try JSONParser.parse(Array(filters.utf8)).arrayValue).compactMap(\.stringValue)
            webhooks.append((path, id, secret, organization == "platform" ? "*" : organization, parsed))
        }
        let types = ["user.login", "user.login_failed", "security.account_locked", "security.suspicious_login", "mfa.enabled"]
        var published: [(offset: Int64, organization: String, type: String)] = []
        for batchStart in stride(from: 0, to: 1000, by: 100) {
            let events = (batchStart..<(batchStart + 100)).map { number in
                #"{"type":"\#(types[number % types.count])","organization_id":"\#(organizations[number % 3])","data":{"n":\#(number)}}"#
            }
            let reply = await harness.send("POST", "/v1/events/batch", token: admin, body: #"{"events":[\#(events.joined(separator: ","))]}"#)
            let offsets = try #require(reply.json?["events"]?.arrayValue).compactMap { $0["offset"]?.int64Value }
            for (index, offset) in offsets.enumerated() {
                let number = batchStart + index
                published.append((offset, organizations[number % 3], types[number % types.count]))
            }
        }
        var expected: [String: Set<Int64>] = [:]
        for webhook in webhooks {
            expected[webhook.path] = Set(published.filter { event in
                (webhook.organization == "*" || webhook.organization == event.organization)
                    && webhook.filters.contains { EventType.matches(event.type, pattern: $0) }
            }.map(\.offset))
        }
        let total = expected.values.reduce(0) { $0 + $1.count }
        #expect(await receiver.wait(seconds: 60) { $0.count >= total })
        #expect(await DeliveryPromiseTests.settled(harness, webhooks.map(\.id)), "every lane settled: nothing more will be sent")
        let received = receiver.received
        #expect(received.count == total, "no duplicates and nothing extra")
        for webhook in webhooks {
            let mine = received.filter { $0.path == "/" + webhook.path }
            #expect(Set(mine.compactMap(\.offset)) == expected[webhook.path], "\(webhook.path)")
            let verifier = WebhookVerifier(secret: try WebhookSecret(parsing: webhook.secret))
            for delivery in mine {
                let fields = delivery.headers.map { HeaderField(name: $0.name, value: $0.value) }
                #expect(throws: Never.self) { _ = try verifier.verify(body: delivery.body, headers: fields, now: Date()) }
                #expect(delivery.headers["x-argus-delivery"] == delivery.deliveryID)
                #expect(delivery.deliveryID == DeliveryID.make(webhookID: webhook.id, offset: UInt64(delivery.offset ?? -1)))
                #expect(delivery.json?["delivery_id"]?.stringValue == delivery.deliveryID)
            }
        }
        let ordered = received.filter { $0.path == "/c-all-ordered" }.compactMap(\.offset)
        #expect(ordered == ordered.sorted(), "the ordered webhook received in offset order")
        let stats = await harness.send("GET", "/v1/webhooks/\(webhooks[0].id)/stats", token: tokens["org_a"])
        #expect(stats.json?["succeeded"]?.int64Value == Int64(expected["a-all"]?.count ?? -1))
        #expect(stats.json?["failed"]?.int64Value == 0)
        #expect(stats.json?["success_rate"] == .number("1.0000"))
        // Every event was either delivered or not for this webhook: its cursor reached the head.
        var lag: Int64? = nil
        for _ in 0..<100 {
            lag = await harness.send("GET", "/v1/webhooks/\(webhooks[0].id)/stats", token: tokens["org_a"]).json?["lag"]?.int64Value
            if lag == 0 { break }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        #expect(lag == 0)
    }

    @Test func aFlakyReceiverStillGetsEveryEventAndRetriesKeepTheirIds() async throws {
        let harness = try Self.harness(attemptTimeoutSeconds: 1)
        defer { harness.close(); harness.removeDirectory() }
        try await harness.service.startDelivery()
        let token = try await harness.token(organization: "org_a")
        // Every other request fails: 500, a hang past the deadline, 503 with Retry-After, a 302.
        let receiver = try Receiver { request, number in
            switch number % 8 {
            case 1: return HTTPResponse(status: 500, body: Array("boom".utf8))
            case 3:
                try? await Task.sleep(nanoseconds: 1_500_000_000)
                return HTTPResponse(status: 200)
            case 5: return HTTPResponse(status: 503, headers: HTTPHeaders([("Retry-After", "0")]))
            case 7: return HTTPResponse(status: 302, headers: HTTPHeaders([("Location", "/elsewhere")]))
            default: return HTTPResponse(status: 200)
            }
        }
        let (id, _) = try await Self.create(harness, token: token, url: receiver.url, types: #"["user.*"]"#,
                                            extra: #","retry":{"max_retries":10,"initial_delay_ms":100,"max_delay_ms":300}"#)
        var offsets: [Int64] = []
        for number in 0..<100 {
            let reply = await harness.send("POST", "/v1/events", token: token, body: #"{"type":"user.login","data":{"n":\#(number)}}"#)
            offsets.append(try #require(reply.json?["offset"]?.int64Value))
        }
        let acknowledged = { (deliveries: [Receiver.Delivery]) -> Set<Int64> in
            Set(deliveries.enumerated().filter { [0, 2, 4, 6].contains(($0.offset + 1) % 8) }.compactMap { $0.element.offset })
        }
        #expect(await receiver.wait(seconds: 60) { acknowledged($0).isSuperset(of: offsets) })
        let received = receiver.received
        #expect(!received.contains { $0.path == "/elsewhere" }, "redirects are never followed")
        var idsByOffset: [Int64: Set<String>] = [:]
        for delivery in received { if let offset = delivery.offset, let id = delivery.deliveryID { idsByOffset[offset, default: []].insert(id) } }
        #expect(!idsByOffset.isEmpty && idsByOffset.values.allSatisfy { $0.count == 1 }, "retries reuse the delivery id")
        let attempts = received.compactMap { $0.headers["x-argus-attempt"] }.compactMap(Int.init)
        #expect(attempts.contains { $0 > 1 })
        let history = await harness.send("GET", "/v1/webhooks/\(id)/deliveries?limit=1000", token: token)
        let records = try #require(history.json?["data"]?.arrayValue)
        let codes = Set(records.flatMap { $0["attempts"]?.arrayValue ?? [] }.compactMap { $0["status_code"]?.int64Value })
        #expect(codes.isSuperset(of: [200, 500, 503, 302]))
        #expect(records.flatMap { $0["attempts"]?.arrayValue ?? [] }.contains { $0["error"]?.stringValue?.hasPrefix("timed_out: ") == true })
    }

    @Test func anExhaustedOrderedWebhookPausesAndResumesWithoutAGap() async throws {
        let harness = try Self.harness()
        defer { harness.close(); harness.removeDirectory() }
        try await harness.service.startDelivery()
        let token = try await harness.token(organization: "org_a")
        let failing = Atomic<Bool>(true)
        let receiver = try Receiver { request, _ in
            let body = (try? JSONParser.parse(request.body))?["data"]?["n"]?.int64Value ?? -1
            return body == 5 && failing.load(ordering: .relaxed) ? HTTPResponse(status: 500) : HTTPResponse(status: 200)
        }
        let (id, _) = try await Self.create(harness, token: token, url: receiver.url, types: #"["user.login"]"#,
                                            extra: #","ordered":true,"retry":{"max_retries":1,"initial_delay_ms":100,"max_delay_ms":100}"#)
        for number in 0..<10 {
            #expect(await harness.send("POST", "/v1/events", token: token, body: #"{"type":"user.login","data":{"n":\#(number)}}"#).status == 201)
        }
        let paused = await receiver.wait(seconds: 20) { _ in harness.service.webhooks.get(id)?.status == .paused }
        #expect(paused)
        let numbers = { (deliveries: [Receiver.Delivery]) in deliveries.compactMap { $0.json?["data"]?["n"]?.int64Value } }
        #expect(numbers(receiver.received) == [0, 1, 2, 3, 4, 5, 5], "nothing after the stuck event")
        failing.store(false, ordering: .relaxed)
        #expect(await harness.send("PATCH", "/v1/webhooks/\(id)", token: token, body: #"{"status":"enabled"}"#).status == 200)
        #expect(await receiver.wait(seconds: 20) { numbers($0).last == 9 })
        #expect(numbers(receiver.received) == [0, 1, 2, 3, 4, 5, 5, 5, 6, 7, 8, 9], "in order, no gap")
    }

    @Test func aTargetThatLaterResolvesToAPrivateAddressIsRefusedAtDelivery() async throws {
        let resolvesPrivately = Atomic<Bool>(false)
        let receiver = try Receiver()
        // The guard allows only 127.0.0.2/32 here; "hooks.test" first resolves there, then to 10.0.0.1.
        let harness = try ServiceHarness(configure: { configuration in
            configuration.targetGuard = TargetGuard(allowsHTTP: true, allowedCIDRs: [CIDR("127.0.0.1/32")].compactMap { $0 }) { host in
                host == "hooks.test" ? [IPAddress(resolvesPrivately.load(ordering: .relaxed) ? "10.0.0.1" : "127.0.0.1")].compactMap { $0 } : []
            }
            configuration.nowMs = { Int64(Date().timeIntervalSince1970 * 1000) }
        })
        defer { harness.close(); harness.removeDirectory() }
        try await harness.service.startDelivery()
        let token = try await harness.token(organization: "org_a")
        let (id, _) = try await Self.create(harness, token: token, url: "http://hooks.test:\(receiver.port)/hook", types: #"["user.*"]"#,
                                            extra: #","retry":{"max_retries":0}"#)
        resolvesPrivately.store(true, ordering: .relaxed)
        #expect(await harness.send("POST", "/v1/events", token: token, body: #"{"type":"user.login","data":{}}"#).status == 201)
        let refused = await receiver.wait(seconds: 10) { _ in
            harness.service.dispatcher.history.statistics(webhookID: id).failed == 1
        }
        #expect(refused)
        #expect(receiver.received.isEmpty)
        let history = await harness.send("GET", "/v1/webhooks/\(id)/deliveries?status=failed", token: token)
        #expect(history.json?["data"]?.arrayValue?.first?["attempts"]?.arrayValue?.first?["error"]?.stringValue?.contains("target refused") == true)
    }

    @Test func replayResendsFromAnOffsetWithTheSameIdsAndTestEventsGoOnlyToTheirWebhook() async throws {
        let harness = try Self.harness()
        defer { harness.close(); harness.removeDirectory() }
        try await harness.service.startDelivery()
        let token = try await harness.token(organization: "org_a")
        let receiver = try Receiver()
        let (id, _) = try await Self.create(harness, token: token, url: receiver.url, types: #"["user.login"]"#)
        let (other, _) = try await Self.create(harness, token: token, url: receiver.url + "-other", types: #"["*"]"#)
        var offsets: [Int64] = []
        for number in 0..<5 {
            offsets.append(try #require(await harness.send("POST", "/v1/events", token: token, body: #"{"type":"user.login","data":{"n":\#(number)}}"#).json?["offset"]?.int64Value))
        }
        #expect(await receiver.wait { $0.filter { $0.path == "/hook" }.count == 5 })
        let replay = await harness.send("POST", "/v1/webhooks/\(id)/replay", token: token, body: #"{"from_offset":\#(offsets[2])}"#)
        #expect(replay.status == 202)
        #expect(await receiver.wait { $0.filter { $0.path == "/hook" }.count == 8 })
        var idsByOffset: [Int64: [String]] = [:]
        for delivery in receiver.received where delivery.path == "/hook" {
            idsByOffset[delivery.offset ?? -1, default: []].append(delivery.deliveryID ?? "")
        }
        for (index, offset) in offsets.enumerated() {
            let ids = idsByOffset[offset] ?? []
            #expect(ids.count == (index >= 2 ? 2 : 1), "offset \(offset) delivered \(ids.count) times")
            #expect(Set(ids).count == 1, "the same delivery id on replay")
        }
        let test = await harness.send("POST", "/v1/webhooks/\(id)/test", token: token)
        #expect(test.status == 202)
        #expect(await receiver.wait { $0.contains { $0.json?["type"]?.stringValue == "webhook.test" } })
        #expect(await DeliveryPromiseTests.settled(harness, [id, other]), "both lanes settled past the test event")
        let tests = receiver.received.filter { $0.json?["type"]?.stringValue == "webhook.test" }
        #expect(tests.count == 1 && tests[0].path == "/hook", "only the named webhook gets its test event")
        _ = other
    }

    @Test func a410DisablesTheWebhookAndAManualRetryAfterEnablingRedeliversTheSameID() async throws {
        let harness = try Self.harness()
        defer { harness.close(); harness.removeDirectory() }
        try await harness.service.startDelivery()
        let token = try await harness.token(organization: "org_a")
        let gone = Atomic<Bool>(true)
        let receiver = try Receiver { _, _ in HTTPResponse(status: gone.load(ordering: .relaxed) ? 410 : 200) }
        let (id, _) = try await Self.create(harness, token: token, url: receiver.url, types: #"["user.*"]"#)
        #expect(await harness.send("POST", "/v1/events", token: token, body: #"{"type":"user.login","data":{}}"#).status == 201)
        #expect(await receiver.wait { _ in harness.service.webhooks.get(id)?.status == .disabled })
        #expect(harness.service.webhooks.get(id)?.statusReason?.contains("410") == true)
        let failed = await harness.send("GET", "/v1/webhooks/\(id)/deliveries?status=failed", token: token)
        let deliveryID = try #require(failed.json?["data"]?.arrayValue?.first?["id"]?.stringValue)
        let refused = await harness.send("POST", "/v1/webhooks/\(id)/deliveries/\(deliveryID)/retry", token: token)
        #expect(refused.status == 409 && refused.json?["error"]?["code"]?.stringValue == "webhook_not_enabled")
        gone.store(false, ordering: .relaxed)
        #expect(await harness.send("PATCH", "/v1/webhooks/\(id)", token: token, body: #"{"status":"enabled"}"#).status == 200)
        let retry = await harness.send("POST", "/v1/webhooks/\(id)/deliveries/\(deliveryID)/retry", token: token)
        #expect(retry.status == 202)
        #expect(retry.json?["delivery_id"]?.stringValue == deliveryID)
        #expect(await receiver.wait { $0.count == 2 })
        #expect(receiver.received.map(\.deliveryID) == [deliveryID, deliveryID], "the same id, re-delivered")
        #expect(receiver.received.last?.headers["x-argus-attempt"] == "2")
        #expect(await receiver.wait { _ in harness.service.dispatcher.history.delivery(deliveryID, webhookID: id)?.status == .succeeded })
    }
}

/// Standard Webhooks v1a: an Ed25519 webhook shows only its public key, and its deliveries verify with it.
@Suite(.serialized, .timeLimit(.minutes(2)), .stopsReceivers) struct AsymmetricDeliveryTests {
    @Test(.timeLimit(.minutes(2))) func anEd25519WebhookDeliversV1aSignaturesThatItsPublicKeyVerifies() async throws {
        let harness = try DeliveryTests.harness()
        defer { harness.close(); harness.removeDirectory() }
        try await harness.service.startDelivery()
        let token = try await harness.token(organization: "org_a")
        let receiver = try Receiver()
        defer { Task { await receiver.stop() } }
        let created = await harness.send("POST", "/v1/webhooks", token: token,
                                         body: #"{"url":"\#(receiver.url)","event_types":["*"],"signature":"ed25519"}"#)
        #expect(created.status == 201)
        #expect(created.json?["secret"] == nil, "the private key never leaves the service")
        #expect(created.json?["signature"]?.stringValue == "ed25519")
        let id = try #require(created.json?["id"]?.stringValue)
        let publicKey = try WebhookPublicKey.parse(try #require(created.json?["public_key"]?.stringValue))
        let shown = await harness.send("GET", "/v1/webhooks/\(id)", token: token)
        #expect(shown.json?["public_key"] == created.json?["public_key"])
        let bad = await harness.send("POST", "/v1/webhooks", token: token,
                                     body: #"{"url":"\#(receiver.url)","event_types":["*"],"signature":"rsa"}"#)
        #expect(bad.status == 422)

        _ = await harness.send("POST", "/v1/events", token: token, body: #"{"type":"user.login","data":{"n":1}}"#)
        #expect(await receiver.wait { $0.count == 1 })
        let rotated = await harness.send("POST", "/v1/webhooks/\(id)/rotate-secret", token: token)
        #expect(rotated.status == 200 && rotated.json?["secret"] == nil)
        let newKey = try WebhookPublicKey.parse(try #require(rotated.json?["public_key"]?.stringValue))
        #expect(newKey != publicKey)
        _ = await harness.send("POST", "/v1/events", token: token, body: #"{"type":"user.login","data":{"n":2}}"#)
        #expect(await receiver.wait { $0.count == 2 })

        for (index, delivery) in receiver.received.enumerated() {
            let fields = delivery.headers.map { HeaderField(name: $0.name, value: $0.value) }
            #expect(delivery.headers["x-argus-signature"] == nil)
            let entries = (delivery.headers["webhook-signature"] ?? "").split(separator: " ")
            #expect(entries.count == index + 1 && entries.allSatisfy { $0.hasPrefix("v1a,") }, "after rotation: two entries")
            #expect(delivery.headers["svix-signature"] == delivery.headers["webhook-signature"])
            let keys = index == 0 ? [publicKey] : [newKey]
            #expect(throws: Never.self) {
                _ = try WebhookVerifier(secrets: [], publicKeys: keys).verify(body: delivery.body, headers: fields, now: Date())
            }
        }
        let second = try #require(receiver.received.last)
        let newest = try Base64.decode(String((second.headers["webhook-signature"] ?? "").split(separator: " ")[0].dropFirst(4)))
        let message = Array("\(second.headers["webhook-id"] ?? "").\(second.headers["webhook-timestamp"] ?? "").".utf8) + second.body
        #expect(newKey.isValidSignature(newest, for: message), "newest first")
    }
}
