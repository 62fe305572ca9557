import Foundation

/// `argus-bench api`: durable publishes over keep-alive driven by wrk, single events and batches of 100,
/// next to Redis Streams XADD at equal durability (`appendfsync always`, redis-benchmark, the same
/// connections and 1 KiB) and wrk against nginx `return 204;` on the same machine as the ceiling.
struct APIBenchmark: Benchmark {
    static let name = "api"
    static let summary = "durable publishes/s via wrk (single and batches of 100) vs Redis XADD (appendfsync always) and nginx return 204"
    static let usage = "api [--seconds S] [--connections N] [--rounds R] [--idle N] [--no-redis]"

    static func run(_ words: [String]) async throws -> Int32 {
        var seconds = 5
        var connections = 64
        var runRedis = true
        var rounds = 3
        var idleConnections = 2000
        var index = 0
        while index < words.count {
            let value = index + 1 < words.count ? Int(words[index + 1]) : nil
            switch words[index] {
            case "--no-redis": runRedis = false; index += 1; continue
            case "--seconds": seconds = try value ?? { throw BenchmarkUsageError("--seconds needs a number") }()
            case "--connections": connections = try value ?? { throw BenchmarkUsageError("--connections needs a number") }()
            case "--rounds": rounds = max(1, try value ?? { throw BenchmarkUsageError("--rounds needs a number") }())
            case "--idle": idleConnections = min(3000, max(0, try value ?? { throw BenchmarkUsageError("--idle needs a number") }()))
            default: throw BenchmarkUsageError("unknown option \(words[index])")
            }
            index += 2
        }
        let tools = FileManager.default.currentDirectoryPath + "/tools"
        var report = BenchmarkReport(bench: name)
        let server = try ServerProcess()
        defer { server.stop() }
        let token = try server.token()
        // Single publishes and Redis take turns, `rounds` times, and each keeps its best round: on a
        // shared machine a neighbour's burst then costs both sides alike, not whichever ran then.
        // The same server without proof upkeep (no leaf hashes, no checkpoints) takes its turn too,
        // so what the upkeep costs prints beside the rest.
        let bare = try ServerProcess(environment: ["ARGUS_PROOF_UPKEEP": "off"])
        defer { bare.stop() }
        let bareToken = try bare.token()
        var bestArgus: WrkReport?
        var bestBare: WrkReport?
        var bestRedis: LogBenchmark.AppendResult?
        for _ in 0..<rounds {
            if let wrk = try runWrk(server: server, token: token, script: "wrk_publish.lua", seconds: seconds, connections: connections, tools: tools),
               wrk.requestsPerSecond > bestArgus?.requestsPerSecond ?? -1 {
                bestArgus = wrk
            }
            if let wrk = try runWrk(server: bare, token: bareToken, script: "wrk_publish.lua", seconds: seconds, connections: connections, tools: tools),
               wrk.requestsPerSecond > bestBare?.requestsPerSecond ?? -1 {
                bestBare = wrk
            }
            guard runRedis else { continue }
            // The peer: the same connections and event size, about as many requests as we served.
            let served = Int(bestArgus?.requestsPerSecond ?? 20_000) * seconds
            if let redis = LogBenchmark.redisStreams(clients: connections, requests: min(max(20_000, served), 300_000), payloadBytes: 1024),
               redis.rate > bestRedis?.rate ?? -1 {
                bestRedis = redis
            }
        }
        if let wrk = bestArgus {
            var note = String(format: "%.0f events/s, p50 %.2f ms, p99 %.2f ms, %d connections, best of %d", wrk.requestsPerSecond,
                              wrk.p50Ms, wrk.p99Ms, connections, rounds) + (wrk.errors.map { "; \($0)" } ?? "")
            if let redis = bestRedis { note += String(format: "; %.2fx redis (target >= 1.0)", wrk.requestsPerSecond / redis.rate) }
            if runRedis, bestRedis == nil { note += "; redis peer unavailable (tools/redis_streams_peer.sh)" }
            report.add(name: "publish single event", impl: "argus (fsync always)", value: wrk.requestsPerSecond, unit: .operationsPerSecond, note: note)
        } else {
            report.add(name: "publish single event", impl: "argus", value: .nan, unit: .operationsPerSecond, note: "wrk failed")
        }
        if let wrk = bestBare {
            var note = String(format: "%.0f events/s, p50 %.2f ms, p99 %.2f ms, best of %d", wrk.requestsPerSecond, wrk.p50Ms, wrk.p99Ms, rounds)
            if let full = bestArgus {
                note += String(format: "; proof upkeep costs %.1f%% (budget 10%%)", (1 - full.requestsPerSecond / wrk.requestsPerSecond) * 100)
            }
            report.add(name: "publish single event", impl: "argus, no proof upkeep", value: wrk.requestsPerSecond, unit: .operationsPerSecond, note: note)
        }
        if let redis = bestRedis {
            report.add(name: "publish single event", impl: "redis XADD (appendfsync always)", value: redis.rate, unit: .operationsPerSecond,
                       note: String(format: "redis-benchmark, p50 %.2f ms, p99 %.2f ms, %d connections, 1 KiB, best of %d",
                                    redis.p50Ms, redis.p99Ms, connections, rounds))
        }
        if idleConnections > 0 {
            // The same single publishes while `idleConnections` keep-alive connections sit open and silent: what
            // idle clients cost the busy ones (each loop turn of a poll() server scans them all; epoll does not).
            let idle = try IdleConnections(port: server.port, count: idleConnections)
            defer { idle.close() }
            if let wrk = try runWrk(server: server, token: token, script: "wrk_publish.lua", seconds: seconds, connections: connections, tools: tools) {
                var note = String(format: "%.0f events/s, p50 %.2f ms, p99 %.2f ms, %d busy + %d idle connections", wrk.requestsPerSecond,
                                  wrk.p50Ms, wrk.p99Ms, connections, idle.count)
                if let best = bestArgus { note += String(format: "; %.2fx of the run without idle connections", wrk.requestsPerSecond / best.requestsPerSecond) }
                report.add(name: "publish single event, \(idle.count) idle connections open", impl: "argus (fsync always)",
                           value: wrk.requestsPerSecond, unit: .operationsPerSecond, note: note)
            }
        }
        if let wrk = try runWrk(server: server, token: token, script: "wrk_batch.lua", seconds: seconds, connections: connections, tools: tools) {
            report.add(name: "publish batch of 100", impl: "argus (fsync always)", value: wrk.requestsPerSecond * 100, unit: .operationsPerSecond,
                       note: String(format: "%.0f events/s, p50 %.2f ms, p99 %.2f ms, %d connections", wrk.requestsPerSecond * 100,
                                    wrk.p50Ms, wrk.p99Ms, connections) + (wrk.errors.map { "; \($0)" } ?? ""))
        } else {
            report.add(name: "publish batch of 100", impl: "argus", value: .nan, unit: .operationsPerSecond, note: "wrk failed")
        }
        let (_, output) = try ChildProcess.run("/bin/bash", arguments: [tools + "/api_bench.sh", "nginx", String(seconds), String(connections)],
                                               environment: ProcessInfo.processInfo.environment)
        if let wrk = WrkReport(String(decoding: output, as: UTF8.self)) {
            report.add(name: "ceiling: return 204", impl: "nginx", value: wrk.requestsPerSecond, unit: .operationsPerSecond,
                       note: String(format: "p50 %.2f ms, p99 %.2f ms, %d connections", wrk.p50Ms, wrk.p99Ms, connections))
        }
        report.add(name: "server resident memory after run", impl: "argus", value: Double(server.residentKilobytes()) / 1024, unit: .mebibytes)
        report.print()
        return 0
    }

    /// One wrk run of `script` against the server; nil when wrk failed or any answer was not 2xx (the scripts
    /// carry no per-response Lua callback, which would cost wrk CPU on the machine the server shares; wrk
    /// counts non-2xx answers itself).
    private static func runWrk(server: ServerProcess, token: String, script: String, seconds: Int, connections: Int,
                               tools: String) throws -> WrkReport? {
        let (_, output) = try ChildProcess.run("/bin/bash", arguments: [
            tools + "/api_bench.sh", "wrk", server.base, token, tools + "/" + script, String(seconds), String(connections),
        ], environment: ProcessInfo.processInfo.environment)
        let text = String(decoding: output, as: UTF8.self)
        guard let report = WrkReport(text) else { return nil }
        if let errors = report.errors, errors.contains("Non-2xx") {
            print("wrk \(script): \(errors); the run does not count")
            return nil
        }
        return report
    }
}
