import ArgusTestSupport
import Foundation
import HTTPClient
import HTTPServer
import JSON
import Testing
@testable import Service

/// Where a history request is forwarded: always to the lease holder's advertised address, whatever
/// the request target says; and not at all when this process delivers the webhook, or when the webhook
/// belongs to another organization than the token's.
@Suite(.stopsReceivers) struct EngineHistoryForwarderTests {
    static let holder = "http://10.1.2.3:8787"

    @Test func aPathGoesToTheHolderWithItsQuery() {
        let url = EngineHistoryForwarder.forwardURL(target: "/v1/webhooks/wh_1/deliveries?limit=5", holderAddress: Self.holder)
        #expect(url?.absoluteString == "http://10.1.2.3:8787/v1/webhooks/wh_1/deliveries?limit=5")
        #expect(EngineHistoryForwarder.forwardURL(target: "/v1/x", holderAddress: Self.holder + "/")?.absoluteString == "http://10.1.2.3:8787/v1/x")
    }

    @Test func aTargetNamingAnotherHostIsNotForwarded() {
        // Absolute form (accepted by the parser and routed by its path) and authority-like paths.
        for target in ["http://169.254.169.254/v1/webhooks/wh_1/deliveries", "//evil.example/v1/webhooks/wh_1/deliveries",
                       "*", "", "evil.example/v1"] {
            let url = EngineHistoryForwarder.forwardURL(target: target, holderAddress: Self.holder)
            #expect(url == nil || (url?.host == "10.1.2.3" && url?.port == 8787), "\(target) -> \(String(describing: url))")
        }
        #expect(EngineHistoryForwarder.forwardURL(target: "http://169.254.169.254/v1", holderAddress: Self.holder) == nil)
    }

    @Test func aHolderAddressThatIsNotPlainHTTPIsRefused() {
        #expect(EngineHistoryForwarder.forwardURL(target: "/v1/x", holderAddress: "https://10.1.2.3:8787") == nil)
        #expect(EngineHistoryForwarder.forwardURL(target: "/v1/x", holderAddress: "not a url") == nil)
        // An advertised address (a KV entry) with more than scheme, host and port would move the path.
        for address in ["http://10.1.2.3:8787?x=", "http://10.1.2.3:8787/p", "http://10.1.2.3:8787#f", "http://u:p@10.1.2.3:8787", "http://"] {
            #expect(EngineHistoryForwarder.forwardURL(target: "/v1/x", holderAddress: address) == nil, "\(address)")
        }
    }

    /// A holder advertising an IPv6 literal (`advertisedURL` brackets it) is reached at that address: the
    /// brackets stay in the URL, the host is the address, the port the holder's.
    @Test func anIPv6HolderAddressKeepsItsBrackets() throws {
        // The listening host as given to `serve --host` (brackets or not).
        for (listening, address) in [("::1", "::1"), ("[::1]", "::1"), ("fd00::a:1", "fd00::a:1")] {
            let advertised = EngineHistoryForwarder.advertisedURL(host: listening, port: 8787)
            #expect(advertised == "http://[\(address)]:8787")
            let url = try #require(EngineHistoryForwarder.forwardURL(target: "/v1/x?limit=5", holderAddress: advertised), "\(advertised)")
            #expect(url.absoluteString == "http://[\(address)]:8787/v1/x?limit=5" && url.port == 8787)
            let request = try #require(HTTPClient.Request(method: "GET", url: url, headers: [], body: .bytes([])))
            #expect(request.host == address && request.port == 8787 && request.target == "/v1/x?limit=5", "\(request.host) \(request.target)")
            #expect(request.hostHeader == "[\(address)]:8787")
        }
        // An IPv6 target naming another host is still not followed.
        #expect(EngineHistoryForwarder.forwardURL(target: "http://[fd00::9]/v1", holderAddress: "http://[::1]:8787") == nil)
    }

    /// A one-node nats-server, the engine bound to it, and another process: a receiver answering an empty history.
    struct EngineWithOtherProcess {
        let cluster: NATSServerCluster
        let engine: EngineBinding
        let other: Receiver

        static func start(otherHost: String = "127.0.0.1") async throws -> EngineWithOtherProcess {
            let cluster = try await NATSServerCluster(nodeCount: 1)
            do {
                let other = try Receiver(host: otherHost) { _, _ in .json(200, Array(#"{"data":[]}"#.utf8)) }
                return EngineWithOtherProcess(cluster: cluster, engine: try await EngineBinding.open(servers: cluster.url, logger: .discarding),
                                              other: other)
            } catch {
                cluster.stop()
                throw error
            }
        }

        /// Makes the engine's lease of `webhookID` name the other process (`other-process`), which advertises its
        /// address in the engine's `ARGUS_PROCESSES`: it delivers the webhook.
        func deliveredByOther(_ webhookID: String, advertising address: String? = nil) async throws {
            try await engine.leases.bucket.put(webhookID, Array("other-process".utf8))
            try await engine.processes.put("other-process", Array((address ?? "http://127.0.0.1:\(other.port)").utf8))
        }

        /// This process's forwarder (`this-process`).
        func forwarder() -> EngineHistoryForwarder {
            EngineHistoryForwarder(processes: engine.processes, leases: engine.leases.bucket, holder: "this-process")
        }

        /// A read of `wh_1`'s deliveries with a token.
        static let historyRead = HTTPRequest(method: "GET", target: "/v1/webhooks/wh_1/deliveries?limit=5",
                                             headers: HTTPHeaders([("Authorization", "Bearer tok_1")]))

        func stop() {
            engine.connection.close()
            cluster.stop()
        }
    }

    /// Against a real nats-server: the engine's lease bucket names another process, which answers at its
    /// advertised address; once this process's own lease book says it delivers the webhook, the request
    /// is answered here without a read of the engine's lease (or a request to the other process).
    @Test(.enabled(if: NATSServerCluster.unavailableReason == nil, "\(NATSServerCluster.unavailableReason ?? "")"), .timeLimit(.minutes(2)))
    func aWebhookDeliveredHereIsAnsweredHereWithoutAskingTheEngine() async throws {
        let setup = try await EngineWithOtherProcess.start()
        defer { setup.stop() }
        let (engine, other) = (setup.engine, setup.other)
        try await setup.deliveredByOther("wh_1")
        let (forwarder, request) = (setup.forwarder(), EngineWithOtherProcess.historyRead)

        let (forwarded, reason) = await forwarder.forward(request, webhookID: "wh_1")
        #expect(forwarded?.status == 200 && forwarded?.headers["Argus-Answered-By"] == "other-process" && reason == nil,
                "delivered elsewhere: forwarded to the lease holder (\(reason ?? "no reason"))")
        #expect(other.received.map(\.path) == ["/v1/webhooks/wh_1/deliveries"])
        #expect(other.received.first?.headers["authorization"] == "Bearer tok_1" && other.received.first?.headers["argus-forwarded"] == "1")

        forwarder.consultLocalLeases { $0 == "wh_1" }
        engine.connection.close()  // any read of the engine's lease would now fail: answered "local" with a reason
        let (local, localReason) = await forwarder.forward(request, webhookID: "wh_1")
        #expect(local == nil && localReason == nil, "delivered here: answered here, unmarked (\(localReason ?? "no reason"))")
        #expect(other.received.count == 1, "the other process was not asked")
        let (elsewhere, elsewhereReason) = await forwarder.forward(request, webhookID: "wh_2")
        #expect(elsewhere == nil && elsewhereReason != nil, "another webhook still asks the engine, which cannot answer now")
    }

    /// Against a real nats-server: the holder listens on [::1] and advertises `http://[::1]:PORT` (as
    /// `advertisedURL` writes it): the request reaches it there, with its path and query.
    @Test(.enabled(if: NATSServerCluster.unavailableReason == nil, "\(NATSServerCluster.unavailableReason ?? "")"), .timeLimit(.minutes(2)))
    func aHolderListeningOnIPv6LoopbackIsReached() async throws {
        let setup = try await EngineWithOtherProcess.start(otherHost: "::1")
        defer { setup.stop() }
        let other = setup.other
        try await setup.deliveredByOther("wh_1", advertising: EngineHistoryForwarder.advertisedURL(host: "::1", port: other.port))
        let (forwarder, request) = (setup.forwarder(), EngineWithOtherProcess.historyRead)
        let (forwarded, reason) = await forwarder.forward(request, webhookID: "wh_1")
        #expect(forwarded?.status == 200 && forwarded?.headers["Argus-Answered-By"] == "other-process" && reason == nil,
                "forwarded to the holder on [::1] (\(reason ?? "no reason"))")
        #expect(other.received.map(\.path) == ["/v1/webhooks/wh_1/deliveries"])
        #expect(other.received.first?.headers["host"] == "[::1]:\(other.port)")
    }

    /// Against a real nats-server: a token of one organization asking, at a process that does not deliver
    /// it, about another organization's webhook (delivered by another process) gets exactly the 404 of an
    /// id that does not exist: same status, code and headers, no `Argus-Answered-By`, no `Argus-History`
    /// (no lease was read), and nothing was forwarded. The owner's token still gets the holder's answer.
    @Test(.enabled(if: NATSServerCluster.unavailableReason == nil, "\(NATSServerCluster.unavailableReason ?? "")"), .timeLimit(.minutes(2)))
    func anotherOrganizationsWebhookIsNotFoundAndNotForwarded() async throws {
        let setup = try await EngineWithOtherProcess.start()
        defer { setup.stop() }
        let (engine, other) = (setup.engine, setup.other)
        let harness = try ServiceHarness { $0.engine = engine }
        defer { harness.close(); harness.removeDirectory() }
        let stranger = try await harness.token(organization: "org_a")
        let owner = try await harness.token(organization: "org_b")
        let id = try #require(await harness.createWebhook(token: owner).json?["id"]?.stringValue)
        try await setup.deliveredByOther(id)
        let unknown = "wh_" + String(repeating: "0", count: id.utf8.count - 3)

        /// Status, code, header names and body (the id in it replaced) of the answer for `webhookID`.
        func answer(_ method: String, _ suffix: String, about webhookID: String, token: String) async -> (Int, String?, [String], String) {
            let reply = await harness.send(method, "/v1/webhooks/\(webhookID)\(suffix)", token: token, body: method == "POST" ? "{}" : nil)
            let body = String(decoding: reply.response.body, as: UTF8.self).replacingOccurrences(of: webhookID, with: "{id}")
            return (reply.status, reply.code, reply.response.headers.map { $0.name.lowercased() }.sorted(), body)
        }
        for (method, suffix) in [("GET", "/deliveries"), ("GET", "/stats"), ("GET", "/stats/timeseries"),
                                 ("POST", "/deliveries/dlv_1/retry")] {
            let theirs = await answer(method, suffix, about: id, token: stranger)
            let missing = await answer(method, suffix, about: unknown, token: stranger)
            #expect(theirs.0 == 404 && theirs.1 == "not_found", "\(method) \(suffix): \(theirs)")
            #expect(theirs == missing, "\(method) \(suffix): another organization's webhook answers as an unknown id")
            #expect(!theirs.2.contains("argus-answered-by") && !theirs.2.contains("argus-history"), "\(method) \(suffix): \(theirs.2)")
        }
        #expect(other.received.isEmpty, "nothing was forwarded for another organization's webhook")

        let mine = await harness.send("GET", "/v1/webhooks/\(id)/deliveries", token: owner)
        #expect(mine.status == 200 && mine.response.headers["Argus-Answered-By"] == "other-process", "the owner's request is forwarded")
        #expect(other.received.map(\.path) == ["/v1/webhooks/\(id)/deliveries"])
    }
}
