import Engine
import EventLog
import Foundation
import NATS
import SystemIO

/// `argus-bench engine`: raw JetStream publishes/s from our NATS client (acknowledged, with message
/// ids, `--in-flight` at once) and appends/s through the engine's log (`JetStreamEventLog`), against
/// the servers of `--servers`. Each run uses a fresh stream (deleted afterwards) for the raw row.
struct EngineBenchmark: Benchmark {
    static let name = "engine"
    static let summary = "NATS JetStream publishes/s from our client and engine log appends/s (needs --servers of a running cluster)"
    static let usage = "engine --servers nats://HOST:PORT[,...] [--seconds S] [--in-flight N] [--replicas R] [--size BYTES] [--serve]"

    static func run(_ words: [String]) async throws -> Int32 {
        var servers: String?
        var seconds = 5.0, inFlight = 64, replicas: Int?, size = 256, serve = false
        var index = 0
        func value() throws -> String {
            guard index + 1 < words.count else { throw BenchmarkUsageError("\(words[index]) needs a value") }
            index += 1
            return words[index]
        }
        while index < words.count {
            switch words[index] {
            case "--servers": servers = try value()
            case "--serve": serve = true
            case "--seconds":
                guard let parsed = Double(try value()), parsed > 0, parsed <= 600 else { throw BenchmarkUsageError("--seconds must be in (0, 600]") }
                seconds = parsed
            case "--in-flight":
                guard let parsed = Int(try value()), (1...4_096).contains(parsed) else { throw BenchmarkUsageError("--in-flight must be 1...4096") }
                inFlight = parsed
            case "--replicas":
                guard let parsed = Int(try value()), (1...5).contains(parsed) else { throw BenchmarkUsageError("--replicas must be 1...5") }
                replicas = parsed
            case "--size":
                guard let parsed = Int(try value()), (1...65_536).contains(parsed) else { throw BenchmarkUsageError("--size must be 1...65536") }
                size = parsed
            default:
                throw BenchmarkUsageError("unknown option \(words[index])")
            }
            index += 1
        }
        guard let servers else { throw BenchmarkUsageError("--servers is required") }
        let connection = try await NATSConnection.connect(servers: servers)
        defer { connection.close() }
        let jetStream = JetStream(connection: connection, timeoutSeconds: 10)
        let copies = replicas ?? min(3, connection.knownServers.count)
        var report = BenchmarkReport(bench: name)
        let note = "\(copies) replica(s), \(connection.knownServers.count) server(s), \(inFlight) in flight"

        let streamName = "ARGUS_BENCH_\(UInt32.random(in: 0...UInt32.max))"
        var configuration = JetStreamStreamConfiguration(name: streamName, subjects: ["argus.bench.\(streamName)"])
        configuration.replicas = copies
        _ = try await jetStream.createStream(configuration)
        let payload = [UInt8](repeating: UInt8(ascii: "x"), count: size)
        let raw = try await measure(seconds: seconds, inFlight: inFlight) { worker, count in
            _ = try await jetStream.publish("argus.bench.\(streamName)", payload: payload, messageID: "\(streamName)-\(worker)-\(count)")
        }
        try? await jetStream.deleteStream(streamName)
        report.add(name: "jetstream_publish", impl: "argus NATS client", sizeBytes: size, value: raw, unit: .operationsPerSecond, note: note)

        let log = try await JetStreamEventLog.open(jetStream, replicas: copies)
        let data = Array("{\"pad\":\"\(String(repeating: "x", count: max(0, size - 10)))\"}".utf8)
        let run = UInt32.random(in: 0...UInt32.max)
        let appends = try await measure(seconds: seconds, inFlight: inFlight) { worker, count in
            _ = try await log.append(batch: [NewEvent(organizationID: "org_bench", type: "user.created", eventID: "evt_bench_\(run)_\(worker)_\(count)", data: data)])
        }
        report.add(name: "engine_append", impl: "JetStreamEventLog", sizeBytes: data.count, value: appends, unit: .operationsPerSecond,
                   note: note + "; stream \(JetStreamEventLog.streamName) keeps these events")
        if serve { try await EngineServeBenchmark.run(servers: servers, seconds: max(1, Int(seconds)), into: &report) }
        report.print()
        return 0
    }

    /// Runs `inFlight` workers calling `body` back to back for `seconds`; returns completed calls per second.
    private static func measure(seconds: Double, inFlight: Int, _ body: @escaping @Sendable (Int, Int) async throws -> Void) async throws -> Double {
        let start = SystemClock.monotonicSeconds()
        let total = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<inFlight {
                group.addTask {
                    var count = 0
                    while SystemClock.monotonicSeconds() - start < seconds {
                        try await body(worker, count)
                        count += 1
                    }
                    return count
                }
            }
            return try await group.reduce(0, +)
        }
        return Double(total) / (SystemClock.monotonicSeconds() - start)
    }
}
