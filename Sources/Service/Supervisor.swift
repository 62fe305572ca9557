import Foundation
import JSON
import SystemIO
#if canImport(Glibc)
import Glibc
#endif

/// `serve` runs as a small supervisor around the real server process. URLSession on Linux has known
/// crashes (swift-corelibs-foundation #4791, #5469); if the server process dies of a signal it did not
/// ask for, the supervisor starts it again, and the durable cursors make the restart lose nothing.
/// SIGTERM and SIGINT are passed on, and the supervisor exits with the server's status.
///
/// Runs on the calling thread (it blocks in `waitpid`): call it from `main` before any server starts,
/// never from the cooperative pool.
public enum Supervisor {
    /// Set in the server process's environment.
    static let childMarker = "ARGUS_SERVE_CHILD"
    /// Restarts allowed within `restartWindowSeconds` before the supervisor gives up.
    static let restartCountMax = 5
    static let restartWindowSeconds = 60.0
    /// The exit status of a server whose log writer stopped (a failed `fdatasync`): start it again.
    public static let restartExitCode: Int32 = 75

    /// True in the server process a supervisor started.
    public static var isChild: Bool { ProcessInfo.processInfo.environment[childMarker] != nil }

    /// Starts this executable again, with the same arguments, as the server process, and again when it dies
    /// of a signal it did not ask for or exits with `restartExitCode` (at most `restartCountMax` times a
    /// minute), until it exits on its own or on a forwarded SIGTERM/SIGINT.
    /// - Parameter logger: where restarts are reported (tagged `component: supervisor`).
    /// - Returns: the exit status for this process (the server's, 0 after a forwarded signal, 1 when it gives up).
    public static func run(logger: Logger) -> Int32 {
        let logger = logger.with(("component", .string("supervisor")))
        func log(_ message: String) { logger.warning(message) }
        var restarts: [Date] = []
        let stopping = StopFlag()
        var childPID: pid_t = 0
        let current = ChildBox()
        for signalNumber in [SIGTERM, SIGINT] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: DispatchQueue.global())
            source.setEventHandler {
                stopping.set()
                let pid = current.pid
                if pid > 0 { kill(pid, signalNumber) }
            }
            source.resume()
            TerminationSignals.keep(source)
        }
        let backoffSeconds = Double(ProcessInfo.processInfo.environment["ARGUS_SUPERVISOR_BACKOFF_MS"]
            .flatMap { Int($0) }.map { min(max($0, 0), 60_000) } ?? 500) / 1000
        while true {
            // A SIGTERM during the back-off (or before the first start) stops here: nothing new starts.
            if stopping.isSet { return 0 }
            do {
                childPID = try spawn()
            } catch {
                log("cannot start the server process: \(error)")
                return 1
            }
            current.pid = childPID
            // A signal that arrived between the spawn and publishing the pid is passed on now.
            if stopping.isSet { kill(childPID, SIGTERM) }
            var status: Int32 = 0
            while waitpid(childPID, &status, 0) < 0 && errno == EINTR {}
            current.pid = 0
            let signalled = status & 0x7F
            let exitCode = (status >> 8) & 0xFF
            if signalled == 0, exitCode != restartExitCode {
                return exitCode
            }
            if stopping.isSet { return 0 }
            let cause = signalled == 0 ? "stopped its log writer (exit \(exitCode))" : "died of signal \(signalled)"
            let now = Date()
            restarts = restarts.filter { now.timeIntervalSince($0) < restartWindowSeconds } + [now]
            guard restarts.count <= restartCountMax else {
                log("the server process \(cause) \(restarts.count) times within a minute; giving up")
                return 1
            }
            log("the server process \(cause); restarting it (the cursors make this lose nothing)")
            if stopping.wait(timeoutSeconds: backoffSeconds) { return 0 }
        }
    }

    /// `@unchecked Sendable`: a flag set once from a signal handler queue and read by the waiting thread,
    /// guarded by `condition`.
    final class StopFlag: @unchecked Sendable {
        private let condition = NSCondition()
        private var value = false
        func set() { condition.lock(); value = true; condition.broadcast(); condition.unlock() }
        var isSet: Bool { condition.lock(); defer { condition.unlock() }; return value }
        /// Waits up to `timeoutSeconds` for the flag; returns whether it is set.
        func wait(timeoutSeconds: Double) -> Bool {
            condition.lock()
            defer { condition.unlock() }
            let deadline = Date(timeIntervalSinceNow: timeoutSeconds)
            while !value, condition.wait(until: deadline) {}
            return value
        }
    }

    /// `@unchecked Sendable`: the current child's pid, guarded by a lock.
    final class ChildBox: @unchecked Sendable {
        private let lock = NSLock()
        private var value: pid_t = 0
        var pid: pid_t {
            get { lock.lock(); defer { lock.unlock() }; return value }
            set { lock.lock(); value = newValue; lock.unlock() }
        }
    }

    /// Starts this executable again with the same arguments, a clean signal state, and a pipe on its
    /// standard input whose end-of-file tells it that the supervisor is gone (even after a SIGKILL).
    private static func spawn() throws(SystemError) -> pid_t {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { throw SystemError.current("pipe", "/proc/self/exe") }
        // The write end stays open in the supervisor for its whole life, and is closed on exec elsewhere.
        _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, ends[0], 0)
        var environment = ProcessInfo.processInfo.environment
        environment[childMarker] = "1"
        defer { close(ends[0]) }
        return try ProcessSpawner.spawn("/proc/self/exe", arguments: CommandLine.arguments, environment: environment, actions: &actions)
    }
}
