import Archive
import Crypto
import EventLog
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `argus-bench archive`: archive throughput (MB/s of segment bytes) to a directory and to S3 (moto_server
/// on 127.0.0.1, started through `tools/archive_moto.sh serve`), next to `cp` of the same files and
/// `curl --aws-sigv4` uploading them to the same endpoint in the same run.
enum ArchiveBenchmark: Benchmark {
    static let name = "archive"
    static let summary = "archive MB/s to a directory and to S3 (moto); cp and curl --aws-sigv4 alongside"
    static let usage = "archive [--segments N] [--segment-mib M] [--rounds R] [--no-s3]"

    static let accessKey = "argus-bench-key"
    static let secretKey = "argus-bench-secret"

    static func run(_ words: [String]) async throws -> Int32 {
        var segmentCount = 12
        var segmentMiB = 8
        var rounds = 3
        var runS3 = true
        var index = 0
        func integer(_ range: ClosedRange<Int>) throws -> Int {
            guard index + 1 < words.count, let value = Int(words[index + 1]), range.contains(value) else {
                throw BenchmarkUsageError("\(words[index]) needs an integer from \(range.lowerBound) to \(range.upperBound)")
            }
            index += 1
            return value
        }
        while index < words.count {
            switch words[index] {
            case "--segments": segmentCount = try integer(1...1000)
            case "--segment-mib": segmentMiB = try integer(1...1024)
            case "--rounds": rounds = try integer(1...20)
            case "--no-s3": runS3 = false
            default: throw BenchmarkUsageError("unknown option \(words[index])")
            }
            index += 1
        }

        let work = NSTemporaryDirectory() + "argus-bench-archive-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: work) }
        let logDirectory = work + "/data/log"
        let files = try makeLog(directory: logDirectory, segmentCount: segmentCount, segmentSizeBytes: segmentMiB << 20)
        let totalBytes = files.reduce(Int64(0)) { $0 + $1.sizeBytes }
        let sizeNote = "\(files.count) segments of \(segmentMiB) MiB"
        var report = BenchmarkReport(bench: name)

        // The local check alone: footer SHA-256 over each segment (one read) plus the file read for upload.
        var checkBest = 0.0
        for _ in 0..<rounds {
            let seconds = try timed {
                for file in files {
                    _ = try LogVerifier.verifySegment(path: file.path, checkRecords: false)
                    _ = try Data(contentsOf: URL(fileURLWithPath: file.path))
                }
            }
            checkBest = max(checkBest, Double(totalBytes) / 1e6 / seconds)
        }
        report.add(name: "segment_check", impl: "argus", sizeBytes: Int(totalBytes), value: checkBest, unit: .megabytesPerSecond,
                   note: "\(sizeNote); header, footer, SHA-256 of every byte, read for upload; one core")

        // Directory target against cp.
        var best = 0.0
        for round in 0..<rounds {
            let archiver = Archiver(logDirectory: logDirectory, stateDirectory: work + "/state-dir-\(round)",
                                    target: DirectoryTarget(root: work + "/dir-\(round)"))
            let summary = try await archiver.run()
            best = max(best, Double(summary.uploadedBytes) / 1e6 / summary.seconds)
            try? FileManager.default.removeItem(atPath: work + "/dir-\(round)")
        }
        report.add(name: "archive_directory", impl: "argus", sizeBytes: Int(totalBytes), value: best, unit: .megabytesPerSecond,
                   note: "\(sizeNote); check, write, fsync, read back + SHA-256, manifest, state")
        var copyBest = 0.0
        for round in 0..<rounds {
            let destination = work + "/cp-\(round)"
            try FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: true)
            let seconds = try timed { _ = try ChildProcess.run("/bin/cp", arguments: files.map(\.path) + [destination], environment: [:]) }
            copyBest = max(copyBest, Double(totalBytes) / 1e6 / seconds)
            try? FileManager.default.removeItem(atPath: destination)
        }
        report.add(name: "archive_directory", impl: "cp", sizeBytes: Int(totalBytes), value: copyBest, unit: .megabytesPerSecond,
                   note: "\(sizeNote); plain copy, no fsync, no check")

        if runS3 {
            if let moto = try MotoServer.start() {
                defer { moto.stop() }
                try await measureS3(port: moto.port, files: files, logDirectory: logDirectory, work: work, rounds: rounds,
                                    totalBytes: totalBytes, sizeNote: sizeNote, report: &report)
            } else {
                FileHandle.standardError.write(Data("argus-bench archive: tools/archive_moto.sh not found or moto did not start; S3 rows skipped\n".utf8))
            }
        }
        report.print()
        return 0
    }

    private static func measureS3(port: Int, files: [(path: String, sizeBytes: Int64)], logDirectory: String, work: String,
                                  rounds: Int, totalBytes: Int64, sizeNote: String, report: inout BenchmarkReport) async throws {
        let endpoint = "http://127.0.0.1:\(port)"
        let curl = "/usr/bin/curl"
        let sigv4 = ["--aws-sigv4", "aws:amz:us-east-1:s3", "--user", "\(accessKey):\(secretKey)"]
        _ = try ChildProcess.run(curl, arguments: ["-s", "-X", "PUT"] + sigv4 + ["\(endpoint)/bench"], environment: [:])
        let environment = ["AWS_ACCESS_KEY_ID": accessKey, "AWS_SECRET_ACCESS_KEY": secretKey]
        var archiveBest = 0.0
        var putBest = 0.0
        var curlBest = 0.0
        let bodies = try files.map { file -> (Data, [UInt8]) in
            let data = try Data(contentsOf: URL(fileURLWithPath: file.path))
            return (data, data.withUnsafeBytes { SHA256.hash($0) })
        }
        // The three uploads take turns going first, so none always meets a fresher or a busier moto.
        for round in 0..<rounds {
            for step in 0..<3 {
                switch (round + step) % 3 {
                case 0:
                    // Ours, end to end: check, upload, HEAD check, manifest entry, state.
                    let target = try ArchiveTargets.make(url: "s3://bench/archive-\(round)/", endpoint: endpoint, environment: environment)
                    let archiver = Archiver(logDirectory: logDirectory, stateDirectory: work + "/state-s3-\(round)", target: target)
                    let summary = try await archiver.run()
                    archiveBest = max(archiveBest, Double(summary.uploadedBytes) / 1e6 / summary.seconds)
                case 1:
                    // Ours, PUT only (same signed request with checksum headers, no checks, no manifest).
                    let putTarget = try ArchiveTargets.make(url: "s3://bench/put-\(round)/", endpoint: endpoint, environment: environment)
                    let start = ContinuousClock.now
                    for (position, body) in bodies.enumerated() {
                        try await putTarget.put(key: "f\(position)", body: body.0, sha256: body.1)
                    }
                    putBest = max(putBest, Double(totalBytes) / 1e6 / Measure.seconds(ContinuousClock.now - start))
                default:
                    // curl, one process, the same files.
                    let glob = "{" + files.map(\.path).joined(separator: ",") + "}"
                    let seconds = try timed {
                        _ = try ChildProcess.run(curl, arguments: ["-s", "-o", "/dev/null"] + sigv4 + ["-T", glob, "\(endpoint)/bench/curl-\(round)/"],
                                                 environment: [:])
                    }
                    curlBest = max(curlBest, Double(totalBytes) / 1e6 / seconds)
                }
            }
        }
        let percent = Int((archiveBest / curlBest * 100).rounded())
        report.add(name: "archive_s3_moto", impl: "argus", sizeBytes: Int(totalBytes), value: archiveBest, unit: .megabytesPerSecond,
                   note: "\(sizeNote); SigV4 signed payload, checksum, HEAD check, manifest, state; \(percent)% of curl")
        report.add(name: "archive_s3_moto", impl: "argus put", sizeBytes: Int(totalBytes), value: putBest, unit: .megabytesPerSecond,
                   note: "S3Target.put only (our HTTP client for http://), no checks")
        report.add(name: "archive_s3_moto", impl: "curl", sizeBytes: Int(totalBytes), value: curlBest, unit: .megabytesPerSecond,
                   note: "curl --aws-sigv4 -T, unsigned payload, one connection")
    }

    /// Writes events with 4 KiB payloads until `segmentCount` segments are sealed; returns their files.
    private static func makeLog(directory: String, segmentCount: Int, segmentSizeBytes: Int) throws -> [(path: String, sizeBytes: Int64)] {
        var options = EventLogOptions()
        options.segmentSizeBytesMax = segmentSizeBytes
        options.fsyncPolicy = .none
        let log = try EventLog(directory: directory, options: options)
        defer { log.close() }
        let payload = Array("{\"pad\":\"\(String(repeating: "x", count: 4000))\"}".utf8)
        var number = 0
        while try sealedFiles(directory).count < segmentCount {
            let batch = (0..<256).map { _ -> NewEvent in
                number += 1
                return NewEvent(organizationID: "org_bench", type: "user.login", eventID: "evt_\(number)", data: payload)
            }
            _ = try log.appendAndWait(batch: batch)
        }
        return try sealedFiles(directory)
    }

    private static func sealedFiles(_ directory: String) throws -> [(path: String, sizeBytes: Int64)] {
        try SegmentCatalog.baseOffsets(directory: directory).compactMap { base in
            guard try SegmentCatalog.footer(directory: directory, baseOffset: base) != nil else { return nil }
            let path = directory + "/" + SegmentName.log(baseOffset: base)
            let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
            return (path, size)
        }
    }

    private static func timed(_ body: () throws -> Void) throws -> Double {
        let start = ContinuousClock.now
        try body()
        return Measure.seconds(ContinuousClock.now - start)
    }
}

/// moto_server started through `tools/archive_moto.sh serve` (which prints its port, then execs moto).
final class MotoServer: Sendable {
    let port: Int
    private let pid: Int32

    private init(port: Int, pid: Int32) {
        self.port = port
        self.pid = pid
    }

    /// Starts moto and waits until it accepts connections; nil when the script is missing or moto does not come up.
    static func start() throws -> MotoServer? {
        let script = FileManager.default.currentDirectoryPath + "/tools/archive_moto.sh"
        guard FileManager.default.fileExists(atPath: script) else { return nil }
        // posix_spawn, not Foundation's Process: Process.run() can crash on Linux (an over-read in
        // findMaximumOpenFromProcSelfFD, swift-corelibs-foundation #5472).
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else { throw ChildProcess.Failure(description: "pipe failed, errno \(errno)") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 1)
        posix_spawn_file_actions_addclose(&actions, pipeEnds[0])
        let spawned = Result { try ChildProcess.spawn("/bin/bash", arguments: ["/bin/bash", script, "serve"],
                                                      environment: ProcessInfo.processInfo.environment, actions: &actions) }
        close(pipeEnds[1])
        defer { close(pipeEnds[0]) }
        let pid = try spawned.get()
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while read(pipeEnds[0], &byte, 1) == 1, byte != UInt8(ascii: "\n") { line.append(byte) }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else { return nil }
        let server = MotoServer(port: port, pid: pid)
        for _ in 0..<200 {
            if server.accepts() { return server }
            usleep(50_000)
        }
        server.stop()
        return nil
    }

    private func accepts() -> Bool {
        let socketDescriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketDescriptor >= 0 else { return false }
        defer { close(socketDescriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socketDescriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// Stops moto (SIGKILL: the Python server keeps no state worth a clean shutdown).
    func stop() {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
    }
}
