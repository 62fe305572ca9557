import Foundation

/// `argus-bench api`: durable publishes over keep-alive driven by wrk, single events and batches of 100,
/// next to wrk against nginx `return 204;` on the same machine as the ceiling.
struct APIBenchmark: Benchmark {
    static let name = "api"
    static let summary = "durable publishes/s via wrk (single and batches of 100) vs nginx return 204"
    static let usage = "api [--seconds S] [--connections N]"

    static func run(_ words: [String]) async throws -> Int32 {
        var seconds = 5
        var connections = 64
        var index = 0
        while index < words.count {
            let value = index + 1 < words.count ? Int(words[index + 1]) : nil
            switch words[index] {
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
            report.add(name: label, impl: "argus (fsync always)", value: wrk.requestsPerSecond * Double(eventsPerRequest),
                       unit: .operationsPerSecond, note: note)
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
