import ArgusTestSupport
import EventLog
import Foundation
import JSON
import Testing
@testable import Service

/// Each documented flag of `tail`, `cursors`, `clients`, `sign`, `verify-signature` and `verify`, and `serve`'s
/// `--config` and `ARGUS_*` variables, run as the real executable with an asserted effect, plus the exit codes
/// (0 ok, 1 failure found, 2 usage error).
@Suite(.serialized, .timeLimit(.minutes(3))) struct CommandLineTests {
    static var executable: String { BuiltProduct.argusEvents }

    static func run(_ arguments: [String], environment: [String: String] = [:], input: String = "") async throws
        -> (status: Int32?, output: String, errors: String) {
        try await ChildProcess.run(executable, arguments, environment: environment, standardInput: Array(input.utf8), timeoutSeconds: 60)
    }

    /// Lines printed by `tail --format json`, parsed.
    static func envelopes(_ output: String) -> [JSONValue] {
        output.split(separator: "\n").compactMap { try? JSONParser.parse(Array($0.utf8)) }
    }

    /// A data directory with events of two organizations and three types, in two time groups; returns
    /// the directory, the first offset of the late group, and the late group's first time.
    static func populatedDirectory() async throws -> (ServiceHarness, lateOffset: Int64, lateSince: String) {
        let harness = try ServiceHarness()
        let admin = try await harness.token(organization: "platform", scopes: ["platform:admin"])
        func publish(_ organization: String, _ type: String, _ n: Int) async throws -> (Int64, Int64) {
            let reply = await harness.send("POST", "/v1/events", token: admin,
                                           body: #"{"type":"\#(type)","organization_id":"\#(organization)","data":{"n":\#(n)}}"#)
            return (try #require(reply.json?["offset"]?.int64Value),
                    try #require(reply.json?["timestamp"]?.stringValue.flatMap(Timestamp.parse)))
        }
        var lastEarlyMs: Int64 = 0
        for (n, (organization, type)) in [("org_a", "user.login"), ("org_b", "security.account_locked"), ("org_a", "mfa.enabled")].enumerated() {
            lastEarlyMs = try await publish(organization, type, n).1
        }
        #expect(await eventually(seconds: 5) { DeliveryPromiseTests.wallClockMs > lastEarlyMs + 1 })
        var lateOffset: Int64 = -1
        for (n, (organization, type)) in [("org_b", "user.login"), ("org_a", "security.suspicious_login"), ("org_b", "mfa.enabled")].enumerated() {
            let (offset, _) = try await publish(organization, type, 10 + n)
            if lateOffset < 0 { lateOffset = offset }
        }
        return (harness, lateOffset, Timestamp.format(ms: lastEarlyMs + 1))
    }

    @Test func tailFlagsEachSelectWhatTheySay() async throws {
        let (harness, lateOffset, since) = try await Self.populatedDirectory()
        defer { harness.close(); harness.removeDirectory() }
        let data = ["--data-dir", harness.path]
        let all = Self.envelopes(try await Self.run(["tail"] + data + ["--from", "beginning"]).output)
        let head = Int64(harness.service.log.nextOffset)
        #expect(all.compactMap { $0["offset"]?.int64Value } == Array(0..<head), "--from beginning: every event in order")
        #expect(all.count >= 6)
        func offsets(_ flags: [String]) async throws -> [Int64] {
            let result = try await Self.run(["tail"] + data + flags)
            #expect(result.status == 0, "\(flags): \(result.errors)")
            return Self.envelopes(result.output).compactMap { $0["offset"]?.int64Value }
        }
        func selected(_ keep: (JSONValue) -> Bool) -> [Int64] { all.filter(keep).compactMap { $0["offset"]?.int64Value } }
        #expect(try await offsets(["--count", "2"]) == [0, 1])
        #expect(try await offsets(["--from", "3"]) == Array(3..<head))
        #expect(try await offsets(["--from", "-2"]) == [head - 2, head - 1])
        #expect(try await offsets(["--from", "end"]) == [])
        #expect(try await offsets(["--since", since]) == Array(lateOffset..<head), "--since: the late group only")
        #expect(try await offsets(["--type", "security.*"]) == selected { $0["type"]?.stringValue?.hasPrefix("security.") == true })
        #expect(try await offsets(["--type", "user.login"]).count == 2)
        #expect(try await offsets(["--org", "org_b"]) == selected { $0["organization_id"]?.stringValue == "org_b" })
        #expect(try await offsets(["--org", "org_b", "--type", "mfa.*", "--count", "1"]) == [selected {
            $0["organization_id"]?.stringValue == "org_b" && $0["type"]?.stringValue == "mfa.enabled" }[0]])
        let text = try await Self.run(["tail"] + data + ["--format", "text", "--from", "-1"]).output
        let last = try #require(all.last)
        #expect(text.hasPrefix("\(head - 1) ") && text.contains(last["type"]?.stringValue ?? "?") && text.contains(last["id"]?.stringValue ?? "?"),
                "--format text: offset, time, organization, type, id, data: \(text)")
        // ARGUS_DATA_DIR stands in for --data-dir.
        let viaEnvironment = try await Self.run(["tail", "--from", "-1"], environment: ["ARGUS_DATA_DIR": harness.path])
        #expect(Self.envelopes(viaEnvironment.output).first?["offset"]?.int64Value == head - 1)

        // -f and --follow: started at the head, they print what is appended later, then keep running.
        for follow in ["-f", "--follow"] {
            let start = Int64(harness.service.log.nextOffset)
            let child = try ChildProcess(Self.executable, ["tail"] + data + [follow, "--from", String(start)])
            defer { child.stop() }
            let admin = try await harness.token(organization: "org_f")
            let appended = await harness.send("POST", "/v1/events", token: admin, body: #"{"type":"user.logout","data":{"follow":"\#(follow)"}}"#)
            let id = try #require(appended.json?["id"]?.stringValue)
            #expect(await child.waitForOutput(timeoutSeconds: 20) { $0.contains(id) }, "\(follow) printed the new event")
            #expect(child.isRunning, "\(follow) keeps following")
        }

        for bad in [["--from", "1", "--since", since], ["--format", "xml"], ["--type", "Not A Type"], ["--count", "-1"], ["--from", "soon"],
                    ["--since", "yesterday"], ["--bogus"]] {
            let result = try await Self.run(["tail"] + data + bad)
            #expect(result.status == 2, "\(bad) is a usage error: \(String(describing: result.status)) \(result.errors)")
        }
    }

    @Test func cursorsShowEachWebhooksCursorHeadLagAndStatus() async throws {
        let harness = try ServiceHarness()
        defer { harness.removeDirectory() }
        let token = try await harness.token(organization: "org_a")
        let fromStart = try #require(await harness.createWebhook(token: token, extra: #","start":"beginning""#).json?["id"]?.stringValue)
        for n in 0..<3 { _ = await harness.send("POST", "/v1/events", token: token, body: #"{"type":"user.login","data":{"n":\#(n)}}"#) }
        let fromNow = try #require(await harness.createWebhook(token: token).json?["id"]?.stringValue)
        #expect(await harness.send("PATCH", "/v1/webhooks/\(fromNow)", token: token, body: #"{"status":"disabled"}"#).status == 200)
        let startNow = try #require(harness.service.webhooks.get(fromNow)?.startOffset)
        let head = harness.service.log.nextOffset
        harness.close()

        let json = try await Self.run(["cursors", "--data-dir", harness.path, "--format", "json"])
        #expect(json.status == 0, "\(json.errors)")
        let rows = Self.envelopes(json.output)
        #expect(rows.count == 2)
        let first = try #require(rows.first { $0["webhook_id"]?.stringValue == fromStart })
        #expect(first["cursor"]?.int64Value == 0 && first["head"]?.int64Value == Int64(head) && first["lag"]?.int64Value == Int64(head))
        #expect(first["status"]?.stringValue == "enabled" && first["organization_id"]?.stringValue == "org_a")
        let second = try #require(rows.first { $0["webhook_id"]?.stringValue == fromNow })
        #expect(second["cursor"]?.int64Value == Int64(startNow) && second["lag"]?.int64Value == Int64(head - startNow))
        #expect(second["status"]?.stringValue == "disabled")

        let table = try await Self.run(["cursors"], environment: ["ARGUS_DATA_DIR": harness.path])
        let lines = table.output.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(lines.first == ["WEBHOOK", "ORGANIZATION", "CURSOR", "HEAD", "LAG", "STATUS"], "--format table is the default: \(table.output)")
        #expect(lines.contains([fromNow, "org_a", String(startNow), String(head), String(head - startNow), "disabled"]))
        #expect(try await Self.run(["cursors", "--data-dir", harness.path, "--format", "yaml"]).status == 2)
        #expect(try await Self.run(["cursors", "--data-dir", harness.path + "-missing"]).status == 2, "no log there: a usage error")
    }

    @Test func clientsCreateListAndDeleteWithTheirFlags() async throws {
        let harness = try ServiceHarness()
        defer { harness.removeDirectory() }
        harness.close()
        let data = ["--data-dir", harness.path]
        let created = try await Self.run(["clients", "create"] + data + ["--org", "org_c", "--scopes", "events:read webhooks:read",
                                                                         "--description", "nightly export"])
        #expect(created.status == 0, "\(created.errors)")
        let client = try JSONParser.parse(Array(created.output.utf8))
        let clientID = try #require(client["client_id"]?.stringValue)
        let secret = try #require(client["client_secret"]?.stringValue)
        #expect(secret.hasPrefix("cs_") && client["organization_id"]?.stringValue == "org_c")
        #expect(client["scopes"]?.stringValue == "events:read webhooks:read" && client["description"]?.stringValue == "nightly export")
        let other = try JSONParser.parse(Array(try await Self.run(["clients", "create"] + data + ["--org", "org_d", "--scopes", "events:publish"]).output.utf8))
        let otherID = try #require(other["client_id"]?.stringValue)

        let listed = try await Self.run(["clients", "list"] + data + ["--org", "org_c"])
        #expect(Self.envelopes(listed.output).compactMap { $0["client_id"]?.stringValue } == [clientID], "--org filters")
        #expect(!listed.output.contains(secret) && !listed.output.contains("secret"), "a list never shows a secret")
        let everyone = Self.envelopes(try await Self.run(["clients", "list"] + data).output).compactMap { $0["client_id"]?.stringValue }
        #expect(Set(everyone).isSuperset(of: [clientID, otherID]))

        // The client works against the service with its scopes.
        let server = try ServiceHarness(path: harness.path)
        let issued = await server.send("POST", "/oauth/token", body: "grant_type=client_credentials&client_id=\(clientID)&client_secret=\(secret)",
                                       contentType: "application/x-www-form-urlencoded")
        #expect(issued.status == 200 && issued.json?["scope"]?.stringValue == "events:read webhooks:read")
        // While a server runs on the directory, delete refuses (exit 1) and says to use the API.
        let refused = try await Self.run(["clients", "delete"] + data + ["--client-id", otherID])
        #expect(refused.status == 1 && !refused.errors.isEmpty, "\(refused.output) \(refused.errors)")
        server.close()
        let deleted = try await Self.run(["clients", "delete"] + data + ["--client-id", otherID])
        #expect(deleted.status == 0 && deleted.output.contains(#""deleted":true"#), "\(deleted.errors)")
        let remaining = Self.envelopes(try await Self.run(["clients", "list"] + data).output).compactMap { $0["client_id"]?.stringValue }
        #expect(remaining.contains(clientID) && !remaining.contains(otherID))

        for bad in [["create", "--scopes", "events:read"], ["create", "--org", "org_c", "--scopes", "events:everything"],
                    ["create", "--org", "bad org!", "--scopes", "events:read"], ["delete"], ["rename"]] {
            #expect(try await Self.run(["clients"] + bad + data).status == 2, "\(bad) is a usage error")
        }
    }

    @Test func verifyExitsOneNamingTheFirstDamagedOffset() async throws {
        let harness = try ServiceHarness()
        defer { harness.removeDirectory() }
        let token = try await harness.token(organization: "org_a")
        let first = Int64(harness.service.log.nextOffset)
        for n in 0..<10 {
            _ = await harness.send("POST", "/v1/events", token: token, body: #"{"type":"user.login","data":{"mark":"mark-\#(n)-end"}}"#)
        }
        harness.close()
        let intact = try await Self.run(["verify", "--data-dir", harness.path])
        #expect(intact.status == 0 && intact.output.hasPrefix("ok: "), "\(intact.output) \(intact.errors)")
        // One byte of the event at first + 5 changed inside its data.
        let logDirectory = harness.path + "/log"
        let segment = try #require(try FileManager.default.contentsOfDirectory(atPath: logDirectory).filter { $0.hasSuffix(".log") }.sorted().first)
        var bytes = try #require(FileManager.default.contents(atPath: logDirectory + "/" + segment)).map { $0 }
        let needle = Array("mark-5-end".utf8)
        let position = try #require((0...(bytes.count - needle.count)).first { Array(bytes[$0..<($0 + needle.count)]) == needle })
        bytes[position] = UInt8(ascii: "M")
        try Data(bytes).write(to: URL(fileURLWithPath: logDirectory + "/" + segment))
        let damaged = try await Self.run(["verify", "--data-dir", harness.path])
        #expect(damaged.status == 1, "\(damaged.output) \(damaged.errors)")
        #expect(damaged.output.contains("FAILED at offset \(first + 5):"), "names the offset: \(damaged.output)")
        #expect(try await Self.run(["verify", "--data-dir", harness.path, "--bogus"]).status == 2)
    }

    @Test func signAndVerifySignatureExitZeroOneOrTwo() async throws {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        let body = #"{"test": 2432232314}"#
        let signed = try await Self.run(["sign", "--secret", secret, "--id", "msg_p5jXN8AQM9LWM0D4loKWxJek", "--timestamp", "1614265330",
                                         "--event", "user.login", "--attempt", "3"], input: body)
        #expect(signed.status == 0, "\(signed.errors)")
        let headers = signed.output.split(separator: "\n").map(String.init)
        // The published Standard Webhooks example: this secret, id, time and body sign to this value.
        #expect(headers.contains("webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="), "\(headers)")
        #expect(headers.contains("x-argus-attempt: 3") && headers.contains("x-argus-event: user.login"))
        let headerFlags = headers.flatMap { ["--header", $0] }
        let verified = try await Self.run(["verify-signature", "--secret", secret, "--now", "1614265330"] + headerFlags, input: body)
        #expect(verified.status == 0 && verified.output == "ok\n", "\(verified.output) \(verified.errors)")
        let tampered = try await Self.run(["verify-signature", "--secret", secret, "--now", "1614265330"] + headerFlags, input: body + " ")
        #expect(tampered.status == 1 && !tampered.errors.isEmpty, "a changed body fails with the reason: \(tampered.errors)")
        let stale = try await Self.run(["verify-signature", "--secret", secret, "--now", "1614269999"] + headerFlags, input: body)
        #expect(stale.status == 1, "outside the tolerance")
        let tolerated = try await Self.run(["verify-signature", "--secret", secret, "--now", "1614269999", "--tolerance-seconds", "86400"] + headerFlags,
                                           input: body)
        #expect(tolerated.status == 0, "--tolerance-seconds widens it")

        let usage: [[String]] = [
            ["sign"], ["sign", "--secret", "whsec_not!base64"], ["sign", "--secret", secret, "--timestamp", "soon"],
            ["sign", "--secret", secret, "--attempt", "0"], ["sign", "--secret", secret, "--event", "Bad"],
            ["verify-signature", "--secret", secret], ["verify-signature", "--secret", "nope"] + headerFlags,
            ["verify-signature", "--secret", secret, "--header", "no colon here"], ["verify-signature", "--public-key", "whpk_x"] + headerFlags,
        ]
        for arguments in usage {
            let result = try await Self.run(arguments, input: body)
            #expect(result.status == 2, "\(arguments.prefix(4)) is a usage error: \(String(describing: result.status)) \(result.errors)")
        }
    }

    @Test func serveTakesFlagsOverEnvironmentOverConfigFileOverDefaults() async throws {
        let root = NSTemporaryDirectory() + "argus-config-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        func config(_ text: String) throws -> String {
            let path = root + "/config-\(UUID().uuidString.prefix(6)).json"
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            return path
        }
        /// Starts serve and returns the data directory and base URL it printed, or the exit status and stderr when it stopped.
        func serve(_ arguments: [String], environment: [String: String] = [:]) async throws -> (child: ChildProcess, data: String?, base: String?, status: Int32?) {
            let child = try ChildProcess(Self.executable, ["serve", "--no-supervisor"] + arguments, environment: environment)
            let started = await child.waitForOutput(timeoutSeconds: 30) { $0.contains("listening on") }
            guard started else { return (child, nil, nil, await child.wait(timeoutSeconds: 10)) }
            let line = child.standardOutput.split(separator: "\n").first { $0.contains("listening on") }.map(String.init) ?? ""
            let data = line.components(separatedBy: "(data: ").last.map { String($0.dropLast()) }
            let base = line.split(separator: " ").first { $0.hasPrefix("http://") }.map(String.init)
            return (child, data, base, nil)
        }
        let fileData = root + "/from-file", envData = root + "/from-env", flagData = root + "/from-flag"
        let file = try config(#"""
            {"data_dir":"\#(fileData)","listen":"127.0.0.1:0","allow_http":true,"allow_target_cidrs":["127.0.0.0/8"],
             "segment_bytes":4096,"fsync":"interval:50"}
            """#)

        // The config file alone: its data_dir, listen, target rules and segment size all take effect.
        let fromFile = try await serve(["--config", file])
        #expect(fromFile.data == fileData, "data_dir from the file: \(fromFile.child.standardError)")
        let base = try #require(fromFile.base)
        let admin = try #require(fromFile.child.standardOutput.split(separator: "\n").first { $0.contains("client_id:") }?.split(separator: " ").last)
        let adminSecret = try #require(fromFile.child.standardOutput.split(separator: "\n").first { $0.contains("client_secret:") }?.split(separator: " ").last)
        let (_, tokenReply) = try await RawHTTP.request("POST", base + "/oauth/token", basic: "\(admin):\(adminSecret)",
                                                                body: "grant_type=client_credentials", contentType: "application/x-www-form-urlencoded")
        let token = try #require(tokenReply?["access_token"]?.stringValue)
        let (created, _) = try await RawHTTP.request("POST", base + "/v1/webhooks", token: token,
                                                             body: #"{"url":"http://127.0.0.1:9/hook","event_types":["*"],"organization_id":"platform"}"#)
        #expect(created == 201, "allow_http and allow_target_cidrs from the file admit a loopback http:// target")
        let events = (0..<30).map { _ in #"{"type":"user.login","organization_id":"org_a","data":{"pad":"\#(String(repeating: "p", count: 300))"}}"# }
        let (published, _) = try await RawHTTP.request("POST", base + "/v1/events/batch", token: token,
                                                               body: #"{"events":[\#(events.joined(separator: ","))]}"#)
        #expect(published == 201)
        let (single, _) = try await RawHTTP.request("POST", base + "/v1/events", token: token,
                                                            body: #"{"type":"user.login","organization_id":"org_a","data":{}}"#)
        #expect(single == 201)
        let segments = try FileManager.default.contentsOfDirectory(atPath: fileData + "/log").filter { $0.hasSuffix(".log") }
        #expect(segments.count >= 2, "segment_bytes 4096 from the file rolled segments: \(segments)")
        fromFile.child.stop()

        // ARGUS_DATA_DIR beats the file; --data-dir beats ARGUS_DATA_DIR. ARGUS_LISTEN beats the file's listen.
        let fromEnvironment = try await serve(["--config", file], environment: ["ARGUS_DATA_DIR": envData])
        #expect(fromEnvironment.data == envData)
        fromEnvironment.child.stop()
        let fromFlag = try await serve(["--config", file, "--data-dir", flagData], environment: ["ARGUS_DATA_DIR": envData])
        #expect(fromFlag.data == flagData)
        fromFlag.child.stop()
        let badListen = try config(#"{"data_dir":"\#(envData)","listen":"nowhere"}"#)
        let listenFromEnvironment = try await serve(["--config", badListen], environment: ["ARGUS_LISTEN": "127.0.0.1:0"])
        #expect(listenFromEnvironment.base?.hasPrefix("http://127.0.0.1:") == true, "ARGUS_LISTEN wins over the file's listen")
        listenFromEnvironment.child.stop()
        let listenFromFile = try await serve(["--config", badListen])
        #expect(listenFromFile.status == 2 && listenFromFile.child.standardError.contains("--listen"), "the file's bad listen is a usage error")

        // Bad files are usage errors that name the problem; nothing starts.
        let problems: [(String, String)] = [
            (#"{"data_dir":"\#(envData)","listen":"127.0.0.1:0","colour":"blue"}"#, "colour"),
            (#"{"data_dir":"\#(envData)","listen":"127.0.0.1:0","segment_bytes":1}"#, "segment_bytes"),
            (#"{"data_dir":"\#(envData)","listen":"127.0.0.1:0","segment_bytes":"big"}"#, "segment_bytes"),
            (#"{"data_dir":"\#(envData)","listen":"127.0.0.1:0","fsync":"sometimes"}"#, "fsync"),
            (#"{"data_dir":"\#(envData)","listen":"127.0.0.1:0","allow_target_cidrs":["10.0.0.0/99"]}"#, "10.0.0.0/99"),
            (#"["not an object"]"#, "object"), ("{", "config"),
        ]
        for (text, named) in problems {
            let result = try await serve(["--config", try config(text)])
            #expect(result.status == 2 && result.child.standardError.contains(named), "\(text): \(String(describing: result.status)) \(result.child.standardError)")
        }
        let missing = try await serve(["--config", root + "/absent.json"])
        #expect(missing.status == 2)
        for fsync in ["interval:0", "interval:60001", "interval:x"] {
            let result = try await serve(["--data-dir", envData, "--listen", "127.0.0.1:0", "--fsync", fsync])
            #expect(result.status == 2, "--fsync \(fsync) is out of bounds")
        }
    }

    @Test func fsyncIntervalAcknowledgesBeforeTheSyncAndSyncsWithinTheInterval() async throws {
        // `--fsync interval:MS` as serve passes it: appends are acknowledged without waiting for fdatasync, and the
        // writer syncs once the interval passed. `always` syncs before acknowledging.
        let directory = NSTemporaryDirectory() + "argus-fsync-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(FsyncPolicy("interval") == .interval(milliseconds: 100) && FsyncPolicy("interval:50") == .interval(milliseconds: 50))
        /// A log in its own directory under `policy`, with `count` events appended (each acknowledged).
        func log(_ policy: String, appending count: Int) async throws -> EventLog {
            var options = EventLogOptions()
            options.fsyncPolicy = try #require(FsyncPolicy(policy))
            let log = try EventLog(directory: directory + "/" + policy.replacingOccurrences(of: ":", with: "-"), options: options)
            for n in 0..<count {
                _ = try await log.append(NewEvent(organizationID: "org_a", type: "user.login", eventID: try EventID.make(timestampMs: 1),
                                                  data: Array(#"{"n":\#(n)}"#.utf8)))
            }
            return log
        }
        // The longest interval: five appends are acknowledged long before it ends, with no fdatasync yet.
        let slow = try await log("interval:60000", appending: 5)
        #expect(slow.syncStatistics.count == 0, "acknowledged before any fdatasync")
        slow.close()
        // A short one: the idle writer syncs by itself once it passed (a bounded wait, no timing assertion).
        let fast = try await log("interval:50", appending: 1)
        defer { fast.close() }
        let deadline = Date().addingTimeInterval(20)
        while fast.syncStatistics.count == 0 && Date() < deadline { try await Task.sleep(nanoseconds: 20_000_000) }
        #expect(fast.syncStatistics.count > 0, "synced once the interval passed, without another append")
    }
}
