import Crypto
import EventLog
import Foundation
import Synchronization
import SystemIO

/// `argus-bench log`: durable appends (1, 16, 64 appenders) next to Redis Streams at equal durability,
/// CRC-checked scan, tail rate, open time with 1 and 1,000 sealed segments, and memory.
struct LogBenchmark: Benchmark {
    static let name = "log"
    static let summary = "durable appends vs Redis Streams (appendfsync always), scan, tail, open time, memory"
    static let usage = "log [--seconds S] [--event-bytes N] [--concurrency 1,16,64] [--repeats R] [--no-redis] [--dir D]"

    static func run(_ words: [String]) async throws -> Int32 {
        var seconds = 3.0
        var eventBytes = 1024
        var concurrencies = [1, 16, 64]
        var runRedis = true
        var repeats = 3
        var base = NSTemporaryDirectory()
        var index = 0
        while index < words.count {
            let word = words[index]
            let value = index + 1 < words.count ? words[index + 1] : nil
            switch word {
            case "--seconds": seconds = try value.flatMap(Double.init) ?? { throw BenchmarkUsageError("--seconds needs a number") }(); index += 1
            case "--event-bytes": eventBytes = try value.flatMap(Int.init) ?? { throw BenchmarkUsageError("--event-bytes needs a number") }(); index += 1
            case "--concurrency":
                concurrencies = value?.split(separator: ",").compactMap { Int($0) } ?? []
                guard !concurrencies.isEmpty else { throw BenchmarkUsageError("--concurrency needs a list such as 1,16,64") }
                index += 1
            case "--repeats":
                repeats = try value.flatMap(Int.init).flatMap { (1...20).contains($0) ? $0 : nil } ?? { throw BenchmarkUsageError("--repeats needs 1 to 20") }()
                index += 1
            case "--no-redis": runRedis = false
            case "--dir": base = try value ?? { throw BenchmarkUsageError("--dir needs a path") }(); index += 1
            default: throw BenchmarkUsageError("unknown option \(word)")
            }
            index += 1
        }
        var report = BenchmarkReport(bench: name)
        let root = base + "/argus-bench-log-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let payload = Array("{\"pad\":\"\(String(repeating: "x", count: max(0, eventBytes - 10)))\"}".utf8)

        var scanDirectory = ""
        var bestAppendRate = 0.0
        for concurrency in concurrencies {
            // Without and with the Merkle upkeep, alternated `repeats` times (the machine is shared: one pair
            // of runs can differ by 15 % either way); the medians are compared.
            var without: [AppendResult] = []
            var with: [AppendResult] = []
            for round in 0..<repeats {
                // Alternating which goes first, so neither side always follows the other's page cache and disk state.
                for upkeep in (round % 2 == 0 ? [false, true] : [true, false]) {
                    let result = try await measureAppends(directory: root + "/append-\(concurrency)-\(round)" + (upkeep ? "-upkeep" : ""),
                                                          concurrency: concurrency, seconds: seconds, payload: payload, merkleUpkeep: upkeep)
                    if upkeep { with.append(result) } else { without.append(result) }
                }
            }
            let result = median(without)
            let withUpkeep = median(with)
            report.add(name: "append always c=\(concurrency)", impl: "argus", sizeBytes: eventBytes, value: result.rate, unit: .operationsPerSecond,
                       note: String(format: "%.1f MB/s, p50 %.3f ms, p99 %.3f ms (median of %d)", result.rate * Double(payload.count) / 1e6,
                                    result.p50Ms, result.p99Ms, repeats))
            scanDirectory = root + "/append-\(concurrency)-0"
            bestAppendRate = max(bestAppendRate, result.rate)
            report.add(name: "append always c=\(concurrency) + merkle upkeep", impl: "argus", sizeBytes: eventBytes, value: withUpkeep.rate,
                       unit: .operationsPerSecond,
                       note: String(format: "%+.1f%% vs without (budget -10%%), p99 %.3f ms (medians of %d alternated runs)",
                                    100 * (withUpkeep.rate / result.rate - 1), withUpkeep.p99Ms, repeats))
            if runRedis {
                let requests = max(2000, Int(result.rate * seconds))
                if let peer = redisStreams(clients: concurrency, requests: min(requests, 300_000), payloadBytes: eventBytes) {
                    report.add(name: "append always c=\(concurrency)", impl: "redis XADD", sizeBytes: eventBytes, value: peer.rate,
                               unit: .operationsPerSecond,
                               note: String(format: "%.1f MB/s, p50 %.3f ms, p99 %.3f ms", peer.rate * Double(eventBytes) / 1e6, peer.p50Ms, peer.p99Ms))
                } else {
                    report.add(name: "append always c=\(concurrency)", impl: "redis XADD", value: .nan, unit: .operationsPerSecond,
                               note: "redis peer unavailable (tools/redis_streams_peer.sh)")
                }
            }
        }

        // CRC-checked scan of the log written above.
        let scan = try measureScan(directory: scanDirectory)
        report.add(name: "scan (CRC checked)", impl: "argus", value: scan.megabytesPerSecond, unit: .megabytesPerSecond,
                   note: String(format: "%.0f events/s over %.0f MB", scan.eventsPerSecond, scan.bytes / 1e6))
        let tail = try measureTail(directory: scanDirectory)
        report.add(name: "tail json envelopes", impl: "argus", value: tail, unit: .operationsPerSecond, note: "events/s formatted")
        // Merkle hash tiles rebuilt from the log (what a damaged or missing tile set costs, and what a
        // process that is not the writer pays), as a share of the best durable append rate above.
        let upkeepRate = try measureMerkleUpkeep(directory: scanDirectory)
        // The CPU the upkeep costs per event as `serve` runs it: the writer's leaf hash (envelope line and
        // SHA-256, after each group commit) plus folding that hash into the tiles, against the time per
        // event at the best durable append rate. This is the share of one core; it does not move with the
        // noise of a shared machine as the with/without runs above do.
        let hashingRate = measureLeafHashing(payload: payload)
        let foldingRate = try measureTileFolding(directory: root + "/fold")
        report.add(name: "merkle leaf hashing at append", impl: "argus", sizeBytes: eventBytes, value: hashingRate, unit: .operationsPerSecond,
                   note: "events/s: envelope line + SHA-256, one core")
        report.add(name: "merkle tiles from the writer's hashes", impl: "argus", value: foldingRate, unit: .operationsPerSecond,
                   note: "events/s folded into tiles and written, one core")
        report.add(name: "merkle upkeep CPU per event", impl: "argus", value: 100 * bestAppendRate * (1 / hashingRate + 1 / foldingRate),
                   unit: .percent, note: String(format: "of the time per event at the best durable append rate (%.0f/s; budget 10%%)", bestAppendRate))
        report.add(name: "merkle tile rebuild from the log", impl: "argus", value: upkeepRate, unit: .operationsPerSecond,
                   note: String(format: "events/s read, formatted and hashed into tiles; %.1f%% of the durable append time per event",
                                100 * bestAppendRate / upkeepRate))

        // Open time with 1 and with 1,000 sealed segments.
        for sealed in [1, 1000] {
            let directory = root + "/open-\(sealed)"
            let openMs = try await measureOpen(directory: directory, sealedSegments: sealed)
            report.add(name: "open with \(sealed) sealed segments", impl: "argus", value: openMs, unit: .milliseconds, note: "mean of 20 opens")
        }
        report.add(name: "peak resident memory", impl: "argus", value: Double(residentKilobytes(field: "VmHWM:")) / 1024,
                   unit: .mebibytes, note: "whole benchmark process")
        report.print()
        return 0
    }

    /// Events per second that `MerkleTileStore.update()` brings into fresh tiles from the log in `directory`.
    static func measureMerkleUpkeep(directory: String) throws -> Double {
        let tiles = directory + "-merkle"
        defer { try? FileManager.default.removeItem(atPath: tiles) }
        let start = ContinuousClock.now
        let count = try MerkleTileStore(directory: tiles, logDirectory: directory).update()
        return Double(count) / (ContinuousClock.now - start).inSeconds
    }

    /// Leaf hashes (envelope line and SHA-256) per second, as the log writer computes them.
    static func measureLeafHashing(payload: [UInt8]) -> Double {
        let count = 200_000
        var sink = 0
        let start = ContinuousClock.now
        // Groups of 64 events share one time, as at c=64 (the writer formats it once per group).
        var formatted = ""
        for number in 0..<count {
            let timestampMs = 1_780_000_000_000 + Int64(number / 64)
            if number % 64 == 0 { formatted = Timestamp.format(ms: timestampMs) }
            let event = NewEvent(organizationID: "org_\(number % 8)", type: "user.login", eventID: "evt_0_\(number)", data: payload)
            let record = EventRecord(event, offset: UInt64(number), timestampMs: timestampMs, chainHash: [])
            sink &+= Int(RecentLeafHashes.leafHash(of: record, formattedTimestamp: formatted)[0])
        }
        let seconds = (ContinuousClock.now - start).inSeconds
        return sink >= 0 ? Double(count) / seconds : 0
    }

    /// Leaf hashes per second that `MerkleTileStore.update` folds into tiles (and writes) when the writer
    /// has computed them already (no log read).
    static func measureTileFolding(directory: String) throws -> Double {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let count = 262_144
        let ring = RecentLeafHashes(countMax: count)
        var hashes: [UInt8] = []
        hashes.reserveCapacity(count * 32)
        for number in 0..<count { hashes += SHA256.hash(Array(String(number).utf8)) }
        ring.append(firstOffset: 0, hashes: hashes)
        let store = MerkleTileStore(directory: directory + "/merkle", logDirectory: directory + "/no-log", recentLeafHashes: ring)
        let start = ContinuousClock.now
        let size = try store.update(to: UInt64(count))
        return Double(size) / (ContinuousClock.now - start).inSeconds
    }

    static func median(_ results: [AppendResult]) -> AppendResult {
        results.sorted { $0.rate < $1.rate }[results.count / 2]
    }

    struct AppendResult {
        var rate: Double
        var p50Ms: Double
        var p99Ms: Double
    }

    static func measureAppends(directory: String, concurrency: Int, seconds: Double, payload: [UInt8],
                               merkleUpkeep: Bool = false) async throws -> AppendResult {
        var options = EventLogOptions()
        options.fsyncPolicy = .always
        // With upkeep the writer hashes each event after its group commit, as under `serve`.
        if merkleUpkeep { options.recentLeafHashCountMax = 262_144 }
        let log = try EventLog(directory: directory, options: options)
        defer { log.close() }
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        if merkleUpkeep {
            // Tiles brought up to the durable head every second on a thread of their own, their partial tiles
            // and `tree-size` written every 10th time (as `serve` folds between checkpoints and persists at
            // each): what appends lose to the leaf hashing in the writer and the upkeep.
            let tiles = MerkleTileStore(directory: directory + "-merkle", logDirectory: directory, recentLeafHashes: log.recentLeafHashes)
            Thread.detachNewThread {
                var tick = 0
                while ContinuousClock.now < deadline {
                    Thread.sleep(forTimeInterval: 1)
                    tick += 1
                    _ = try? tiles.update(to: log.nextOffset, persisting: tick % 10 == 0)
                }
            }
        }
        let start = ContinuousClock.now
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            for appender in 0..<concurrency {
                group.addTask {
                    var samples: [Double] = []
                    var number = 0
                    while ContinuousClock.now < deadline {
                        let event = NewEvent(organizationID: "org_\(appender % 8)", type: "user.login",
                                             eventID: "evt_\(appender)_\(number)", data: payload)
                        let began = ContinuousClock.now
                        _ = try await log.append(event)
                        let elapsed = ContinuousClock.now - began
                        samples.append(elapsed.inSeconds * 1000)
                        number += 1
                    }
                    return samples
                }
            }
            var all: [Double] = []
            for try await samples in group { all += samples }
            return all.sorted()
        }
        let elapsed = ContinuousClock.now - start
        let elapsedSeconds = elapsed.inSeconds
        func percentile(_ fraction: Double) -> Double {
            latencies.isEmpty ? .nan : latencies[min(latencies.count - 1, Int(Double(latencies.count) * fraction))]
        }
        return AppendResult(rate: Double(latencies.count) / elapsedSeconds, p50Ms: percentile(0.5), p99Ms: percentile(0.99))
    }

    static func redisStreams(clients: Int, requests: Int, payloadBytes: Int) -> AppendResult? {
        let script = FileManager.default.currentDirectoryPath + "/tools/redis_streams_peer.sh"
        guard FileManager.default.fileExists(atPath: script) else { return nil }
        // ChildProcess, not Foundation's Process: the peer must see an unblocked signal mask, or the
        // script's `kill` of redis-server never lands.
        guard let (status, data) = try? ChildProcess.run("/bin/bash", arguments: [script, String(clients), String(requests), String(payloadBytes)],
                                                        environment: ProcessInfo.processInfo.environment) else { return nil }
        let fields = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",")
        guard status == 0, fields.count == 4, let rate = Double(fields[1]), let p50 = Double(fields[2]),
              let p99 = Double(fields[3]) else { return nil }
        return AppendResult(rate: rate, p50Ms: p50, p99Ms: p99)
    }

    static func measureScan(directory: String) throws -> (megabytesPerSecond: Double, eventsPerSecond: Double, bytes: Double) {
        let bytes = try SegmentCatalog.summaries(directory: directory).reduce(0.0) { $0 + Double($1.sizeBytes) }
        let start = ContinuousClock.now
        var reader = try LogReader(directory: directory, start: .beginning)
        var count = 0
        while try reader.next() != nil { count += 1 }
        let elapsed = ContinuousClock.now - start
        let seconds = elapsed.inSeconds
        return (bytes / seconds / 1e6, Double(count) / seconds, bytes)
    }

    static func measureTail(directory: String) throws -> Double {
        let start = ContinuousClock.now
        var reader = try LogReader(directory: directory, start: .beginning)
        var count = 0
        var sink = 0
        while let record = try reader.next() {
            sink &+= record.envelope().count
            count += 1
        }
        let elapsed = ContinuousClock.now - start
        let seconds = elapsed.inSeconds
        return sink > 0 ? Double(count) / seconds : 0
    }

    static func measureOpen(directory: String, sealedSegments: Int) async throws -> Double {
        var options = EventLogOptions()
        options.fsyncPolicy = .none
        options.segmentSizeBytesMax = EventLogLimits.segmentSizeBytesMin
        do {
            let log = try EventLog(directory: directory, options: options)
            // A 2,000-byte event and the 4 KiB minimum segment size: one segment rolls every two events.
            var number = 0
            while try SegmentCatalog.baseOffsets(directory: directory).count <= sealedSegments {
                for _ in 0..<(2 * max(1, sealedSegments / 10)) {
                    _ = try await log.append(NewEvent(organizationID: "org", type: "user.login", eventID: "evt_\(number)",
                                                      data: Array(repeating: UInt8(ascii: "x"), count: 2000)))
                    number += 1
                }
            }
            log.close()
        }
        var totalMs = 0.0
        for _ in 0..<20 {
            let start = ContinuousClock.now
            let log = try EventLog(directory: directory, options: options)
            let elapsed = ContinuousClock.now - start
            log.close()
            totalMs += elapsed.inSeconds * 1000
        }
        return totalMs / 20
    }

    /// A `/proc/self/status` field in KiB, such as `VmHWM:` (peak) or `VmRSS:`.
    static func residentKilobytes(field: String, pid: Int32? = nil) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(pid.map { String($0) } ?? "self")/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix(field) {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
        }
        return 0
    }
}
