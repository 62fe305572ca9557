import Foundation

/// `argus-bench api`: durable publishes over keep-alive driven by wrk, single events and batches of 100,
/// next to Redis Streams XADD at equal durability (`appendfsync always`, redis-benchmark, the same
/// connections and 1 KiB) and wrk against nginx `return 204;` on the same machine as the ceiling.
struct APIBenchmark: Benchmark {
    static let name = "api"
    static let summary = "durable publishes/s via wrk (single and batches of 100) vs Redis XADD (appendfsync always) and nginx return 204"
    static let usage = "api [--seconds S] [--connections N] [--rounds R] [--idle N] [--no-redis] [--upkeep-only]"

    static func run(_ words: [String]) async throws -> Int32 {
        var seconds = 5
        var connections = 64
        var runRedis = true
        var rounds = 3
        var upkeepOnly = false
        var idleConnections = 2000
        var index = 0
        while index < words.count {
            let value = index + 1 < words.count ? Int(words[index + 1]) : nil
            switch words[index] {
            case "--no-redis": runRedis = false; index += 1; continue
            // Only the servers with and without proof upkeep, alternated (no Redis, batches or nginx).
            case "--upkeep-only": upkeepOnly = true; runRedis = false; index += 1; continue
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
        // Each round's pair (with, without upkeep), run back to back in alternating order, so the cost is
        // the median of paired ratios rather than of runs minutes apart.
        // The server's CPU time per request is measured too: it moves much less with the neighbours' load.
        var pairs: [(with: Double, without: Double)] = []
        var cpuPairs: [(with: Double, without: Double)] = []
        for round in 0..<rounds {
            var with: WrkReport?
            var without: WrkReport?
            var cpu: [Bool: Double] = [:]
            for side in (round % 2 == 0 ? [true, false] : [false, true]) {
                let target = side ? server : bare
                let cpuBefore = target.cpuSeconds()
                let report = try runWrk(server: target, token: side ? token : bareToken, script: "wrk_publish.lua",
                                        seconds: seconds, connections: connections, tools: tools)
                if let report, report.requests > 0 { cpu[side] = (target.cpuSeconds() - cpuBefore) / Double(report.requests) * 1e6 }
                if side { with = report } else { without = report }
            }
            if let with, with.requestsPerSecond > bestArgus?.requestsPerSecond ?? -1 { bestArgus = with }
            if let without, without.requestsPerSecond > bestBare?.requestsPerSecond ?? -1 { bestBare = without }
            if let with, let without { pairs.append((with.requestsPerSecond, without.requestsPerSecond)) }
            if let with = cpu[true], let without = cpu[false] { cpuPairs.append((with, without)) }
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
            let note = String(format: "%.0f events/s, p50 %.2f ms, p99 %.2f ms, best of %d", wrk.requestsPerSecond, wrk.p50Ms, wrk.p99Ms, rounds)
            report.add(name: "publish single event", impl: "argus, no proof upkeep", value: wrk.requestsPerSecond, unit: .operationsPerSecond, note: note)
        }
        if !pairs.isEmpty {
            func median(_ values: [Double]) -> Double {
                let sorted = values.sorted()
                return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
            }
            let costs = pairs.map { 100 * (1 - $0.with / $0.without) }
            report.add(name: "proof upkeep cost", impl: "argus", value: median(costs), unit: .percent,
                       note: String(format: "throughput lost, median of %d paired rounds (budget 10%%): with %.0f/s, without %.0f/s (medians); rounds %@",
                                    pairs.count, median(pairs.map(\.with)), median(pairs.map(\.without)),
                                    costs.map { String(format: "%+.1f%%", $0) }.joined(separator: " ")))
            if !cpuPairs.isEmpty {
                let cpuCosts = cpuPairs.map { 100 * ($0.with / $0.without - 1) }
                report.add(name: "proof upkeep CPU per request", impl: "argus", value: median(cpuCosts), unit: .percent,
                           note: String(format: "server CPU per request, median of %d paired rounds: with %.1f us, without %.1f us (medians); rounds %@",
                                        cpuPairs.count, median(cpuPairs.map(\.with)), median(cpuPairs.map(\.without)),
                                        cpuCosts.map { String(format: "%+.1f%%", $0) }.joined(separator: " ")))
            }
        }
        if upkeepOnly {
            report.print()
            return 0
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
