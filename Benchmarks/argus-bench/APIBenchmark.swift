import Foundation

/// `argus-bench api`: durable publishes over keep-alive driven by wrk, single events and batches of 100,
/// next to Redis Streams XADD at equal durability (`appendfsync always`, redis-benchmark, the same
/// connections and 1 KiB) and wrk against nginx `return 204;` on the same machine as the ceiling.
struct APIBenchmark: Benchmark {
    static let name = "api"
    static let summary = "durable publishes/s via wrk (single and batches of 100) vs Redis XADD (appendfsync always) and nginx return 204"
    static let usage = "api [--seconds S] [--connections N] [--no-redis]"

    static func run(_ words: [String]) async throws -> Int32 {
        var seconds = 5
        var connections = 64
        var runRedis = true
        var index = 0
        while index < words.count {
            let value = index + 1 < words.count ? Int(words[index + 1]) : nil
            switch words[index] {
            case "--no-redis": runRedis = false; index += 1; continue
            case "--seconds": seconds = try value ?? { throw BenchmarkUsageError("--seconds needs a number") }()
            case "--connections": connections = try value ?? { throw BenchmarkUsageError("--connections needs a number") }()
            default: throw BenchmarkUsageError("unknown option \(words[index])")
            }
            index += 2
        }
        let tools = FileManager.default.currentDirectoryPath + "/tools"
        var report = BenchmarkReport(bench: name)
        let server = try ServerProcess()
        defer { server.stop() }
        let token = try server.token()
        for (label, script, eventsPerRequest) in [("publish single event", "wrk_publish.lua", 1), ("publish batch of 100", "wrk_batch.lua", 100)] {
            let (_, output) = try ChildProcess.run("/bin/bash", arguments: [
                tools + "/api_bench.sh", "wrk", server.base, token, tools + "/" + script, String(seconds), String(connections),
            ], environment: ProcessInfo.processInfo.environment)
            guard let wrk = WrkReport(String(decoding: output, as: UTF8.self)) else {
                report.add(name: label, impl: "argus", value: .nan, unit: .operationsPerSecond, note: "wrk failed")
                continue
            }
            let note = String(format: "%.0f events/s, p50 %.2f ms, p99 %.2f ms, %d connections", wrk.requestsPerSecond * Double(eventsPerRequest),
                              wrk.p50Ms, wrk.p99Ms, connections) + (wrk.errors.map { "; \($0)" } ?? "")
            let eventsPerSecond = wrk.requestsPerSecond * Double(eventsPerRequest)
            guard eventsPerRequest == 1, runRedis else {
                report.add(name: label, impl: "argus (fsync always)", value: eventsPerSecond, unit: .operationsPerSecond, note: note)
                continue
            }
            // The peer: the same connections and event size, as many requests as we served (at least 20,000).
            let requests = min(max(20_000, Int(eventsPerSecond) * seconds), 300_000)
            guard let redis = LogBenchmark.redisStreams(clients: connections, requests: requests, payloadBytes: 1024) else {
                report.add(name: label, impl: "argus (fsync always)", value: eventsPerSecond, unit: .operationsPerSecond,
                           note: note + "; redis peer unavailable (tools/redis_streams_peer.sh)")
                continue
            }
            report.add(name: label, impl: "argus (fsync always)", value: eventsPerSecond, unit: .operationsPerSecond,
                       note: note + String(format: "; %.2fx redis (target >= 1.0)", eventsPerSecond / redis.rate))
            report.add(name: label, impl: "redis XADD (appendfsync always)", value: redis.rate, unit: .operationsPerSecond,
                       note: String(format: "redis-benchmark, p50 %.2f ms, p99 %.2f ms, %d connections, 1 KiB",
                                    redis.p50Ms, redis.p99Ms, connections))
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
}
