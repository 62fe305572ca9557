import Crypto
import EventLog
import Foundation
import WebhookSigning

/// End-to-end rows of `argus-bench crypto`: the `argus-events` binary against the command-line peers
/// on the same bytes, as separate processes, timed from spawn to exit (best of `runs`).
/// - `sign` over a body of `signBytes` vs two `openssl dgst -sha256 -hmac` passes (sign computes two MACs).
/// - `verify` of a log of about `verifyBytes` vs `sha256sum` of its segment files.
enum CommandPeers {
    static let signBytes = 256 << 20
    static let verifyBytes = 256 << 20
    static let runs = 2

    /// The release `argus-events` next to this benchmark binary.
    static func argusEvents() throws -> String {
        let path = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("argus-events").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw BenchmarkUsageError("build it first: swift build -c release --product argus-events")
        }
        return path
    }

    /// Seconds of the fastest of `runs` runs of `body` (which returns false when the program failed).
    static func bestSeconds(_ body: () throws -> Bool) rethrows -> Double? {
        var best: Double?
        for _ in 0..<runs {
            let started = ContinuousClock.now
            guard try body() else { return nil }
            let seconds = Measure.seconds(ContinuousClock.now - started)
            best = min(best ?? seconds, seconds)
        }
        return best
    }

    static func which(_ program: String) -> String? {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// "0.93x the peer" from our and the peer's seconds for the same work.
    static func ratioNote(ourSeconds: Double, peerSeconds: Double) -> String {
        String(format: "%.2fx the peer", peerSeconds / ourSeconds)
    }

    static func sign(into report: inout BenchmarkReport, scratch: String) throws {
        let executable = try argusEvents()
        let body = scratch + "/body"
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var generator = SystemRandomNumberGenerator()
        for index in chunk.indices { chunk[index] = UInt8.random(in: 0...255, using: &generator) }
        FileManager.default.createFile(atPath: body, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: body))
        for _ in 0..<(signBytes >> 20) { handle.write(Data(chunk)) }
        try handle.close()
        let secret = try WebhookSecret.generate()
        let environment = ProcessInfo.processInfo.environment
        guard let ours = try bestSeconds({
            try ChildProcess.run(executable, arguments: ["sign", "--secret", secret.encoded, "--id", "bench", "--timestamp", "1"],
                                 environment: environment, standardInputPath: body).status == 0
        }) else {
            report.add(name: "sign_cli", impl: "argus-events", sizeBytes: signBytes, value: .nan, unit: .megabytesPerSecond, note: "sign failed")
            return
        }
        let megabytes = Double(signBytes) / 1e6
        guard let openssl = OpenSSLSpeed.executable(), let peer = try bestSeconds({
            let key = Hex.encode(secret.keyBytes)
            for _ in 0..<2 {
                guard try ChildProcess.run(openssl, arguments: ["dgst", "-sha256", "-hmac", key, body], environment: environment).status == 0
                else { return false }
            }
            return true
        }) else {
            report.add(name: "sign_cli", impl: "argus-events", sizeBytes: signBytes, value: megabytes / ours, unit: .megabytesPerSecond,
                       note: "two HMACs (webhook-signature, x-argus-signature), streamed; openssl unavailable")
            return
        }
        report.add(name: "sign_cli", impl: "argus-events", sizeBytes: signBytes, value: megabytes / ours, unit: .megabytesPerSecond,
                   note: "two HMACs, streamed; " + ratioNote(ourSeconds: ours, peerSeconds: peer) + " (target >= 0.8)")
        report.add(name: "sign_cli", impl: "openssl dgst -hmac x2", sizeBytes: signBytes, value: megabytes / peer, unit: .megabytesPerSecond,
                   note: "two passes, one per MAC")
    }

    static func verify(into report: inout BenchmarkReport, scratch: String) throws {
        let executable = try argusEvents()
        let dataDirectory = scratch + "/data"
        var options = EventLogOptions()
        options.fsyncPolicy = .none
        let log = try EventLog(directory: dataDirectory + "/log", options: options)
        let payload = Array("{\"pad\":\"\(String(repeating: "x", count: 1000))\"}".utf8)
        let batch = (0..<1000).map { index in
            NewEvent(organizationID: "org_bench", type: "user.created", eventID: "evt_\(index)", data: payload)
        }
        for _ in 0..<(verifyBytes / (1000 * (payload.count + 100))) { _ = try log.appendAndWait(batch: batch) }
        log.close()
        let segments = try FileManager.default.contentsOfDirectory(atPath: dataDirectory + "/log")
            .filter { $0.hasSuffix(".log") }.sorted().map { dataDirectory + "/log/" + $0 }
        let bytes = try segments.reduce(0) { $0 + ((try FileManager.default.attributesOfItem(atPath: $1)[.size] as? Int) ?? 0) }
        let environment = ProcessInfo.processInfo.environment
        guard let ours = try bestSeconds({
            try ChildProcess.run(executable, arguments: ["verify", "--data-dir", dataDirectory], environment: environment).status == 0
        }) else {
            report.add(name: "verify_log", impl: "argus-events", sizeBytes: bytes, value: .nan, unit: .megabytesPerSecond, note: "verify failed")
            return
        }
        let megabytes = Double(bytes) / 1e6
        let cores = ProcessInfo.processInfo.activeProcessorCount
        guard let sha256sum = which("sha256sum"), let peer = try bestSeconds({
            try ChildProcess.run(sha256sum, arguments: segments, environment: environment).status == 0
        }) else {
            report.add(name: "verify_log", impl: "argus-events", sizeBytes: bytes, value: megabytes / ours, unit: .megabytesPerSecond,
                       note: "\(segments.count) segments, \(cores) cores; sha256sum unavailable")
            return
        }
        report.add(name: "verify_log", impl: "argus-events", sizeBytes: bytes, value: megabytes / ours, unit: .megabytesPerSecond,
                   note: "\(segments.count) segments, \(cores) cores, CRCs + chain + SHA-256; "
                       + ratioNote(ourSeconds: ours, peerSeconds: peer) + " (target >= 0.8)")
        report.add(name: "verify_log", impl: "sha256sum", sizeBytes: bytes, value: megabytes / peer, unit: .megabytesPerSecond,
                   note: "the same segment files")
    }
}
