import Crypto
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HTTPServer
import JSON
import Testing
import ArgusTestSupport

/// The real `argus-events serve` process: killed with SIGKILL while delivering, then restarted.
@Suite(.serialized, .timeLimit(.minutes(5)), .stopsReceivers) struct ServeProcessTests {
    static var executable: String { BuiltProduct.argusEvents }

    /// A running server and what it printed at start. It dies with the test process, and is killed
    /// when this object goes away.
    final class Server {
        let process: ChildProcess
        var base = ""
        var lines: [String] = []

        private init(process: ChildProcess) {
            self.process = process
        }

        /// Starts `serve --no-supervisor` and waits until it printed its address: at most 30 s, 90 s with
        /// `--engine` (serve waits for the JetStream cluster, which may still be gathering its peers
        /// after its nodes said they were ready; on a loaded machine that took more than 30 s).
        /// - Parameter launcher: a command that runs the rest of the command line (such as
        ///   `["/usr/bin/prlimit", "--nofile=64:64"]`), which must exec it (same pid).
        static func start(dataDirectory: String, firstStart: Bool, extraArguments: [String] = [],
                          launcher: [String] = []) async throws -> Server {
            let command = launcher + [ServeProcessTests.executable,
                "serve", "--no-supervisor", "--data-dir", dataDirectory, "--listen", "127.0.0.1:0",
                "--allow-http", "--allow-target-cidr", "127.0.0.0/8"] + extraArguments
            let server = Server(process: try ChildProcess(command[0], Array(command.dropFirst())))
            try await server.waitUntilListening(firstStart: firstStart, seconds: extraArguments.contains("--engine") ? 90 : 30)
            return server
        }

        private func waitUntilListening(firstStart: Bool, seconds: Double) async throws {
            let ready = await process.waitForOutput(timeoutSeconds: seconds) {
                firstStart ? $0.contains("Try it:") : $0.contains("listening on")
            }
            lines = process.standardOutput.split(separator: "\n").map(String.init)
            base = lines.first { $0.contains("listening on") }?.split(separator: " ").first { $0.hasPrefix("http://") }.map(String.init) ?? ""
            guard ready, !base.isEmpty else {
                process.stop()
                throw ChildProcess.SpawnError(description: "serve did not start within \(Int(seconds)) s; stdout: \(process.standardOutput) stderr: \(process.standardError)")
            }
        }

        func value(after label: String) -> String? {
            lines.first { $0.contains(label) }?.split(separator: " ").last.map(String.init)
        }

        /// The end of the server's standard error without its access-log lines (at most `characterCountMax`
        /// characters): what a failed expectation shows, not the requests a test's polling made.
        func serverLog(characterCountMax: Int = 1_500) -> String {
            String(process.standardError.split(separator: "\n").filter { !$0.contains(#""duration_ms":"#) }.joined(separator: "\n")
                .suffix(characterCountMax))
        }

        func kill9() {
            process.stop()
        }
    }

    static func request(_ method: String, _ url: String, token: String? = nil, basic: String? = nil, body: String? = nil,
                        contentType: String = "application/json") async throws -> (Int, JSONValue?) {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let basic { request.setValue("Basic " + Base64.encode(Array(basic.utf8)), forHTTPHeaderField: "Authorization") }
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue(contentType, forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, try? JSONParser.parse([UInt8](data)))
    }

    @Test func killDashNineDuringDeliveryLosesNothingAndRedeliversAtMostTheWindow() async throws {
        let directory = NSTemporaryDirectory() + "argus-kill-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let receiver = try Receiver { _, _ in
            try? await Task.sleep(nanoseconds: 3_000_000)
            return HTTPResponse(status: 200)
        }
        var server = try await Server.start(dataDirectory: directory, firstStart: true)
        defer { server.kill9() }
        let clientID = try #require(server.value(after: "client_id:"))
        let secret = try #require(server.value(after: "client_secret:"))
        let (_, tokenReply) = try await Self.request("POST", server.base + "/oauth/token", basic: "\(clientID):\(secret)",
                                                     body: "grant_type=client_credentials", contentType: "application/x-www-form-urlencoded")
        let token = try #require(tokenReply?["access_token"]?.stringValue)
        let window = 8
        let (status, webhook) = try await Self.request("POST", server.base + "/v1/webhooks", token: token,
            body: #"{"url":"\#(receiver.url)","event_types":["user.*"],"organization_id":"platform","max_in_flight":\#(window)}"#)
        #expect(status == 201)
        let total = 600
        for batch in 0..<(total / 100) {
            let events = (0..<100).map { #"{"type":"user.login","data":{"n":\#(batch * 100 + $0)}}"# }.joined(separator: ",")
            let (code, _) = try await Self.request("POST", server.base + "/v1/events/batch", token: token, body: #"{"events":[\#(events)]}"#)
            #expect(code == 201)
        }
        #expect(await receiver.wait(seconds: 30) { $0.count >= 150 })
        server.kill9()
        let beforeRestart = receiver.received.count
        #expect(beforeRestart < total, "the kill landed during delivery")
        server = try await Server.start(dataDirectory: directory, firstStart: false)
        let numbers = { (deliveries: [Receiver.Delivery]) in Set(deliveries.compactMap { $0.json?["data"]?["n"]?.int64Value }) }
        #expect(await receiver.wait(seconds: 60) { numbers($0).count == total }, "every event arrived")
        let webhookID = try #require(webhook?["id"]?.stringValue)
        #expect(await eventually(seconds: 30) {
            let stats = try? await Self.request("GET", server.base + "/v1/webhooks/\(webhookID)/stats", token: token).1
            return stats?["lag"]?.int64Value == 0 && stats?["in_flight"]?.int64Value == 0 && stats?["unresolved"]?.int64Value == 0
        }, "the lane settled: nothing more will be sent")
        let received = receiver.received.filter { $0.json?["type"]?.stringValue == "user.login" }
        var idsByNumber: [Int64: Set<String>] = [:]
        for delivery in received {
            idsByNumber[delivery.json?["data"]?["n"]?.int64Value ?? -1, default: []].insert(delivery.deliveryID ?? "")
        }
        #expect(!idsByNumber.isEmpty && idsByNumber.values.allSatisfy { $0.count == 1 }, "redeliveries carry the same delivery id")
        let duplicates = received.count - total
        #expect(duplicates <= window, "redelivered \(duplicates), window \(window)")
    }

    @Test func serveArchivesInTheBackgroundAndRetentionDeletesOnlyArchivedSegments() async throws {
        let directory = NSTemporaryDirectory() + "argus-bgarchive-\(UUID().uuidString.prefix(8))"
        let archive = directory + "-archive"
        defer {
            try? FileManager.default.removeItem(atPath: directory)
            try? FileManager.default.removeItem(atPath: archive)
        }
        let server = try await Server.start(dataDirectory: directory, firstStart: true, extraArguments: [
            "--segment-bytes", "4096", "--archive-target", "file://" + archive, "--archive-interval-seconds", "1",
            "--retention-bytes", "8192"])
        defer { server.kill9() }
        let clientID = try #require(server.value(after: "client_id:"))
        let secret = try #require(server.value(after: "client_secret:"))
        let (_, tokenReply) = try await Self.request("POST", server.base + "/oauth/token", basic: "\(clientID):\(secret)",
                                                     body: "grant_type=client_credentials", contentType: "application/x-www-form-urlencoded")
        let token = try #require(tokenReply?["access_token"]?.stringValue)
        for batch in 0..<4 {
            let events = (0..<25).map { #"{"type":"user.login","data":{"n":\#(batch * 25 + $0),"pad":"\#(String(repeating: "x", count: 100))"}}"# }
            let (code, _) = try await Self.request("POST", server.base + "/v1/events/batch", token: token,
                                                   body: #"{"events":[\#(events.joined(separator: ","))]}"#)
            #expect(code == 201)
        }
        // Wait for the background run to archive and for retention to remove the oldest local segments.
        let logDirectory = directory + "/log"
        var deleted = false
        for _ in 0..<100 {
            let local = ((try? FileManager.default.contentsOfDirectory(atPath: logDirectory)) ?? []).filter { $0.hasSuffix(".log") }
            if !local.contains("00000000000000000000.log") { deleted = true; break }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        #expect(deleted, "retention removed the first segment once it was archived")
        let manifest = (try? FileManager.default.contentsOfDirectory(atPath: archive + "/manifest")) ?? []
        #expect(manifest.contains("00000000000000000000.json"), "the deleted segment is in the archive")
        let verify = try await ChildProcess.run(Self.executable, ["verify", "--data-dir", directory, "--archive", "file://" + archive])
        #expect(verify.status == 0, "the archive and the local log verify as one chain: \(verify.output) \(verify.errors)")
    }

    @Test func theSupervisorRestartsACrashedServerAndTheServerDiesWithTheSupervisor() async throws {
        let directory = NSTemporaryDirectory() + "argus-supervisor-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let supervisor = try ChildProcess(Self.executable, ["serve", "--data-dir", directory, "--listen", "127.0.0.1:0"])
        defer { supervisor.stop() }
        #expect(await supervisor.waitForOutput(timeoutSeconds: 30) { $0.contains("Try it:") }, "serve started: \(supervisor.standardError)")
        func serverPIDs() -> [Int32] {
            let candidates = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
            return candidates.compactMap(Int32.init).filter { pid in
                guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return false }
                return status.contains("PPid:\t\(supervisor.pid)\n")
            }
        }
        let first = try #require(serverPIDs().first, "the supervisor runs the server as a child")
        kill(first, SIGKILL)
        var second: Int32?
        for _ in 0..<100 {
            if let pid = serverPIDs().first, pid != first { second = pid; break }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        #expect(second != nil, "a crashed server is started again")
        #expect(supervisor.isRunning)
        // The new server took the log's lock: it is really serving this data directory.
        var locked = false
        for _ in 0..<100 {
            if let holder = try? String(contentsOfFile: directory + "/log/LOCK", encoding: .utf8), holder.trimmingCharacters(in: .whitespacesAndNewlines) == String(second ?? -1) {
                locked = true
                break
            }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        #expect(locked)
        supervisor.stop()
        var gone = false
        for _ in 0..<100 {
            if let second {
                let status = (try? String(contentsOfFile: "/proc/\(second)/status", encoding: .utf8)) ?? ""
                if kill(second, 0) != 0 || status.contains("State:\tZ") { gone = true; break }
            }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        #expect(gone, "the server stops when its supervisor is gone, even after SIGKILL")
    }

    @Test func publishThroughTheAPIWithTheCLI() async throws {
        let directory = NSTemporaryDirectory() + "argus-cli-publish-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try await Server.start(dataDirectory: directory, firstStart: true)
        defer { server.kill9() }
        let clientID = try #require(server.value(after: "client_id:"))
        let secret = try #require(server.value(after: "client_secret:"))
        let (_, tokenReply) = try await Self.request("POST", server.base + "/oauth/token", basic: "\(clientID):\(secret)",
                                                     body: "grant_type=client_credentials", contentType: "application/x-www-form-urlencoded")
        let token = try #require(tokenReply?["access_token"]?.stringValue)
        func publish(_ arguments: [String]) async throws -> (Int32, String) {
            let result = try await ChildProcess.run(Self.executable, ["publish", "--url", server.base, "--type", "user.created",
                                                                "--org", "org_1"] + arguments)
            return (result.status ?? -1, result.output)
        }
        let (status, printed) = try await publish(["--token", token, "--data", #"{"user_id":"u_1"}"#])
        #expect(status == 0)
        let reply = try JSONParser.parse(Array(printed.utf8))
        #expect(reply["offset"]?.int64Value != nil && reply["id"]?.stringValue?.hasPrefix("evt_") == true)
        #expect(try await publish(["--token", "at_wrong"]).0 == 1)
    }
}
