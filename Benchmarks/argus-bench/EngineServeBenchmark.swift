import Foundation
import HTTPServer
import JSON
import Service
import Synchronization

/// `argus-bench engine --serve`: publishes/s (wrk, `tools/wrk_publish.lua`, 16 connections per process) and
/// deliveries/s (one webhook to a receiver in this process) through `serve` processes: the local engine,
/// one `serve --engine`, two `serve --engine` (wrk against both at once; the webhook is delivered by the one
/// process holding its lease).
enum EngineServeBenchmark {
    final class Counter: Sendable {
        let count = Mutex(0)
    }

    static func run(servers: String, seconds: Int, into report: inout BenchmarkReport) async throws {
        let tools = FileManager.default.currentDirectoryPath + "/tools"
        let counter = Counter()
        let receiver = HTTPServer(configuration: {
            var configuration = HTTPServerConfiguration()
            configuration.port = 0
            return configuration
        }(), handler: Handler(counter: counter))
        let port = try receiver.start()
        do {
            try await runServes(servers: servers, seconds: seconds, hooks: "http://127.0.0.1:\(port)/hook", counter: counter, tools: tools, into: &report)
        } catch {
            await receiver.shutdown(graceSeconds: 1)
            throw error
        }
        await receiver.shutdown(graceSeconds: 1)
    }

    private static func runServes(servers: String, seconds: Int, hooks: String, counter: Counter, tools: String,
                                  into report: inout BenchmarkReport) async throws {
        let allow = ["--allow-http", "--allow-target-cidr", "127.0.0.0/8"]

        let local = try ServerProcess(extraArguments: allow)
        defer { local.stop() }
        try await measure(impl: "local engine, 1 serve", [local], seconds: seconds, hooks: hooks, counter: counter, tools: tools, into: &report)

        // A client of our own in the engine (its first admin client may belong to an earlier run).
        let engine = try await EngineBinding.open(servers: servers, logger: Logger.discarding)
        let (client, secret) = try await ArgusService.registerClient(engine: engine, organizationID: "platform", scopes: Scope.all)
        engine.connection.close()
        let engineArguments = allow + ["--engine", servers]
        let first = try ServerProcess(extraArguments: engineArguments, credentials: (client.clientID, secret))
        defer { first.stop() }
        try await waitForClient(first)
        try await measure(impl: "NATS engine, 1 serve", [first], seconds: seconds, hooks: hooks, counter: counter, tools: tools, into: &report)
        let second = try ServerProcess(extraArguments: engineArguments, credentials: (client.clientID, secret))
        defer { second.stop() }
        try await waitForClient(second)
        try await measure(impl: "NATS engine, 2 serve", [first, second], seconds: seconds, hooks: hooks, counter: counter, tools: tools, into: &report)
    }

    /// Counts the deliveries it answers (204).
    struct Handler: HTTPHandler {
        let counter: Counter
        func handle(_ request: HTTPRequest) async -> HTTPResponse {
            counter.count.withLock { $0 += 1 }
            return HTTPResponse(status: 204)
        }
    }

    /// Waits (at most 20 s) until `server` knows the client (it arrives from the engine).
    static func waitForClient(_ server: ServerProcess) async throws {
        for _ in 0..<200 {
            if (try? server.token()) != nil { return }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        throw BenchmarkUsageError("the serve process did not learn the benchmark's client within 20 s")
    }

    /// A webhook for `org_bench` created through the first server, wrk against every server at once, then the
    /// deliveries counted until the receiver has them all (at most 120 s more).
    static func measure(impl: String, _ servers: [ServerProcess], seconds: Int, hooks: String, counter: Counter, tools: String,
                        into report: inout BenchmarkReport) async throws {
        let tokens = try servers.map { try $0.token() }
        let (status, output) = try ChildProcess.run("/usr/bin/curl", arguments: [
            "-s", "-H", "Authorization: Bearer \(tokens[0])", "-H", "content-type: application/json", "-d",
            #"{"url":"\#(hooks)","organization_id":"*","event_types":["user.login"],"max_in_flight":64}"#, servers[0].base + "/v1/webhooks",
        ], environment: ProcessInfo.processInfo.environment)
        let text = String(decoding: output, as: UTF8.self)
        guard status == 0, let created = try? JSONParser.parse(Array(text.utf8)), let webhookID = created["id"]?.stringValue else {
            throw BenchmarkUsageError("could not create the webhook: \(text)")
        }
        // The lease is taken within a round (2 s) under the NATS engine.
        try await Task.sleep(nanoseconds: 3_000_000_000)
        let before = counter.count.withLock { $0 }
        let started = Date()
        // wrk blocks: each run waits on a thread of its own, never on the concurrency pool (the receiver answers there).
        let rates = await withTaskGroup(of: Double?.self) { group in
            for (base, token) in zip(servers.map(\.base), tokens) {
                let arguments = [tools + "/api_bench.sh", "wrk", base, token, tools + "/wrk_publish.lua", String(seconds), "16"]
                group.addTask { await onThread { wrkRate(arguments) } }
            }
            return await group.reduce(into: [Double?]()) { $0.append($1) }
        }
        guard rates.allSatisfy({ $0 != nil }) else {
            report.add(name: "serve_publish", impl: impl, value: 0, unit: .operationsPerSecond, note: "wrk failed or saw non-2xx answers; the run does not count")
            return
        }
        let published = rates.compactMap { $0 }.reduce(0, +)
        report.add(name: "serve_publish", impl: impl, sizeBytes: 1_000, value: published, unit: .operationsPerSecond,
                   note: "wrk, 16 connections per serve process, \(seconds) s")
        // Every publish wrk made is one delivery; wait for the count to stop growing (or 120 s).
        var last = -1
        var delivered = counter.count.withLock { $0 } - before
        let deadline = Date().addingTimeInterval(Double(seconds) + 120)
        while delivered != last && Date() < deadline {
            last = delivered
            try await Task.sleep(nanoseconds: 2_000_000_000)
            delivered = counter.count.withLock { $0 } - before
        }
        let elapsed = Date().timeIntervalSince(started) - 2
        report.add(name: "serve_deliver", impl: impl, value: Double(delivered) / max(elapsed, 0.001), unit: .operationsPerSecond,
                   note: "\(delivered) deliveries of one webhook (max_in_flight 64) from the first publish to the last delivery")
        _ = try? ChildProcess.run("/usr/bin/curl", arguments: ["-s", "-X", "DELETE", "-H", "Authorization: Bearer \(tokens[0])", servers[0].base + "/v1/webhooks/\(webhookID)"],
                                  environment: ProcessInfo.processInfo.environment)
    }

    /// One wrk run's requests/s, or nil when it failed or saw non-2xx answers.
    static func wrkRate(_ arguments: [String]) -> Double? {
        guard let (_, output) = try? ChildProcess.run("/bin/bash", arguments: arguments, environment: ProcessInfo.processInfo.environment),
              let wrk = WrkReport(String(decoding: output, as: UTF8.self)), !(wrk.errors ?? "").contains("Non-2xx") else { return nil }
        return wrk.requestsPerSecond
    }

    /// Runs blocking `body` on a new thread and returns its result.
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: body()) }.start()
        }
    }
}
