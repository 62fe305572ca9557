import ArgusTestSupport
import Foundation
import Testing

/// A child started by a test never outlives it: `argus-events` started with `ARGUS_EXIT_ON_STDIN_EOF=1`
/// exits when its standard input closes, which the kernel does when the test process dies (a crash
/// or SIGKILL included). Closing the pipe by hand is that event without killing the test.
@Suite(.serialized, .timeLimit(.minutes(2))) struct ParentDeathTests {
    static let executable = BuiltProduct.argusEvents

    static func temporaryDirectory() -> String {
        NSTemporaryDirectory() + "argus-parent-\(UUID().uuidString.prefix(8))"
    }

    /// Pids whose parent is `parent`, from /proc.
    static func children(of parent: pid_t) -> [pid_t] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap(Int32.init).filter { pid in
            let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
            return status.contains("PPid:\t\(parent)\n")
        }
    }

    /// True once `pid` is gone or a zombie, polling for at most `timeoutSeconds`.
    static func isGone(_ pid: pid_t, timeoutSeconds: Double) async throws -> Bool {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
            if status.isEmpty || status.contains("State:\tZ") { return true }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        return false
    }

    @Test func tailFollowExitsWhenItsParentsPipeCloses() async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let published = try await ChildProcess.run(Self.executable, ["publish", "--data-dir", directory, "--type", "user.created",
                                                               "--org", "o", "--data", "{}"])
        #expect(published.status == 0, "\(published.errors)")
        let tail = try ChildProcess(Self.executable, ["tail", "--data-dir", directory, "--from", "beginning", "--follow"])
        defer { tail.stop() }
        #expect(await tail.waitForOutput(timeoutSeconds: 30) { $0.contains("user.created") }, "tail -f printed the event")
        #expect(tail.isRunning, "tail -f keeps following while its parent lives")
        tail.closeStandardInput()
        let status = await tail.wait(timeoutSeconds: 10)
        #expect(status == 1, "tail -f exits (status 1) once its parent's pipe closes; got \(String(describing: status))")
        #expect(tail.standardError.contains("parent process is gone"))
    }

    @Test func serveWithoutSupervisorExitsWhenItsParentsPipeCloses() async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try ChildProcess(Self.executable, ["serve", "--no-supervisor", "--data-dir", directory, "--listen", "127.0.0.1:0"])
        defer { server.stop() }
        #expect(await server.waitForOutput(timeoutSeconds: 30) { $0.contains("listening on") }, "serve started: \(server.standardError)")
        server.closeStandardInput()
        #expect(await server.wait(timeoutSeconds: 10) == 1, "serve exits once its parent's pipe closes")
    }

    @Test func theSupervisorAndItsServerBothExitWhenTheirParentsPipeCloses() async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let supervisor = try ChildProcess(Self.executable, ["serve", "--data-dir", directory, "--listen", "127.0.0.1:0"])
        defer { supervisor.stop() }
        #expect(await supervisor.waitForOutput(timeoutSeconds: 30) { $0.contains("listening on") }, "serve started: \(supervisor.standardError)")
        let server = try #require(Self.children(of: supervisor.pid).first, "the supervisor runs the server as a child")
        supervisor.closeStandardInput()
        #expect(await supervisor.wait(timeoutSeconds: 10) == 1, "the supervisor exits once its parent's pipe closes")
        #expect(try await Self.isGone(server, timeoutSeconds: 10), "the server follows its supervisor")
    }

    @Test func aChildProcessObjectThatGoesAwayKillsItsChild() async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var pid: pid_t = 0
        do {
            let server = try ChildProcess(Self.executable, ["serve", "--no-supervisor", "--data-dir", directory, "--listen", "127.0.0.1:0"])
            #expect(await server.waitForOutput(timeoutSeconds: 30) { $0.contains("listening on") })
            pid = server.pid
        }
        #expect(pid > 0)
        #expect(try await Self.isGone(pid, timeoutSeconds: 10), "deinit killed and reaped the child")
    }
}
