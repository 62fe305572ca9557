import EventLog
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `argus-bench writer`: the log writer's CPU time per event, in process. A window of appends is kept in
/// flight by the completions themselves (they run on the writer thread and submit the next append), so
/// only the writer thread works (leaf hashes included); `--fsync none`, so it waits for no
/// disk either. It counts CPU time (user and system, the process's), not wall time: a figure that moves
/// little with the load of a shared machine, for comparing two builds of the writer.
struct WriterBenchmark: Benchmark {
    static let name = "writer"
    static let summary = "log writer CPU per event (in process, fsync none, window of appends refilled by the completions)"
    static let usage = "writer [--events N] [--event-bytes N] [--window N] [--batch N] [--rounds R] [--no-leaf-hashes] [--dir D]"

    static func run(_ words: [String]) async throws -> Int32 {
        var eventCount = 200_000
        var eventBytes = 1024
        var window = 64
        var batchCount = 1
        var rounds = 5
        var leafHashes = true
        var base = NSTemporaryDirectory()
        var index = 0
        while index < words.count {
            let word = words[index]
            let value = index + 1 < words.count ? words[index + 1] : nil
            func number(_ range: ClosedRange<Int>) throws -> Int {
                guard let value, let number = Int(value), range.contains(number) else {
                    throw BenchmarkUsageError("\(word) needs a number from \(range.lowerBound) to \(range.upperBound)")
                }
                index += 1
                return number
            }
            switch word {
            case "--events": eventCount = try number(1_000...10_000_000)
            case "--event-bytes": eventBytes = try number(16...(1 << 20))
            case "--window": window = try number(1...10_000)
            case "--batch": batchCount = try number(1...10_000)
            case "--rounds": rounds = try number(1...50)
            case "--no-leaf-hashes": leafHashes = false
            case "--dir": base = try value ?? { throw BenchmarkUsageError("--dir needs a path") }(); index += 1
            default: throw BenchmarkUsageError("unknown option \(word)")
            }
            index += 1
        }
        let root = base + "/argus-bench-writer-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let payload = Array("{\"pad\":\"\(String(repeating: "x", count: max(0, eventBytes - 10)))\"}".utf8)
        // Made before the clock starts (the payload is shared): the writer's work is measured, not theirs.
        let events = (0..<eventCount).map { NewEvent(organizationID: "org_bench", type: "bench.event", eventID: "evt_\($0)", data: payload) }

        var userNs: [Double] = []
        var systemNs: [Double] = []
        for round in 0..<rounds {
            // Blocking (opens and closes the log, waits for the last completion): off the cooperative pool.
            let (user, system) = try await BlockingIO.run { [events, window, batchCount, leafHashes] in
                try measure(directory: root + "/\(round)", events: events, window: window, batchCount: batchCount, leafHashes: leafHashes)
            }
            userNs.append(user * 1e9 / Double(eventCount))
            systemNs.append(system * 1e9 / Double(eventCount))
            try? FileManager.default.removeItem(atPath: root + "/\(round)")
        }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        func spread(_ values: [Double]) -> String { String(format: "%.0f-%.0f", values.min() ?? 0, values.max() ?? 0) }
        var report = BenchmarkReport(bench: name)
        let shape = "window \(window), batch \(batchCount), \(eventCount) events" + (leafHashes ? ", leaf hashes" : "")
        report.add(name: "writer CPU per event (user)", impl: "argus", sizeBytes: eventBytes, value: median(userNs), unit: .nanosecondsPerOperation,
                   note: "median of \(rounds) (\(spread(userNs))); \(shape)")
        report.add(name: "writer CPU per event (system)", impl: "argus", sizeBytes: eventBytes, value: median(systemNs),
                   unit: .nanosecondsPerOperation, note: "median of \(rounds) (\(spread(systemNs))); pwrite to the page cache, no fdatasync")
        report.print()
        return 0
    }

    /// Appends `events` through a window of `window` appends of `batchCount` events each, refilled from the
    /// completions; returns the process's user and system CPU seconds from the first append to the close.
    /// Blocking (waits on a semaphore for the last completion): run it on `BlockingIO`.
    static func measure(directory: String, events: [NewEvent], window: Int, batchCount: Int,
                        leafHashes: Bool) throws -> (user: Double, system: Double) {
        var options = EventLogOptions()
        options.fsyncPolicy = .none
        options.recentLeafHashCountMax = leafHashes ? 262_144 : 0
        let log = try EventLog(directory: directory, options: options)
        let driver = Driver(log: log, events: events, batchCount: batchCount)
        let before = cpuSeconds()
        for _ in 0..<window { driver.submitNext() }
        driver.done.wait()
        log.close()
        let after = cpuSeconds()
        if let failure = driver.failure.withLock({ $0 }) { throw failure }
        return (after.user - before.user, after.system - before.system)
    }

    /// Submits the next batch whenever one completes, until every event is appended.
    final class Driver: Sendable {
        let log: EventLog
        let events: [NewEvent]
        let batchCount: Int
        let next = Atomic<Int>(0)
        let completed = Atomic<Int>(0)
        let failure = Mutex<EventLogError?>(nil)
        let done = DispatchSemaphore(value: 0)

        init(log: EventLog, events: [NewEvent], batchCount: Int) {
            self.log = log
            self.events = events
            self.batchCount = batchCount
        }

        func submitNext() {
            let start = next.add(batchCount, ordering: .relaxed).oldValue
            guard start < events.count else { return }
            let end = min(start + batchCount, events.count)
            log.append(batch: Array(events[start..<end])) { [self] result in
                if case .failure(let error) = result { failure.withLock { $0 = $0 ?? error } }
                if completed.add(end - start, ordering: .relaxed).newValue == events.count {
                    done.signal()
                } else {
                    submitNext()
                }
            }
        }
    }

    static func cpuSeconds() -> (user: Double, system: Double) {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return (Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6,
                Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6)
    }
}
