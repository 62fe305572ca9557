import ArgusTestSupport
import Crypto
import Foundation
import Glibc
import HTTPServer
import JSON
import Testing

/// The real `serve` under faults of the machine: a disk that fills up (a small tmpfs), descriptors
/// that run out (a low `RLIMIT_NOFILE`), the files it leaves, and its supervisor.
@Suite(.serialized, .timeLimit(.minutes(5)), .stopsReceivers) struct ServeFaultTests {
    typealias Server = ServeProcessTests.Server
    static let organization = "org_faults"

    /// A tmpfs, or the test is skipped (`TemporaryMount` printed why).
    static func mountOrSkip(_ sizeBytes: Int, _ label: String = #function) throws -> TemporaryMount {
        let mounted = TemporaryMount.tmpfs(sizeBytes: sizeBytes, label: label)
        guard case .success(let mount) = mounted else { try Test.cancel("needs a tmpfs mount: \(mounted)") }
        return mount
    }

    /// A platform:admin token from the client `serve` printed at its first start.
    static func token(_ server: Server) async throws -> String {
        let reply = await RawHTTP.exchange(port: RawHTTP.port(of: server.base), "POST", "/oauth/token",
                                           headers: try clientHeaders(server), body: "grant_type=client_credentials")
        return try #require(reply?.body?["access_token"]?.stringValue, "a token: \(String(describing: reply))")
    }

    /// Basic authentication of the client `serve` printed at its first start, for a form body.
    static func clientHeaders(_ server: Server) throws -> [(String, String)] {
        let clientID = try #require(server.value(after: "client_id:"))
        let secret = try #require(server.value(after: "client_secret:"))
        return [("Authorization", "Basic " + Base64.encode(Array("\(clientID):\(secret)".utf8))),
                ("Content-Type", "application/x-www-form-urlencoded")]
    }

    /// Publishes event `number` with `padBytes` of padding; nil when no response came.
    static func publish(_ port: UInt16, token: String, number: Int, padBytes: Int, organization: String = organization,
                        timeoutSeconds: Double = 10) async -> RawHTTP.Reply? {
        let body = #"{"type":"user.login","organization_id":"\#(organization)","data":{"n":\#(number),"pad":"\#(String(repeating: "p", count: padBytes))"}}"#
        return await RawHTTP.exchange(port: port, "POST", "/v1/events",
                                      headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")],
                                      body: body, timeoutSeconds: timeoutSeconds)
    }

    /// Polls `/healthz` (at most `seconds`) until it answers `status`; returns the last reply.
    static func waitForHealth(_ port: UInt16, status: Int, seconds: Double = 20) async -> RawHTTP.Reply? {
        let deadline = Date().addingTimeInterval(seconds)
        var reply: RawHTTP.Reply?
        while Date() < deadline {
            reply = await RawHTTP.exchange(port: port, "GET", "/healthz", timeoutSeconds: 5)
            if reply?.status == status { return reply }
            try? await Task.sleep(nanoseconds: 100_000_000)
        }
        return reply
    }

    /// The `n` of every event of the test's organization that `argus-events tail` prints.
    static func tailedNumbers(_ directory: String) async throws -> [Int] {
        let tail = try await ChildProcess.run(BuiltProduct.argusEvents, ["tail", "--data-dir", directory, "--org", organization],
                                              timeoutSeconds: 60)
        #expect(tail.status == 0, "tail: \(tail.errors)")
        return tail.output.split(separator: "\n").compactMap { line in
            (try? JSONParser.parse(Array(line.utf8)))?["data"]?["n"]?.int64Value.map { Int($0) }
        }
    }

    /// Every acknowledged event is in the log once, in order, and no refused one is, as `tail` shows;
    /// and the log verifies.
    /// `unanswered`: events whose publish got no response in time (they may or may not be in the log).
    static func expectLog(in directory: String, holds acknowledged: [Int], never refused: Set<Int>, unanswered: Set<Int> = [],
                          sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let tailed = try await tailedNumbers(directory)
        #expect(tailed.filter { !unanswered.contains($0) } == acknowledged, "tail shows exactly the acknowledged events",
                sourceLocation: sourceLocation)
        #expect(Set(tailed).isDisjoint(with: refused), "no refused event appears: \(Set(tailed).intersection(refused).sorted())",
                sourceLocation: sourceLocation)
        let verify = try await ChildProcess.run(BuiltProduct.argusEvents, ["verify", "--data-dir", directory], timeoutSeconds: 60)
        #expect(verify.status == 0, "the log verifies: \(verify.output) \(verify.errors)", sourceLocation: sourceLocation)
    }

    @Test func aFullDiskAnswers507AndHealth503ThenResumesByItselfAndNoRefusedEventEverAppears() async throws {
        let mount = try Self.mountOrSkip(6 << 20)
        defer { mount.unmount() }
        // Freed later to make room again; the rest of the disk is what serve fills.
        mount.fill("filler", sizeBytesMax: 1 << 20)
        let directory = mount.path + "/data"
        var server = try await Server.start(dataDirectory: directory, firstStart: true, extraArguments: ["--segment-bytes", "1048576"])
        defer { server.kill9() }
        var port = RawHTTP.port(of: server.base)
        let token = try await Self.token(server)
        var acknowledged: [Int] = [], refused: Set<Int> = []
        var number = 0
        func publish() async throws -> RawHTTP.Reply {
            defer { number += 1 }
            let reply = try #require(await Self.publish(port, token: token, number: number, padBytes: 40_000), "publish \(number) answered")
            if reply.status == 201 { acknowledged.append(number) } else { refused.insert(number) }
            return reply
        }
        // 40 KB events until the 6 MiB disk is full (about 120).
        var full: RawHTTP.Reply?
        for _ in 0..<300 where full == nil {
            let reply = try await publish()
            if reply.status != 201 { full = reply }
        }
        let refusal = try #require(full, "the disk filled up")
        #expect(refusal.status == 507)
        #expect(refusal.errorCode == "insufficient_storage")
        #expect(refusal.head.lowercased().contains("retry-after:"))
        #expect(acknowledged.count > 50)
        let unhealthy = await RawHTTP.exchange(port: port, "GET", "/healthz")
        #expect(unhealthy?.status == 503)
        #expect(unhealthy?.body?["reason"]?.stringValue == "insufficient_storage", "\(String(describing: unhealthy?.body))")
        for _ in 0..<3 {
            let reply = try await publish()
            #expect(reply.status == 507, "still full: \(reply.status) \(reply.errorCode ?? "")")
        }
        try await Task.sleep(nanoseconds: 1_500_000_000)  // a probe interval of the idle writer
        #expect(await RawHTTP.exchange(port: port, "GET", "/healthz")?.status == 503, "the idle writer's probe still sees a full disk")

        // Space returns: health and publishing come back without a restart.
        try FileManager.default.removeItem(atPath: mount.path + "/filler")
        let healthy = await Self.waitForHealth(port, status: 200)
        #expect(healthy?.status == 200, "healthz recovered: \(String(describing: healthy?.body))")
        for _ in 0..<5 {
            let reply = try await publish()
            #expect(reply.status == 201, "publishing resumed: \(reply.status) \(reply.errorCode ?? "")")
        }
        try await Self.expectLog(in: directory, holds: acknowledged, never: refused)

        // After a restart (recovery reads the segments again) nothing refused appears either.
        server.kill9()
        server = try await Server.start(dataDirectory: directory, firstStart: false)
        port = RawHTTP.port(of: server.base)
        let reply = try await publish()
        #expect(reply.status == 201)
        try await Self.expectLog(in: directory, holds: acknowledged, never: refused)
        let listed = await RawHTTP.exchange(port: port, "GET", "/v1/events?organization_id=\(Self.organization)&limit=1000&after=0",
                                            headers: [("Authorization", "Bearer \(token)")])
        let numbers = listed?.body?["data"]?.arrayValue?.compactMap { $0["data"]?["n"]?.int64Value.map { Int($0) } } ?? []
        #expect(!numbers.isEmpty && Set(numbers).isDisjoint(with: refused), "GET /v1/events lists no refused event")
    }

    static let prlimit = "/usr/bin/prlimit"

    @Test func outOfDescriptorsNewClientsAreStillAnsweredAndPublishingResumesOnceConnectionsClose() async throws {
        guard FileManager.default.isExecutableFile(atPath: Self.prlimit) else {
            print("SKIPPED outOfDescriptors: \(Self.prlimit) is missing (util-linux)")
            try Test.cancel("needs \(Self.prlimit)")
        }
        let directory = NSTemporaryDirectory() + "argus-nofile-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // 128 descriptors, and a connection cap far above them (as a careless --max-connections would
        // set it): held connections can take every descriptor. Small segments: rolls open files often.
        let server = try await Server.start(dataDirectory: directory, firstStart: true,
                                            extraArguments: ["--max-connections", "2000", "--segment-bytes", "8192"],
                                            launcher: [Self.prlimit, "--nofile=128:128"])
        defer { server.kill9() }
        let port = RawHTTP.port(of: server.base)
        let token = try await Self.token(server)
        var acknowledged: [Int] = [], refused: Set<Int> = [], unanswered: Set<Int> = []
        var number = 0
        func publish(timeoutSeconds: Double = 10) async -> RawHTTP.Reply? {
            defer { number += 1 }
            let reply = await Self.publish(port, token: token, number: number, padBytes: 1000, timeoutSeconds: timeoutSeconds)
            switch reply?.status {
            case 201: acknowledged.append(number)
            case nil: unanswered.insert(number)
            default: refused.insert(number)
            }
            return reply
        }
        func expectRunning(_ when: String, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(server.process.isRunning, "serve is running \(when); it printed: \(server.process.standardError.suffix(3000))",
                    sourceLocation: sourceLocation)
        }
        for _ in 0..<5 { #expect(await publish()?.status == 201) }

        // 400 idle connections: more than the server has descriptors.
        var held = RawHTTP.holdConnections(port: port, count: 400)
        defer { for descriptor in held { close(descriptor) } }
        #expect(held.count == 400)
        try await Task.sleep(nanoseconds: 500_000_000)  // let the server take what it can
        // New clients are still answered (an idle connection makes room); a publish may be refused
        // while a segment roll finds no descriptor, never lost.
        var answered = 0, statuses: [Int] = []
        for _ in 0..<10 {
            if let reply = await publish(timeoutSeconds: 5) {
                answered += 1
                statuses.append(reply.status)
                #expect(reply.status == 201 || (reply.status == 503 && reply.errorCode == "log_unavailable"),
                        "\(reply.status) \(reply.errorCode ?? "")")
            }
        }
        #expect(answered == 10, "every new client was answered while descriptors ran out: \(statuses)")
        print("outOfDescriptors: publishes while descriptors ran out answered \(statuses)")
        if statuses.contains(503) {
            // A roll found no descriptor; the idle writer's probe finds none either while they are held.
            let health = await RawHTTP.exchange(port: port, "GET", "/healthz", timeoutSeconds: 5)
            #expect(health?.status == 503 && health?.body?["reason"]?.stringValue == "log_unavailable", "\(String(describing: health))")
        }
        expectRunning("while descriptors ran out")

        // The connections close: health and publishing come back by themselves.
        for descriptor in held { close(descriptor) }
        held = []
        let healthy = await Self.waitForHealth(port, status: 200)
        #expect(healthy?.status == 200, "healthz: \(String(describing: healthy?.body))")
        for _ in 0..<20 { #expect(await publish()?.status == 201, "publishing resumed") }
        expectRunning("after the connections closed")
        try await Self.expectLog(in: directory, holds: acknowledged, never: refused, unanswered: unanswered)
    }

    @Test func theDataDirectoryIs0700AndEveryFileIn0600() async throws {
        let directory = NSTemporaryDirectory() + "argus-modes-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let receiver = try Receiver { _, _ in HTTPResponse(status: 200) }
        let server = try await Server.start(dataDirectory: directory, firstStart: true, extraArguments: ["--segment-bytes", "4096"])
        defer { server.kill9() }
        let port = RawHTTP.port(of: server.base)
        let token = try await Self.token(server)
        let authorized = [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")]
        // Everything that writes a file: webhooks (secrets), deliveries (history, cursors), segments
        // that roll (indexes, footers), clients, tokens and their revocation.
        let webhook = await RawHTTP.exchange(port: port, "POST", "/v1/webhooks", headers: authorized,
            body: #"{"url":"\#(receiver.url)","event_types":["user.*"],"organization_id":"platform"}"#)
        #expect(webhook?.status == 201)
        for number in 0..<20 {
            #expect(await Self.publish(port, token: token, number: number, padBytes: 500, organization: "platform")?.status == 201)
        }
        let client = await RawHTTP.exchange(port: port, "POST", "/v1/clients", headers: authorized,
                                            body: #"{"scopes":["events:publish"],"description":"modes"}"#)
        #expect(client?.status == 201)
        let second = try await Self.token(server)
        let revoked = await RawHTTP.exchange(port: port, "POST", "/oauth/revoke", headers: try Self.clientHeaders(server),
                                             body: "token=\(second)")
        #expect(revoked?.status == 200)
        #expect(await receiver.wait(seconds: 30) { $0.count >= 20 }, "every event was delivered")
        // A clean stop writes the cursors and history it still holds.
        server.process.send(SIGTERM)
        #expect(await server.process.wait(timeoutSeconds: 30) == 0, "serve stopped cleanly: \(server.process.standardError.suffix(2000))")

        var offenders: [String] = []
        var files = 0
        func check(_ path: String) {
            var status = stat()
            guard lstat(path, &status) == 0 else { return offenders.append("\(path): lstat errno \(errno)") }
            let mode = status.st_mode & 0o7777
            let isDirectory = (status.st_mode & S_IFMT) == S_IFDIR
            if mode != (isDirectory ? 0o700 : 0o600) { offenders.append("\(path): \(String(mode, radix: 8))") }
            guard isDirectory else { files += 1; return }
            for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] { check(path + "/" + name) }
        }
        check(directory)
        #expect(offenders.isEmpty, "modes other than 0700 (directories) and 0600 (files): \(offenders)")
        #expect(files >= 10, "the walk saw the data directory's files (\(files))")
        let names = try FileManager.default.subpathsOfDirectory(atPath: directory)
        #expect(names.contains { $0.hasPrefix("log/") && $0.hasSuffix(".log") } && names.contains { $0.hasPrefix("cursors/") },
                "segments and cursors were written: \(names)")
    }

    /// Pids of the live (not zombie) processes whose parent is `parent`.
    static func children(of parent: pid_t) -> [pid_t] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap(Int32.init).filter { pid in
            guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return false }
            return status.contains("PPid:\t\(parent)\n") && !status.contains("State:\tZ")
        }
    }

    @Test func aSIGTERMDuringTheSupervisorsBackOffStopsItAtOnce() async throws {
        let directory = NSTemporaryDirectory() + "argus-backoff-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A back-off far longer than the wait below: only a SIGTERM that ends the back-off passes.
        let supervisor = try ChildProcess(BuiltProduct.argusEvents, ["serve", "--data-dir", directory, "--listen", "127.0.0.1:0"],
                                          environment: ["ARGUS_SUPERVISOR_BACKOFF_MS": "60000"])
        defer { supervisor.stop() }
        #expect(await supervisor.waitForOutput(timeoutSeconds: 30) { $0.contains("Try it:") }, "serve started: \(supervisor.standardError)")
        let server = try #require(Self.children(of: supervisor.pid).first, "the supervisor runs the server as a child")
        kill(server, SIGKILL)
        var backingOff = false
        for _ in 0..<200 where !backingOff {
            backingOff = supervisor.standardError.contains("restarting it")
            if !backingOff { try await Task.sleep(nanoseconds: 50_000_000) }
        }
        try #require(backingOff, "the supervisor saw the crash and backs off: \(supervisor.standardError)")
        #expect(Self.children(of: supervisor.pid).isEmpty, "no server runs during the back-off")

        supervisor.send(SIGTERM)
        let status = await supervisor.wait(timeoutSeconds: 10)
        #expect(status == 0, "the supervisor exited with 0 within 10 s of the SIGTERM (back-off 60 s): \(String(describing: status))")
        // The log's lock file names the last server that took it: still the killed one, so none started.
        let lockHolder = (try? String(contentsOfFile: directory + "/log/LOCK", encoding: .utf8))
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap { Int32($0) }
        #expect(lockHolder == server, "no server was started after the SIGTERM (the lock names pid \(String(describing: lockHolder)))")
    }
}
