import ArgusTestSupport
import Foundation
import HTTPServer
import JSON
import NATS
import Service
import Synchronization
import Testing

/// Two `serve --engine` processes against a real 3-node nats-server cluster on loopback: one service,
/// which loses no acknowledged event when the delivering `serve` and then a NATS node are killed under load.
/// Skipped, with the reason printed, when nats-server is not installed (Debian package nats-server).
@Suite(.serialized, .timeLimit(.minutes(4)), .stopsReceivers,
       .enabled(if: NATSServerCluster.unavailableReason == nil, "\(NATSServerCluster.unavailableReason ?? "")"))
struct EngineServeTests {
    typealias Server = ServeProcessTests.Server

    /// The two processes, the admin token of each (clients are shared: the admin client created by the
    /// first is the second's too, once replicated), and where each keeps its data directory.
    struct Pair {
        let cluster: NATSServerCluster
        let servers: [Server]
        let tokens: [String]
        let directories: [String]
        let adminID: String
        let adminSecret: String

        /// Kills both processes, stops the cluster and removes the data directories.
        func stop() { Self.stop(servers, cluster, directories) }

        /// Kills `servers`, stops `cluster` and removes `directories`: a pair's teardown, or a pair's start's that failed.
        static func stop(_ servers: [Server], _ cluster: NATSServerCluster, _ directories: [String]) {
            for server in servers { server.kill9() }
            cluster.stop()
            for directory in directories { try? FileManager.default.removeItem(atPath: directory) }
        }
    }

    static func startPair(segmentBytes: Int? = nil, extraArguments: [String] = []) async throws -> Pair {
        let cluster = try await NATSServerCluster(nodeCount: 3)
        let directories = (0..<2).map { _ in ServeDurabilityTests.directory("engine") }
        let extra = ["--engine", cluster.url] + (segmentBytes.map { ["--segment-bytes", String($0)] } ?? []) + extraArguments
        var started: [Server] = []
        do {
            let first = try await Server.start(dataDirectory: directories[0], firstStart: true, extraArguments: extra)
            started.append(first)
            let adminID = try #require(first.value(after: "client_id:"))
            let adminSecret = try #require(first.value(after: "client_secret:"))
            let second = try await Server.start(dataDirectory: directories[1], firstStart: false, extraArguments: extra)
            started.append(second)
            #expect(!second.process.standardOutput.contains("client_secret"), "exactly one process creates the first admin client")
            var tokens: [String] = []
            for server in [first, second] {
                // The second learns the admin client from the engine within a few seconds.
                let token = try await eventuallyValue(seconds: 20, pollSeconds: 0.1) { try await ServeDurabilityTests.token(server, adminID, adminSecret).1 }
                tokens.append(try #require(token, "the admin client reached \(server.base) within 20 s"))
            }
            return Pair(cluster: cluster, servers: [first, second], tokens: tokens, directories: directories, adminID: adminID, adminSecret: adminSecret)
        } catch {
            Pair.stop(started, cluster, directories)
            throw error
        }
    }

    /// Publishes `user.login` `{"n":n}` through `server`; the offset when acknowledged (201), else nil.
    static func publish(_ n: Int, to server: Server, token: String) async -> Int64? {
        guard let (status, reply) = try? await RawHTTP.request("POST", server.base + "/v1/events", token: token,
                                                               body: #"{"type":"user.login","organization_id":"org_a","data":{"n":\#(n)}}"#),
              status == 201 else { return nil }
        return reply?["offset"]?.int64Value
    }

    @Test func killDashNineOfTheDeliveringServeAndANATSNodeLosesNoAcknowledgedEventAndTheOtherTakesOver() async throws {
        let receiver = try Receiver { _, _ in HTTPResponse(status: 204) }
        let pair = try await Self.startPair()
        defer { pair.stop() }

        let (created, webhook) = try await RawHTTP.request("POST", pair.servers[0].base + "/v1/webhooks", token: pair.tokens[0],
            body: #"{"url":"\#(receiver.url)","organization_id":"*","event_types":["user.*"],"retry":{"max_retries":10,"initial_delay_ms":100,"max_delay_ms":200}}"#)
        #expect(created == 201)
        _ = try #require(webhook?["id"]?.stringValue)
        // The webhook reaches the other process; one of the two takes its lease.
        let victim = try #require(await Self.deliveryLeaseHolder(pair), "a process took the webhook's lease within 30 s")
        let survivor = 1 - victim

        // clients create|list|delete --engine work on the engine directly; serve processes follow within seconds.
        let made = try await ChildProcess.run(BuiltProduct.argusEvents, ["clients", "create", "--engine", pair.cluster.url, "--org", "org_b",
                                                                          "--scopes", "events:publish"], timeoutSeconds: 60)
        let createdClient = try JSONParser.parse(Array(made.output.utf8))
        let clientID = try #require(createdClient["client_id"]?.stringValue, "clients create --engine printed the client: \(made.errors)")
        let clientSecret = try #require(createdClient["client_secret"]?.stringValue)
        let listed = try await ChildProcess.run(BuiltProduct.argusEvents, ["clients", "list", "--engine", pair.cluster.url, "--org", "org_b"], timeoutSeconds: 60)
        #expect(listed.output.contains(clientID) && !listed.output.contains(clientSecret))
        let survivorServer = pair.servers[survivor]  // both run still
        let clientToken = try await eventuallyValue(seconds: 20, pollSeconds: 0.1) {
            try await ServeDurabilityTests.token(survivorServer, clientID, clientSecret).1
        }
        let token = try #require(clientToken, "the serve process learned the new client within 20 s")
        #expect(await Self.publish(1_000, to: survivorServer, token: token) == nil, "org_a is not org_b's")
        let deleted = try await ChildProcess.run(BuiltProduct.argusEvents, ["clients", "delete", "--engine", pair.cluster.url, "--client-id", clientID],
                                                 timeoutSeconds: 60)
        #expect(deleted.status == 0, "\(deleted.errors)")
        let refused = try await eventually(seconds: 20, pollSeconds: 0.1) {
            try await RawHTTP.request("GET", survivorServer.base + "/v1/events", token: token).0 == 401
        }
        #expect(refused, "the deleted client's token answers 401 within 20 s")

        // Load through both processes, then the holder is killed (kill -9) while events keep coming through the survivor.
        var acknowledged: [Int: Int64] = [:]
        for n in 0..<60 {
            let server = n % 2 == 0 ? victim : survivor
            if let offset = await Self.publish(n, to: pair.servers[server], token: pair.tokens[server]) { acknowledged[n] = offset }
        }
        #expect(acknowledged.count == 60, "every publish before the kill was acknowledged")
        // Bounded waits for conditions, not time limits: on a loaded machine the first rounds can take long.
        #expect(await receiver.wait(seconds: 60) { $0.count >= 20 }, "deliveries began before the kill (waited up to 60 s)")
        pair.servers[victim].kill9()
        let deliveredAtKill = receiver.received.count
        var refusedDuringNodeKill = 0
        for n in 60..<120 {
            // Halfway, one of the three NATS nodes is killed (SIGKILL) too: the survivor reconnects to another.
            if n == 90 { await pair.cluster.kill(node: 0) }
            if let offset = await Self.publish(n, to: pair.servers[survivor], token: pair.tokens[survivor]) {
                acknowledged[n] = offset
            } else {
                refusedDuringNodeKill += 1
            }
        }
        // A publish the engine did not acknowledge in time answers 503 and may be retried; none is lost once acknowledged.
        #expect(acknowledged.count + refusedDuringNodeKill == 120)
        #expect(acknowledged.count >= 110, "at most a few publishes refused while a NATS node died: \(refusedDuringNodeKill)")
        let resumed = await receiver.wait(seconds: 60) { $0.count > deliveredAtKill }
        #expect(resumed, "the survivor took the lease over and delivered (lease 10 s, rounds of 2 s; waited up to 60 s)")
        let wanted = Set(acknowledged.values)
        let complete = await receiver.wait(seconds: 60) { deliveries in wanted.isSubset(of: Set(deliveries.compactMap(\.offset))) }
        let delivered = receiver.received
        #expect(complete, "every acknowledged event was delivered: missing \(wanted.subtracting(delivered.compactMap(\.offset)).sorted().prefix(20))")

        // Duplicates only with the same delivery id; each delivered body names the offset it was acknowledged at.
        var idsByOffset: [Int64: Set<String>] = [:]
        for delivery in delivered {
            guard let offset = delivery.offset, let id = delivery.deliveryID else { continue }
            idsByOffset[offset, default: []].insert(id)
        }
        #expect(idsByOffset.values.allSatisfy { $0.count == 1 }, "one delivery id per event")
        for delivery in delivered {
            guard let json = delivery.json, let n = json["data"]?["n"]?.int64Value, let offset = delivery.offset else { continue }
            #expect(acknowledged[Int(n)] == offset, "event \(n) delivered at the offset its publish was answered with")
        }

        // The engine's offsets are dense, and the survivor's local copy (segments of the local format) verifies.
        // tail prints every event up to the head it learned, or fails (it retries an engine that cannot answer
        // for 15 s, then exits non-zero): right after a node's death, while leaders are elected, it is run again
        // until it succeeds, for at most 120 s.
        var offsets: [Int64] = []
        var tailed: (status: Int32?, output: String, errors: String)?
        _ = try await eventually(seconds: 120, pollSeconds: 0.5) {
            let tail = try await ChildProcess.run(BuiltProduct.argusEvents, ["tail", "--engine", pair.cluster.url, "--format", "json"], timeoutSeconds: 60)
            offsets = tail.output.split(separator: "\n").compactMap { try? JSONParser.parse(Array($0.utf8))["offset"]?.int64Value }
            tailed = tail
            return tail.status == 0
        }
        #expect(tailed?.status == 0, "tail --engine succeeded within 120 s: \(tailed?.errors.suffix(500) ?? "")")
        #expect(!offsets.isEmpty && offsets == Array(0..<Int64(offsets.count)), "the stream's offsets are dense from 0")
        #expect(wanted.isSubset(of: Set(offsets)))
        let verify = try await ChildProcess.run(BuiltProduct.argusEvents, ["verify", "--data-dir", pair.directories[survivor]], timeoutSeconds: 60)
        #expect(verify.status == 0, "the survivor's local copy verifies: \(verify.output) \(verify.errors)")
    }

    /// A publish with `Idempotency-Key` through `server`: status, reply head and body.
    static func publishIdempotently(_ body: String, key: String, to server: Server, token: String) async throws -> RawHTTP.Reply {
        let port = try #require(URL(string: server.base)?.port)
        return try #require(await RawHTTP.exchange(port: UInt16(port), "POST", "/v1/events",
                                                   headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json"),
                                                             ("Idempotency-Key", key)],
                                                   body: body, timeoutSeconds: 30), "a whole answer from \(server.base)")
    }

    @Test func aTokenIssuedByOneProcessWorksAtTheOtherAndAnIdempotencyKeyIsHonouredAcrossThem() async throws {
        let pair = try await Self.startPair()
        defer { pair.stop() }
        let (first, second) = (pair.servers[0], pair.servers[1])

        // Issued by the first, accepted by the second at once (no wait: the issuance is in the engine before it is answered).
        for round in 0..<5 {
            let token = try #require(try await ServeDurabilityTests.token(first, pair.adminID, pair.adminSecret).1)
            let (status, _) = try await RawHTTP.request("GET", second.base + "/v1/events?limit=1", token: token)
            #expect(status == 200, "round \(round): a token issued by the first process is accepted by the second at once")
        }
        // A portal session opened at the second works at the first.
        let (opened, session) = try await RawHTTP.request("POST", second.base + "/v1/portal/sessions", token: pair.tokens[1], body: "{}")
        #expect(opened == 201)
        let portalToken = try #require(session?["token"]?.stringValue)
        #expect(try await RawHTTP.request("GET", first.base + "/v1/portal/session", token: portalToken).0 == 200)

        // Revoked at the first: refused by the second within seconds (the bucket's change rings it).
        let revoked = try #require(try await ServeDurabilityTests.token(first, pair.adminID, pair.adminSecret).1)
        #expect(try await RawHTTP.request("GET", second.base + "/v1/events?limit=1", token: revoked).0 == 200)
        let (revokeStatus, _) = try await RawHTTP.request("POST", first.base + "/oauth/revoke", basic: "\(pair.adminID):\(pair.adminSecret)",
                                                          body: "token=\(revoked)", contentType: "application/x-www-form-urlencoded")
        #expect(revokeStatus == 200)
        #expect(try await Self.statusOnceRefused(second, token: revoked) == 401, "the revoked token is refused by the other process within 10 s")
        #expect(try await RawHTTP.request("GET", first.base + "/v1/events?limit=1", token: revoked).0 == 401)

        // One Idempotency-Key, first at one process, retried at the other: one event, the same answer.
        let body = #"{"type":"user.login","organization_id":"org_a","data":{"marker":"idem-1"}}"#
        let original = try await Self.publishIdempotently(body, key: "order-42", to: first, token: pair.tokens[0])
        #expect(original.status == 201)
        let retried = try await Self.publishIdempotently(body, key: "order-42", to: second, token: pair.tokens[1])
        #expect(retried.status == 201 && retried.body?["id"] == original.body?["id"] && retried.body?["offset"] == original.body?["offset"],
                "the retry at the other process answers the first result")
        #expect(retried.head.lowercased().contains("idempotent-replayed: true"))
        let reused = try await Self.publishIdempotently(#"{"type":"user.login","organization_id":"org_a","data":{"marker":"other"}}"#,
                                                        key: "order-42", to: second, token: pair.tokens[1])
        #expect(reused.status == 422 && reused.body?["error"]?["code"]?.stringValue == "idempotency_key_reused")
        let again = try await Self.publishIdempotently(body, key: "order-42", to: first, token: pair.tokens[0])
        #expect(again.status == 201 && again.body?["id"] == original.body?["id"])
        let tail = try await ChildProcess.run(BuiltProduct.argusEvents, ["tail", "--engine", pair.cluster.url, "--format", "json"], timeoutSeconds: 60)
        let markers = tail.output.split(separator: "\n").filter { $0.contains("idem-1") }
        #expect(markers.count == 1, "one event in the engine's stream for the key: \(markers.count)")
    }

    /// A revocation the engine did not record (503, retry) is shared again by its retry: while the engine is away
    /// the retry answers 503 too (not 200 with the token still live at the other process); once the engine is back
    /// it answers 200 and the other process refuses the token.
    @Test func aRevocationTheEngineMissedIsSharedByItsRetry() async throws {
        let pair = try await Self.startPair()
        defer { pair.stop() }
        let (first, second) = (pair.servers[0], pair.servers[1])
        let token = try #require(try await ServeDurabilityTests.token(first, pair.adminID, pair.adminSecret).1)
        #expect(try await RawHTTP.request("GET", second.base + "/v1/events?limit=1", token: token).0 == 200)
        func revoke() async throws -> Int {
            try await RawHTTP.request("POST", first.base + "/oauth/revoke", basic: "\(pair.adminID):\(pair.adminSecret)",
                                      body: "token=\(token)", contentType: "application/x-www-form-urlencoded").0
        }
        for node in 0..<3 { await pair.cluster.kill(node: node) }
        #expect(try await revoke() == 503, "the engine is away: the revocation is not recorded there")
        #expect(try await revoke() == 503, "the retry shares the revocation again, and the engine is still away")
        for node in 0..<3 { try await pair.cluster.restart(node: node) }
        // The engine is back once the tokens bucket answers (after a restart of every node its leaders are elected
        // first, which on a loaded machine takes a while): waited for here, so the revocation's retries below
        // are asked only of an engine that answers.
        let connection = try await NATSConnection.connect(servers: pair.cluster.url)
        defer { connection.close() }
        let bucket = KeyValueBucket(jetStream: JetStream(connection: connection), name: "ARGUS_TOKENS")
        let engineBack = await eventually(seconds: 120, pollSeconds: 0.5) {
            do {
                _ = try await bucket.get("probe")  // nil (no such key) is an answer too
                return true
            } catch {
                return false
            }
        }
        try #require(engineBack, "the restarted engine's tokens bucket answered within 120 s")
        var status = 0
        _ = try await eventually(seconds: 60, pollSeconds: 0.5) {
            status = try await revoke()
            return status == 200
        }
        #expect(status == 200, "the retry was recorded within 60 s of the engine answering: \(first.serverLog())")
        // The other process hears of it when the bucket rings or at its next poll (2 s); right after a restart of
        // every node its reads of the bucket's changes can fail for a while (leaders elected): waited for up to 60 s.
        #expect(try await Self.statusOnceRefused(second, token: token, seconds: 60) == 401,
                "the revoked token is refused by the other process: \(second.serverLog())")
    }

    /// The status of `GET /v1/events` with `token` at `server`, asked again until it is 401 (at most `seconds`).
    static func statusOnceRefused(_ server: Server, token: String, seconds: Double = 10) async throws -> Int {
        var status = 0
        _ = try await eventually(seconds: seconds, pollSeconds: 0.05) {
            status = try await RawHTTP.request("GET", server.base + "/v1/events?limit=1", token: token).0
            return status == 401
        }
        return status
    }

    /// Waits (at most `seconds`) until `server`'s log holds `text`; the seconds it took, or nil.
    static func waitForLog(_ server: Server, _ text: String, seconds: Double = 30, count: Int = 1) async -> Double? {
        let started = Date()
        let logged = await eventually(seconds: seconds, pollSeconds: 0.05) { server.process.standardError.components(separatedBy: text).count - 1 >= count }
        return logged ? Date().timeIntervalSince(started) : nil
    }

    /// The segments of a data directory as `segments --format json` prints them: base and last offsets.
    static func segments(_ directory: String) async throws -> [(base: Int64, last: Int64?)] {
        let listed = try await ChildProcess.run(BuiltProduct.argusEvents, ["segments", "--data-dir", directory, "--format", "json"], timeoutSeconds: 60)
        return listed.output.split(separator: "\n").compactMap { line in
            guard let json = try? JSONParser.parse(Array(line.utf8)), let base = json["base_offset"]?.int64Value else { return nil }
            return (base, json["last_offset"]?.int64Value)
        }
    }

    /// The sealer's log line once it seals for the service.
    static let continuing = "sealing: continuing from the engine's seal record"

    /// Which of the pair logged `text` first seen (waits at most `seconds`), or nil.
    static func firstToLog(_ text: String, in pair: Pair, seconds: Double = 30) async -> Int? {
        await eventuallyValue(seconds: seconds, pollSeconds: 0.05) { pair.servers.firstIndex { $0.process.standardError.contains(text) } }
    }

    /// Which of the pair became the sealer (waits at most 30 s), or nil.
    static func electedSealer(_ pair: Pair) async -> Int? { await firstToLog(continuing, in: pair) }

    /// Which of the pair took a webhook's delivery lease (waits at most 30 s), or nil.
    static func deliveryLeaseHolder(_ pair: Pair) async -> Int? { await firstToLog("delivery lease taken", in: pair) }

    @Test func oneElectedSealerRecordsItsSealsAndArchivesAndAnotherTakesOverWhenItIsKilled() async throws {
        let archive = ServeDurabilityTests.directory("engine-archive")
        defer { try? FileManager.default.removeItem(atPath: archive) }
        let pair = try await Self.startPair(segmentBytes: 4096, extraArguments: ["--archive-target", "file://" + archive, "--archive-interval-seconds", "1"])
        defer { pair.stop() }
        let continuing = Self.continuing
        let victim = try #require(await Self.electedSealer(pair), "one process became the sealer within 30 s")
        let survivor = 1 - victim
        #expect(!pair.servers[survivor].process.standardError.contains("sealer lease taken"), "only one process holds the sealer lease")

        // Enough events through both processes for several 4 KiB segments; the sealer records its seals.
        for n in 0..<150 {
            let server = n % 2
            #expect(await Self.publish(n, to: pair.servers[server], token: pair.tokens[server]) != nil)
        }
        #expect(await Self.waitForLog(pair.servers[victim], "seal recorded in the engine") != nil, "the sealer recorded a seal within 30 s")
        #expect(!pair.servers[survivor].process.standardError.contains("seal recorded in the engine"), "only the sealer records seals")
        #expect(await Self.waitForLog(pair.servers[victim], "segments up to offset") != nil, "the sealer archived within 30 s")
        #expect(!pair.servers[survivor].process.standardError.contains("segments up to offset"), "only the sealer archives")

        // kill -9 of the sealer: the survivor takes the role over from the engine's record within the lease's reach.
        pair.servers[victim].kill9()
        let takeover = await Self.waitForLog(pair.servers[survivor], continuing, seconds: 40)
        #expect(takeover != nil, "the survivor took the sealer role over within 40 s of the kill")
        for n in 150..<300 {
            #expect(await Self.publish(n, to: pair.servers[survivor], token: pair.tokens[survivor]) != nil)
        }
        #expect(await Self.waitForLog(pair.servers[survivor], "seal recorded in the engine") != nil, "the new sealer records its seals")
        #expect(await Self.waitForLog(pair.servers[survivor], "segments up to offset") != nil, "the new sealer archives, continuing the archive")
        #expect(!pair.servers[survivor].process.standardError.contains("archiving to"), "no archiving failure: \(pair.servers[survivor].process.standardError.suffix(2000))")

        // The new sealer's segments are dense from 0, and verify passes on them.
        let segments = try await Self.segments(pair.directories[survivor])
        #expect(segments.count >= 3, "several segments: \(segments.count)")
        var expectedBase: Int64 = 0
        for segment in segments {
            #expect(segment.base == expectedBase, "segment at \(segment.base) follows the one before (expected \(expectedBase))")
            expectedBase = (segment.last ?? segment.base - 1) + 1
        }
        let verify = try await ChildProcess.run(BuiltProduct.argusEvents, ["verify", "--data-dir", pair.directories[survivor]], timeoutSeconds: 60)
        #expect(verify.status == 0, "the sealer's segments verify: \(verify.output) \(verify.errors)")
        let verifyArchive = try await ChildProcess.run(BuiltProduct.argusEvents, ["verify", "--data-dir", pair.directories[survivor], "--archive", "file://" + archive],
                                                       timeoutSeconds: 60)
        #expect(verifyArchive.status == 0, "the archive both sealers wrote verifies: \(verifyArchive.output) \(verifyArchive.errors)")

        // The engine's seal record names an offset the survivor holds, with its chain.
        let connection = try await NATSConnection.connect(servers: pair.cluster.url)
        defer { connection.close() }
        let record = try #require(try await KeyValueBucket(jetStream: JetStream(connection: connection), name: "ARGUS_META").get("seal"))
        let json = try JSONParser.parse(record.value)
        let recorded = try #require(json["next_offset"]?.int64Value)
        #expect(recorded > 0 && recorded <= expectedBase, "the record (\(recorded)) is within the sealed copy (\(expectedBase) events)")
        #expect(json["chain_sha256"]?.stringValue?.count == 64)
    }

    /// Bytes of the `.log` files in a data directory's log and the lowest base offset among them.
    static func localLog(_ directory: String) -> (bytes: Int64, firstBase: UInt64?) {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory + "/log")) ?? []).filter { $0.hasSuffix(".log") }
        let bytes = names.reduce(Int64(0)) { total, name in
            total + Int64((try? TestFiles.sizeBytes(directory + "/log/" + name)) ?? 0)
        }
        return (bytes, names.compactMap { UInt64($0.dropLast(4)) }.min())
    }

    /// The offset after the last record the archive's manifest (`file://` directory) holds.
    static func archivedNextOffset(_ archive: String) -> UInt64 {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: archive + "/manifest")) ?? []
        return names.compactMap { name -> UInt64? in
            guard let data = FileManager.default.contents(atPath: archive + "/manifest/" + name),
                  let json = try? JSONParser.parse(Array(data)), let base = json["base_offset"]?.int64Value,
                  let records = json["records"]?.int64Value else { return nil }
            return UInt64(base + records)
        }.max() ?? 0
    }

    @Test func aProcessThatDoesNotSealAppliesRetentionToSegmentsTheArchiveHoldsAndReadsThemBackFromIt() async throws {
        let archive = ServeDurabilityTests.directory("engine-archive")
        defer { try? FileManager.default.removeItem(atPath: archive) }
        let retentionBytes: Int64 = 12_288
        let pair = try await Self.startPair(segmentBytes: 4096, extraArguments: ["--archive-target", "file://" + archive, "--archive-interval-seconds", "1",
                                                                                 "--retention-bytes", String(retentionBytes)])
        defer { pair.stop() }
        let follower = 1 - (try #require(await Self.electedSealer(pair), "one process became the sealer within 30 s"))
        let directory = pair.directories[follower]
        // Only segments the archive holds are ever deleted: checked at every look at the follower's copy, while
        // events are published and while the copy shrinks (the copy read first, then the archive, which only grows).
        var deletedBeyondArchive: (firstBase: UInt64, archivedNextOffset: UInt64)?
        func look() -> (bytes: Int64, firstBase: UInt64?) {
            let local = Self.localLog(directory)
            let archived = Self.archivedNextOffset(archive)
            if deletedBeyondArchive == nil, let firstBase = local.firstBase, firstBase > archived { deletedBeyondArchive = (firstBase, archived) }
            return local
        }
        var published: Set<Int64> = []
        for n in 0..<200 {
            let server = n % 2
            published.insert(try #require(await Self.publish(n, to: pair.servers[server], token: pair.tokens[server]), "event \(n) acknowledged"))
            _ = look()
        }

        // The follower's copy shrinks to the retention bound (plus the active segment).
        var local = look()
        _ = await eventually(seconds: 60, pollSeconds: 0.2) {
            local = look()
            return local.bytes <= retentionBytes + 4096 && (local.firstBase ?? 0) > 0
        }
        #expect(local.bytes <= retentionBytes + 4096, "the follower's copy is bounded within 60 s: \(local.bytes) bytes")
        #expect(try #require(local.firstBase) > 0, "the follower deleted its oldest sealed segments")
        #expect(deletedBeyondArchive == nil,
                "only segments the archive holds were deleted: the copy started at \(deletedBeyondArchive?.firstBase ?? 0) with the archive at \(deletedBeyondArchive?.archivedNextOffset ?? 0)")
        #expect(await Self.waitForLog(pair.servers[follower], "retention deleted", seconds: 10) != nil, "the follower logs its retention")
        #expect(!pair.servers[follower].process.standardError.contains("segments up to offset"), "the follower uploads nothing")

        // Every event is still listed at the follower, the deleted ones read back from the archive.
        var offsets: [Int64] = []
        var after: Int64 = -1
        for _ in 0..<100 {
            let query = after < 0 ? "" : "&after=\(after)"
            let (status, reply) = try await RawHTTP.request("GET", pair.servers[follower].base + "/v1/events?organization_id=org_a&limit=50" + query,
                                                            token: pair.tokens[follower])
            #expect(status == 200)
            offsets += reply?["data"]?.arrayValue?.compactMap { $0["offset"]?.int64Value } ?? []
            guard let next = reply?["next_after"]?.int64Value else { break }
            after = next
        }
        #expect(published.isSubset(of: Set(offsets)), "every acknowledged event is listed at the follower: \(published.subtracting(offsets).sorted().prefix(10))")
        #expect(offsets.count == Set(offsets).count, "no event listed twice")
    }

    @Test func aCopyThatDiffersFromTheSealRecordNeverSealsAndAnotherCheckpointKeyOrSegmentSizeIsRefused() async throws {
        let cluster = try await NATSServerCluster(nodeCount: 1)
        defer { cluster.stop() }
        let directory = ServeDurabilityTests.directory("engine-sealer")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A seal record no copy matches: offset 0's chain hash cannot be all zeros.
        let connection = try await NATSConnection.connect(servers: cluster.url)
        defer { connection.close() }
        let jetStream = JetStream(connection: connection)
        let meta = await eventuallyValue(seconds: 30, pollSeconds: 0.2) { try? await KeyValueBucket.create("ARGUS_META", in: jetStream) }
        let bucket = try #require(meta, "JetStream answered within 30 s")
        try await bucket.put("seal", Array(#"{"next_offset":1,"chain_sha256":"\#(String(repeating: "0", count: 64))","holder":"x"}"#.utf8))
        let server = try await Server.start(dataDirectory: directory, firstStart: true, extraArguments: ["--engine", cluster.url])
        defer { server.kill9() }
        #expect(await Self.waitForLog(server, "differs from the engine's seal record") != nil, "the mismatch is reported within 30 s")
        #expect(!server.process.standardError.contains("sealing: continuing"))

        // The first process published its checkpoint key: a data directory that signs with another key is refused.
        let other = ServeDurabilityTests.directory("engine-otherkey")
        defer { try? FileManager.default.removeItem(atPath: other) }
        _ = try CheckpointKeyFile.loadOrCreate(path: DataLayout(root: other).checkpointKey)
        let refused = try await ChildProcess.run(BuiltProduct.argusEvents, ["serve", "--no-supervisor", "--data-dir", other, "--listen", "127.0.0.1:0",
                                                                             "--engine", cluster.url], timeoutSeconds: 60)
        #expect(refused.status != 0 && refused.errors.contains("another key"), "refused: \(refused.status.map(String.init) ?? "no exit") \(refused.errors.suffix(500))")
        // The first process recorded its roll size (the default): a process with another --segment-bytes is refused
        // before it writes anything, with a machine-readable code in its log.
        let otherSize = ServeDurabilityTests.directory("engine-othersize")
        defer { try? FileManager.default.removeItem(atPath: otherSize) }
        let refusedSize = try await ChildProcess.run(BuiltProduct.argusEvents, ["serve", "--no-supervisor", "--data-dir", otherSize, "--listen", "127.0.0.1:0",
                                                                                 "--engine", cluster.url, "--segment-bytes", "4096"], timeoutSeconds: 60)
        let codes = refusedSize.errors.split(separator: "\n").compactMap { try? JSONParser.parse(Array($0.utf8))["code"]?.stringValue }
        #expect(refusedSize.status == 1 && codes.contains("segment_bytes_mismatch") && refusedSize.errors.contains("--segment-bytes 4096 differs"),
                "refused: \(refusedSize.status.map(String.init) ?? "no exit") \(refusedSize.errors.suffix(500))")
        #expect(!FileManager.default.fileExists(atPath: otherSize), "the refused process wrote nothing")
        // A fresh data directory takes the engine's key: the same origin as the first process.
        let fresh = ServeDurabilityTests.directory("engine-freshkey")
        defer { try? FileManager.default.removeItem(atPath: fresh) }
        let second = try await Server.start(dataDirectory: fresh, firstStart: false, extraArguments: ["--engine", cluster.url])
        defer { second.kill9() }
        let firstKey = try #require(try CheckpointKeyFile.load(path: DataLayout(root: directory).checkpointKey))
        let secondKey = try #require(try CheckpointKeyFile.load(path: DataLayout(root: fresh).checkpointKey))
        #expect(firstKey.seed == secondKey.seed, "both processes sign with the engine's one key")
    }

    @Test func theDeliveryHistoryIsAnsweredByTheDeliveringProcessWhicheverIsAsked() async throws {
        let receiver = try Receiver { _, _ in HTTPResponse(status: 204) }
        let pair = try await Self.startPair()
        defer { pair.stop() }
        let (created, webhook) = try await RawHTTP.request("POST", pair.servers[0].base + "/v1/webhooks", token: pair.tokens[0],
            body: #"{"url":"\#(receiver.url)","organization_id":"*","event_types":["user.*"]}"#)
        #expect(created == 201)
        let id = try #require(webhook?["id"]?.stringValue)
        let delivering = try #require(await Self.deliveryLeaseHolder(pair), "a process took the webhook's lease within 30 s")
        let other = 1 - delivering
        for n in 0..<5 { #expect(await Self.publish(n, to: pair.servers[n % 2], token: pair.tokens[n % 2]) != nil) }
        #expect(await receiver.wait(seconds: 30) { $0.count >= 5 }, "five deliveries within 30 s")

        // Asked at the process that does not deliver: the delivering one answers (its address is in ARGUS_PROCESSES).
        let port = try #require(URL(string: pair.servers[other].base)?.port)
        var answered: RawHTTP.Reply?
        _ = await eventually(seconds: 20, pollSeconds: 0.2) {
            answered = await RawHTTP.exchange(port: UInt16(port), "GET", "/v1/webhooks/\(id)/deliveries?limit=100",
                                              headers: [("Authorization", "Bearer \(pair.tokens[other])")], timeoutSeconds: 30)
            return (answered?.body?["data"]?.arrayValue?.count ?? 0) >= 5
        }
        let reply = try #require(answered)
        #expect(reply.status == 200 && (reply.body?["data"]?.arrayValue?.count ?? 0) >= 5,
                "the other process shows the delivering process's history: \(reply.status) \(reply.body.map { String(decoding: $0.encoded(), as: UTF8.self).prefix(300) } ?? "")")
        #expect(reply.head.lowercased().contains("argus-answered-by:"), "marked as answered by the delivering process")
        let stats = await RawHTTP.exchange(port: UInt16(port), "GET", "/v1/webhooks/\(id)/stats",
                                           headers: [("Authorization", "Bearer \(pair.tokens[other])")], timeoutSeconds: 30)
        #expect((stats?.body?["attempts"]?.int64Value ?? 0) >= 5, "stats come from the delivering process too")
        let unauthenticated = await RawHTTP.exchange(port: UInt16(port), "GET", "/v1/webhooks/\(id)/deliveries", timeoutSeconds: 30)
        #expect(unauthenticated?.status == 401 && !(unauthenticated?.head.lowercased().contains("argus-answered-by") ?? true),
                "a request without a valid token is answered here, not forwarded")
        // A valid token without the route's scope is refused here too: the asking process authenticates for the route.
        let (madeClient, client) = try await RawHTTP.request("POST", pair.servers[other].base + "/v1/clients", token: pair.tokens[other],
                                                             body: #"{"organization_id":"platform","scopes":["events:read"]}"#)
        #expect(madeClient == 201)
        let readerID = try #require(client?["client_id"]?.stringValue), readerSecret = try #require(client?["client_secret"]?.stringValue)
        let readerToken = try #require(try await ServeDurabilityTests.token(pair.servers[other], readerID, readerSecret).1)
        let unscoped = await RawHTTP.exchange(port: UInt16(port), "GET", "/v1/webhooks/\(id)/deliveries",
                                              headers: [("Authorization", "Bearer \(readerToken)")], timeoutSeconds: 30)
        #expect(unscoped?.status == 403 && unscoped?.body?["error"]?["code"]?.stringValue == "insufficient_scope"
                && !(unscoped?.head.lowercased().contains("argus-answered-by") ?? true),
                "a token without webhooks:read is refused here, not forwarded: \(unscoped?.status ?? 0) \(unscoped?.head ?? "")")
    }
}
