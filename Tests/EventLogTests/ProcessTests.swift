import ArgusTestSupport
import Foundation
import Testing
@testable import EventLog

/// Other processes: a writer killed with SIGKILL, and a reader tailing from another process.
@Suite(.serialized, .timeLimit(.minutes(5))) struct ProcessTests {
    static let executable = TestSupport.product("argus-events")

    @Test func killedWriterLosesNothingAcknowledged() async throws {
        let directory = TemporaryDirectory()
        let dataDirectory = directory.path
        var acknowledged: [UInt64: String] = [:]
        var generator = SystemRandomNumberGenerator()
        for round in 0..<50 {
            let process = try ChildProcess(Self.executable, [
                "publish", "--data-dir", dataDirectory, "--type", "user.login", "--org", "org_\(round % 3)",
                "--data", "{\"round\":\(round)}", "--repeat", "1000000", "--concurrency", "16", "--segment-bytes", "65536"])
            try await Task.sleep(nanoseconds: UInt64.random(in: 30_000_000...250_000_000, using: &generator))
            process.send(SIGKILL)
            #expect(await process.wait(timeoutSeconds: 30) != nil, "the killed publisher exits")
            // Every complete line was printed after its append returned: it must survive.
            for line in process.standardOutput.split(separator: "\n") {
                guard line.hasSuffix("}"),
                      let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      let offset = object["offset"] as? Int, let id = object["id"] as? String else { continue }
                acknowledged[UInt64(offset)] = id
            }
            let log = try EventLog(directory: dataDirectory + "/log", options: TestSupport.options())
            log.close()
        }
        #expect(acknowledged.count > 100, "the appender made progress: \(acknowledged.count) acknowledged")
        let records = try TestSupport.readAll(dataDirectory + "/log")
        #expect(records.map(\.offset) == (0..<UInt64(records.count)).map { $0 }, "offsets are dense")
        let stored = Dictionary(uniqueKeysWithValues: records.map { ($0.offset, $0.eventID) })
        let missing = acknowledged.filter { stored[$0.key] != $0.value }
        #expect(missing.isEmpty, "acknowledged but missing or different: \(missing.count)")
        let report = try LogVerifier.verify(directory: dataDirectory + "/log")
        #expect(report.isIntact, "\(report.summary.problem ?? "")")
        let verifyRun = try TestSupport.run(Self.executable, ["verify", "--data-dir", dataDirectory])
        #expect(verifyRun.0 == 0, "\(verifyRun.1) \(verifyRun.2)")
    }

    @Test func aReaderInAnotherProcessSeesEveryEventOnceInOrder() async throws {
        let directory = TemporaryDirectory()
        let log = try EventLog(directory: directory.path + "/log",
                               options: TestSupport.options(segmentSizeBytes: 256 * 1024, fsync: .always))
        let total = 20_000
        let process = try ChildProcess(Self.executable, ["tail", "--data-dir", directory.path, "--from", "beginning", "--follow",
                                                         "--count", String(total), "--format", "text"])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for appender in 0..<8 {
                group.addTask {
                    for start in stride(from: appender * (total / 8), to: (appender + 1) * (total / 8), by: 25) {
                        _ = try await log.append(batch: (start..<(start + 25)).map { TestSupport.event($0) })
                    }
                }
            }
            try await group.waitForAll()
        }
        // Never hang the suite: a reader that stops short is killed after a generous deadline.
        let status = await process.wait(timeoutSeconds: 60)
        process.stop()
        log.close()
        let offsets = process.standardOutput.split(separator: "\n").compactMap { UInt64($0.split(separator: " ")[0]) }
        #expect(status == 0, "tail -f --count \(total) exits 0 by itself (nil: killed at the deadline)")
        #expect(offsets == (0..<UInt64(total)).map { $0 })
        #expect(try SegmentCatalog.baseOffsets(directory: directory.path + "/log").count > 3)
    }

    @Test func publishIsRefusedWhileAWriterHoldsTheDirectory() throws {
        let directory = TemporaryDirectory()
        let log = try EventLog(directory: directory.path + "/log", options: TestSupport.options())
        defer { log.close() }
        let (status, _, errors) = try TestSupport.run(Self.executable, ["publish", "--data-dir", directory.path,
                                                                        "--type", "user.created", "--org", "o"])
        #expect(status == 1)
        #expect(errors.contains("held by a running writer (pid \(getpid()))"))
    }
}
