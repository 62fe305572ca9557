import HTTPClient
import Delivery
import EventLog
import Foundation
import HTTPServer
import Service
import Synchronization
import SystemIO
import WebhookSigning
#if canImport(Glibc)
import Glibc
#endif

/// `argus-bench deliver`: deliveries/s to nginx `return 204;` at 1, 16 and 64 in flight with CPU time
/// per delivery, publish-to-receive latency at 500 events/s, and memory over a long run; wrk against
/// the same nginx is the ceiling.
struct DeliverBenchmark: Benchmark {
    static let name = "deliver"
    static let summary = "deliveries/s at 1/16/64 in flight vs wrk ceiling, latency at 500 ev/s, memory over a long run"
    static let usage = "deliver [--events N] [--long-events N] [--rate-seconds S] [--null-transport]"

    static func run(_ words: [String]) async throws -> Int32 {
        var events = 20_000
        var longEvents = 300_000
        var rateSeconds = 10
        var nullTransport = false
        var index = 0
        while index < words.count {
            let value = index + 1 < words.count ? Int(words[index + 1]) : nil
            if words[index] == "--null-transport" {
                nullTransport = true
                index += 1
                continue
            }
            switch words[index] {
            case "--events": events = try value ?? { throw BenchmarkUsageError("--events needs a number") }()
            case "--long-events": longEvents = try value ?? { throw BenchmarkUsageError("--long-events needs a number") }()
            case "--rate-seconds": rateSeconds = try value ?? { throw BenchmarkUsageError("--rate-seconds needs a number") }()
            default: throw BenchmarkUsageError("unknown option \(words[index])")
            }
            index += 2
        }
        let tools = FileManager.default.currentDirectoryPath + "/tools"
        _ = try ChildProcess.run("/bin/bash", arguments: [tools + "/api_bench.sh", "install"], environment: ProcessInfo.processInfo.environment)
        var report = BenchmarkReport(bench: name)
        let nginx = try NginxReceiver()
        defer { nginx.stop() }

        let directory = NSTemporaryDirectory() + "argus-bench-deliver-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var configuration = ServiceConfiguration(dataDirectory: directory)
        configuration.targetGuard = TargetGuard(allowsHTTP: true, allowedCIDRs: [CIDR("127.0.0.0/8")].compactMap { $0 })
        // --null-transport answers 204 without a request: separates the engine's own cost and memory from URLSession's.
        if nullTransport { configuration.deliveryTransport = NullTransport() }
        let service = try ArgusService(configuration: configuration)
        defer { service.close() }
        try await service.startDelivery()
        let payload = Array("{\"user_id\":\"u_1\",\"pad\":\"\(String(repeating: "x", count: 200))\"}".utf8)

        for inFlight in [1, 16, 64] {
            let count = inFlight == 1 ? max(1000, events / 4) : events
            try await measure(service, url: nginx.url, inFlight: inFlight, count: count, payload: payload, impl: "argus", into: &report)
        }
        if !nullTransport {
            // The peer beside it: the same engine on URLSession (the https:// path), one connection per delivery.
            var peerConfiguration = configuration
            peerConfiguration.dataDirectory = directory + "-urlsession"
            peerConfiguration.deliveryTransport = URLSessionTransport.shared
            defer { try? FileManager.default.removeItem(atPath: peerConfiguration.dataDirectory) }
            let peer = try ArgusService(configuration: peerConfiguration)
            defer { peer.close() }
            try await peer.startDelivery()
            try await measure(peer, url: nginx.url, inFlight: 16, count: events, payload: payload, impl: "urlsession", into: &report)
        }
        let workerExecutable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("argus-events").path
        if !nullTransport, FileManager.default.isExecutableFile(atPath: workerExecutable) {
            // The https:// path as serve runs it: a delivery worker process, URLSession with a session per request.
            var workerConfiguration = configuration
            workerConfiguration.dataDirectory = directory + "-worker"
            let worker = WorkerProcessTransport(configuration: .init(executable: workerExecutable))
            workerConfiguration.deliveryTransport = worker
            defer { try? FileManager.default.removeItem(atPath: workerConfiguration.dataDirectory) }
            let peer = try ArgusService(configuration: workerConfiguration)
            defer { peer.close() }
            try await peer.startDelivery()
            try await measure(peer, url: nginx.url, inFlight: 16, count: events, payload: payload, impl: "worker", into: &report)
            let workerKilobytes = worker.currentWorkerPID.map { LogBenchmark.residentKilobytes(field: "VmRSS:", pid: $0) } ?? 0
            report.add(name: "delivery worker after \(events) deliveries", impl: "worker", value: Double(workerKilobytes) / 1024, unit: .mebibytes,
                       note: "\(worker.workersStarted) worker(s) started; RSS of the current worker")
            worker.shutdown()
        }
        let (_, wrkOutput) = try ChildProcess.run("/bin/bash", arguments: [tools + "/api_bench.sh", "wrk-url", nginx.url, "5", "64"],
                                                  environment: ProcessInfo.processInfo.environment)
        if let wrk = WrkReport(String(decoding: wrkOutput, as: UTF8.self)) {
            report.add(name: "ceiling: wrk to the same nginx", impl: "wrk", value: wrk.requestsPerSecond, unit: .operationsPerSecond,
                       note: "64 connections")
        }

        // Publish-to-receive latency at 500 events/s, measured by a receiver in this process.
        let latencies = try await measureLatency(service, seconds: rateSeconds, payload: payload)
        report.add(name: "publish-to-receive p50 at 500 ev/s", impl: "argus", value: latencies.p50, unit: .milliseconds)
        report.add(name: "publish-to-receive p99 at 500 ev/s", impl: "argus", value: latencies.p99, unit: .milliseconds)

        // Memory over a long run, sampled as the cursor passes each 100,000 deliveries.
        let startOffset = service.log.nextOffset
        let webhook = try makeWebhook(service, url: nginx.url, inFlight: 64)
        let rssStart = residentKilobytes()
        var rssMax = rssStart
        let started = ContinuousClock.now
        var published = 0
        var samples: [(delivered: Int, kilobytes: Int)] = []
        func sample() {
            rssMax = max(rssMax, residentKilobytes())
            guard let cursor = service.dispatcher.progress(webhook)?.cursor else { return }
            let delivered = Int(cursor - startOffset)
            if delivered >= (samples.count + 1) * 100_000 { samples.append((delivered, residentKilobytes())) }
        }
        while published < longEvents {
            let batch = min(10_000, longEvents - published)
            try await publish(service, count: batch, payload: payload)
            published += batch
            let target = service.log.nextOffset
            while service.dispatcher.progress(webhook).map({ $0.lag > 20_000 && $0.cursor < target }) ?? true {
                try await Task.sleep(nanoseconds: 20_000_000)
                sample()
            }
            sample()
        }
        let head = service.log.nextOffset
        while service.dispatcher.progress(webhook).map({ $0.cursor < head }) ?? true {
            try await Task.sleep(nanoseconds: 20_000_000)
            sample()
        }
        sample()
        let seconds = (ContinuousClock.now - started).inSeconds
        var note = String(format: "RSS start %.0f MiB, max %.0f MiB, end %.0f MiB", Double(rssStart) / 1024, Double(rssMax) / 1024,
                          Double(residentKilobytes()) / 1024)
        if !samples.isEmpty {
            note += "; " + samples.map { String(format: "%dk: %.1f MiB", $0.delivered / 1000, Double($0.kilobytes) / 1024) }.joined(separator: ", ")
        }
        report.add(name: "long run: \(longEvents) events", impl: "argus", value: Double(longEvents) / seconds, unit: .operationsPerSecond,
                   note: note)
        if samples.count >= 3 {
            // The contract: at most 16 MiB between the 100,000th and the 300,000th delivery.
            report.add(name: "RSS growth, 100k to 300k deliveries", impl: "argus",
                       value: Double(samples[2].kilobytes - samples[0].kilobytes) / 1024, unit: .mebibytes,
                       note: "at most 16 MiB allowed")
        }
        report.print()
        return 0
    }

    /// Delivers `count` events to `url` at `inFlight` and adds the rate to `report`.
    static func measure(_ service: ArgusService, url: String, inFlight: Int, count: Int, payload: [UInt8], impl: String,
                        into report: inout BenchmarkReport) async throws {
        let webhook = try makeWebhook(service, url: url, inFlight: inFlight)
        let cpuBefore = cpuSeconds()
        let started = ContinuousClock.now
        try await publish(service, count: count, payload: payload)
        let head = service.log.nextOffset
        while service.dispatcher.progress(webhook).map({ $0.cursor < head }) ?? true {
            try await Task.sleep(nanoseconds: 5_000_000)
        }
        let seconds = (ContinuousClock.now - started).inSeconds
        let cpu = cpuSeconds() - cpuBefore
        let failed = service.dispatcher.history.statistics(webhookID: webhook).consecutiveFailures
        report.add(name: "deliveries, \(inFlight) in flight", impl: impl, value: Double(count) / seconds, unit: .operationsPerSecond,
                   note: String(format: "%d events, %.0f µs CPU per delivery (publishing included)%@", count, cpu / Double(count) * 1e6,
                                failed > 0 ? ", \(failed) failing" : ""))
        try service.webhooks.delete(webhook)
    }

    static func makeWebhook(_ service: ArgusService, url: String, inFlight: Int) throws -> String {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let id = "wh_bench\(inFlight)_\(UInt32.random(in: 0...UInt32.max))"
        try service.webhooks.put(try Webhook.make(id: id, organizationID: "org_bench", url: url, eventTypes: ["user.*"],
                                                  maxInFlight: inFlight, startOffset: service.log.nextOffset, nowMs: now))
        return id
    }

    static func publish(_ service: ArgusService, count: Int, payload: [UInt8]) async throws {
        var remaining = count
        while remaining > 0 {
            let batch = min(1000, remaining)
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            _ = try await service.log.append(batch: (0..<batch).map { number in
                NewEvent(organizationID: "org_bench", type: "user.login", eventID: "evt_\(now)_\(remaining)_\(number)", data: payload)
            })
            remaining -= batch
        }
    }

    static func measureLatency(_ service: ArgusService, seconds: Int, payload: [UInt8]) async throws -> (p50: Double, p99: Double) {
        let samples = LatencySamples()
        let receiver = HTTPServer(configuration: {
            var configuration = HTTPServerConfiguration()
            configuration.port = 0
            return configuration
        }(), handler: LatencyHandler(samples: samples))
        let port = try receiver.start()
        let webhook = try makeWebhook(service, url: "http://127.0.0.1:\(port)/latency", inFlight: 16)
        let total = 500 * seconds
        let started = ContinuousClock.now
        for number in 0..<total {
            let due = started + .milliseconds(number * 2)
            let now = ContinuousClock.now
            if due > now { try await Task.sleep(for: due - now) }
            let sentMs = Date().timeIntervalSince1970 * 1000
            _ = try await service.log.append(NewEvent(organizationID: "org_bench", type: "user.login", eventID: "evt_latency_\(number)",
                                                      data: Array("{\"sent_ms\":\(String(format: "%.3f", sentMs))}".utf8)))
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while samples.values.withLock({ $0.count }) < total, ContinuousClock.now < deadline { try await Task.sleep(nanoseconds: 10_000_000) }
        await receiver.shutdown(graceSeconds: 1)
        try service.webhooks.delete(webhook)
        let sorted = samples.values.withLock { $0 }.sorted()
        guard !sorted.isEmpty else { return (.nan, .nan) }
        return (sorted[sorted.count / 2], sorted[min(sorted.count - 1, sorted.count * 99 / 100)])
    }

    final class LatencySamples: Sendable {
        let values = Mutex<[Double]>([])
    }

    /// Records now minus the `sent_ms` the event carries, in milliseconds.
    struct LatencyHandler: HTTPHandler {
        let samples: LatencySamples
        func handle(_ request: HTTPRequest) async -> HTTPResponse {
            let text = String(decoding: request.body, as: UTF8.self)
            if let range = text.range(of: "\"sent_ms\":") {
                let number = text[range.upperBound...].prefix { $0.isNumber || $0 == "." }
                if let sent = Double(number) {
                    let latency = Date().timeIntervalSince1970 * 1000 - sent
                    samples.values.withLock { $0.append(latency) }
                }
            }
            return HTTPResponse(status: 204)
        }
    }

    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }

    static func residentKilobytes() -> Int { LogBenchmark.residentKilobytes(field: "VmRSS:") }
}

/// A transport that acknowledges every delivery at once, without a request.
struct NullTransport: DeliveryTransport {
    func post(url: URL, headers: [HeaderField], body: [UInt8], timeoutSeconds: Double) async -> TransportResult {
        TransportResult(statusCode: 204, durationMs: 0)
    }
}
