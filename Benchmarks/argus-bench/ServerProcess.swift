import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An `argus-events serve` process on 127.0.0.1 and a free port, for load benchmarks.
final class ServerProcess {
    let pid: pid_t
    let base: String
    let clientID: String
    let clientSecret: String
    let dataDirectory: String
    private let outputFile: String

    /// The port of `base`.
    var port: Int { Int(base.split(separator: ":").last ?? "") ?? 0 }

    /// Starts the release `argus-events` next to this benchmark binary on a fresh data directory.
    /// - Parameter credentials: a client to use when the server prints none (a `serve --engine` process on an
    ///   engine that has its first admin client already).
    init(extraArguments: [String] = [], environment extraEnvironment: [String: String] = [:],
         credentials: (clientID: String, secret: String)? = nil) throws {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("argus-events").path
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw BenchmarkUsageError("build it first: swift build -c release --product argus-events")
        }
        dataDirectory = NSTemporaryDirectory() + "argus-bench-serve-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        outputFile = dataDirectory + ".out"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, outputFile, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let arguments = [executable, "serve", "--no-supervisor", "--data-dir", dataDirectory, "--listen", "127.0.0.1:0"] + extraArguments
        let environment = ProcessInfo.processInfo.environment.merging(extraEnvironment) { $1 }
        pid = try ChildProcess.spawn(executable, arguments: arguments, environment: environment, actions: &actions)
        var text = ""
        for _ in 0..<200 {
            text = (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? ""
            if text.contains("Try it:") || (credentials != nil && text.contains("listening on")) { break }
            usleep(50_000)
        }
        let lines = text.split(separator: "\n")
        func value(_ label: String) -> String { lines.first { $0.contains(label) }?.split(separator: " ").last.map(String.init) ?? "" }
        base = lines.first { $0.contains("listening on") }?.split(separator: " ").first { $0.hasPrefix("http://") }.map(String.init) ?? ""
        clientID = credentials?.clientID ?? value("client_id:")
        clientSecret = credentials?.secret ?? value("client_secret:")
        guard !base.isEmpty, !clientID.isEmpty else {
            kill(pid, SIGKILL)
            throw BenchmarkUsageError("the server did not start: \(text)")
        }
    }

    /// A platform:admin access token (via curl, so the benchmark process opens no URLSession).
    func token() throws -> String {
        let (status, output) = try ChildProcess.run("/usr/bin/curl", arguments: [
            "-s", "-u", "\(clientID):\(clientSecret)", "-d", "grant_type=client_credentials", base + "/oauth/token",
        ], environment: ProcessInfo.processInfo.environment)
        let text = String(decoding: output, as: UTF8.self)
        guard status == 0, let range = text.range(of: "\"access_token\":\"") else { throw BenchmarkUsageError("no token: \(text)") }
        return String(text[range.upperBound...].prefix { $0 != "\"" })
    }

    /// Resident memory of the server, in KiB.
    func residentKilobytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
        }
        return 0
    }

    /// CPU time the server has used so far (user and system, all threads), in seconds.
    func cpuSeconds() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return 0 }
        // After "pid (comm) ": state is field 3, utime field 14, stime field 15.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    func stop() {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        try? FileManager.default.removeItem(atPath: dataDirectory)
        try? FileManager.default.removeItem(atPath: outputFile)
    }
}
