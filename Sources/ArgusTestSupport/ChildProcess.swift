import Foundation
import SystemIO
#if canImport(Glibc)
import Glibc
#endif

/// A process a test starts, which can never outlive the test process.
///
/// The child's standard input is a pipe whose write end only this object holds (close-on-exec, so no
/// other child inherits it), and the child runs with `ARGUS_EXIT_ON_STDIN_EOF=1`: `argus-events`
/// then exits as soon as that pipe reaches end-of-file. The kernel closes the pipe when the test
/// process exits for any reason, a crash or SIGKILL included, so no `serve`, `tail -f` or `publish`
/// is left behind holding `swift test`'s output. `deinit` and `stop()` also kill and reap the child.
///
/// Standard output and standard error are collected by two reader threads, so every wait here has a
/// deadline and never blocks on a pipe. The child starts with an empty signal mask and default signal
/// handlers (Foundation's `Process` passes on the spawning thread's mask, in which Swift's concurrency
/// threads block most signals).
///
/// `@unchecked Sendable`: the pid is set once in `init`; everything that changes is guarded by the
/// `Output` condition or by `stateLock`.
public final class ChildProcess: @unchecked Sendable {
    /// Why a child could not be started.
    public struct SpawnError: Error, CustomStringConvertible {
        public let description: String
        /// An error saying `description` (also for a child that started but never became ready).
        public init(description: String) { self.description = description }
    }

    /// The child's process id.
    public let pid: pid_t
    /// The executable and arguments, for messages.
    public let commandLine: String

    /// What the reader threads collect; they hold this, not the child object, so `deinit` still runs.
    /// `@unchecked Sendable`: every field is guarded by `condition`.
    private final class Output: @unchecked Sendable {
        let condition = NSCondition()
        var standardOutput: [UInt8] = []
        var standardError: [UInt8] = []
        var openStreams = 2
    }

    private let collected = Output()
    private let stateLock = NSLock()
    private var exitStatus: Int32?
    private var inputDescriptor: Int32

    /// Starts `executable` with `arguments`.
    /// - Parameters:
    ///   - environment: added to (and overriding) this process's environment.
    ///   - standardInput: bytes written to the child's standard input, which is then closed (the child
    ///     then does not exit on end-of-file). `nil` keeps standard input open as the parent-death pipe.
    /// - Throws: `SpawnError` when a pipe or `posix_spawn` fails.
    public init(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                standardInput: [UInt8]? = nil) throws {
        commandLine = ([executable] + arguments).joined(separator: " ")
        // Glibc's module does not export pipe2: pipes and spawns of this type are serialized instead, so
        // no other ChildProcess can inherit these ends before they are marked close-on-exec.
        Self.spawnLock.lock()
        defer { Self.spawnLock.unlock() }
        var input: [Int32] = [-1, -1], output: [Int32] = [-1, -1], errors: [Int32] = [-1, -1]
        func closeOnExecPipe(_ ends: inout [Int32]) -> Bool {
            guard pipe(&ends) == 0 else { return false }
            return fcntl(ends[0], F_SETFD, FD_CLOEXEC) == 0 && fcntl(ends[1], F_SETFD, FD_CLOEXEC) == 0
        }
        guard closeOnExecPipe(&input), closeOnExecPipe(&output), closeOnExecPipe(&errors) else {
            let code = errno
            for descriptor in input + output + errors where descriptor >= 0 { close(descriptor) }
            throw SpawnError(description: "pipe2 failed, errno \(code)")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // dup2 clears close-on-exec on the copies the child keeps as 0, 1 and 2.
        posix_spawn_file_actions_adddup2(&actions, input[0], 0)
        posix_spawn_file_actions_adddup2(&actions, output[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errors[1], 2)
        var variables = ProcessInfo.processInfo.environment
        for (key, value) in environment { variables[key] = value }
        if standardInput == nil { variables[Self.exitOnStandardInputEOF] = "1" }
        let spawned = Result { () throws(SystemError) in
            try ProcessSpawner.spawn(executable, arguments: [executable] + arguments, environment: variables, actions: &actions)
        }
        close(input[0])
        close(output[1])
        close(errors[1])
        guard case .success(let child) = spawned else {
            close(input[1])
            close(output[0])
            close(errors[0])
            throw SpawnError(description: "\(spawned)")
        }
        pid = child
        inputDescriptor = input[1]
        startReader(output[0], isOutput: true)
        startReader(errors[0], isOutput: false)
        if let standardInput {
            standardInput.withUnsafeBytes { buffer in
                var written = 0
                while written < buffer.count {
                    let count = write(inputDescriptor, buffer.baseAddress! + written, buffer.count - written)
                    if count < 0 && errno == EINTR { continue }
                    if count <= 0 { break }
                    written += count
                }
            }
            closeStandardInput()
        }
    }

    deinit { stop() }

    private static let spawnLock = NSLock()

    /// The environment variable that makes `argus-events` exit when its standard input closes.
    public static let exitOnStandardInputEOF = "ARGUS_EXIT_ON_STDIN_EOF"

    /// What the child printed on standard output so far.
    public var standardOutput: String {
        collected.condition.lock(); defer { collected.condition.unlock() }
        return String(decoding: collected.standardOutput, as: UTF8.self)
    }

    /// What the child printed on standard error so far.
    public var standardError: String {
        collected.condition.lock(); defer { collected.condition.unlock() }
        return String(decoding: collected.standardError, as: UTF8.self)
    }

    /// Waits until `predicate` holds for the standard output so far, the output closes, or
    /// `timeoutSeconds` pass. Returns whether the predicate held. Blocks the calling thread: from
    /// async code use the async overload.
    @discardableResult
    public func waitForOutput(timeoutSeconds: Double, until predicate: (String) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        let condition = collected.condition
        condition.lock(); defer { condition.unlock() }
        while true {
            let text = String(decoding: collected.standardOutput, as: UTF8.self)
            if predicate(text) { return true }
            if collected.openStreams == 0 || !condition.wait(until: deadline) {
                return predicate(String(decoding: collected.standardOutput, as: UTF8.self))
            }
        }
    }

    /// Waits at most `timeoutSeconds` for the child to exit and for its output to close.
    /// Returns its exit code (128 + the signal number when a signal ended it), or `nil` on timeout.
    /// Blocks the calling thread: from async code use the async overload.
    public func wait(timeoutSeconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while reap() == nil {
            if Date() >= deadline { return nil }
            usleep(5_000)
        }
        let condition = collected.condition
        condition.lock()
        while collected.openStreams > 0 {
            if !condition.wait(until: deadline) { break }
        }
        condition.unlock()
        return reap()
    }

    /// Waits like `waitForOutput(timeoutSeconds:until:)` without blocking a thread of Swift's
    /// cooperative pool (which has as many threads as cores: a blocked one starves every other test).
    @discardableResult
    public func waitForOutput(timeoutSeconds: Double, until predicate: (String) -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while true {
            let (text, open) = outputSoFar()
            if predicate(text) { return true }
            if !open || Date() >= deadline { return predicate(outputSoFar().text) }
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
    }

    /// Waits like `wait(timeoutSeconds:)` without blocking a thread of Swift's cooperative pool.
    public func wait(timeoutSeconds: Double) async -> Int32? {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while reap() == nil || outputSoFar().open {
            if Date() >= deadline { return reap() }
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        return reap()
    }

    /// Runs a child to completion like `run(_:_:environment:standardInput:timeoutSeconds:)`, without
    /// blocking a thread of Swift's cooperative pool.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                           standardInput: [UInt8] = [], timeoutSeconds: Double = 120) async throws
        -> (status: Int32?, output: String, errors: String) {
        let child = try ChildProcess(executable, arguments, environment: environment, standardInput: standardInput)
        let status = await child.wait(timeoutSeconds: timeoutSeconds)
        child.stop()
        return (status, child.standardOutput, child.standardError)
    }

    private func outputSoFar() -> (text: String, open: Bool) {
        collected.condition.lock(); defer { collected.condition.unlock() }
        return (String(decoding: collected.standardOutput, as: UTF8.self), collected.openStreams > 0)
    }

    /// True while the child has not exited.
    public var isRunning: Bool { reap() == nil }

    /// Sends `signal` to the child (if it has not been reaped yet).
    public func send(_ signal: Int32) {
        stateLock.lock(); defer { stateLock.unlock() }
        if exitStatus == nil { kill(pid, signal) }
    }

    /// Closes the child's standard input (for `argus-events` started without input bytes: asks it to exit).
    public func closeStandardInput() {
        stateLock.lock(); defer { stateLock.unlock() }
        if inputDescriptor >= 0 {
            close(inputDescriptor)
            inputDescriptor = -1
        }
    }

    /// Kills the child with SIGKILL and reaps it. Safe to call more than once.
    public func stop() {
        send(SIGKILL)
        // SIGKILL cannot be caught: the child is gone within moments; bounded anyway.
        let deadline = Date().addingTimeInterval(10)
        while reap() == nil && Date() < deadline { usleep(1_000) }
        closeStandardInput()
    }

    /// Runs a child to completion, killing it after `timeoutSeconds`. Blocks the calling thread: from
    /// async code use the async overload.
    /// Returns its exit code (nil when it was killed at the deadline), standard output and standard error.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                           standardInput: [UInt8] = [], timeoutSeconds: Double = 120) throws
        -> (status: Int32?, output: String, errors: String) {
        let child = try ChildProcess(executable, arguments, environment: environment, standardInput: standardInput)
        let status = child.wait(timeoutSeconds: timeoutSeconds)
        child.stop()
        return (status, child.standardOutput, child.standardError)
    }

    private func reap() -> Int32? {
        stateLock.lock(); defer { stateLock.unlock() }
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        var result: pid_t
        repeat { result = waitpid(pid, &status, WNOHANG) } while result < 0 && errno == EINTR
        guard result == pid else { return nil }
        let signalNumber = status & 0x7F
        exitStatus = signalNumber == 0 ? (status >> 8) & 0xFF : 128 + signalNumber
        return exitStatus
    }

    private func startReader(_ descriptor: Int32, isOutput: Bool) {
        let thread = Thread { [collected] in
            let condition = collected.condition
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress!, $0.count) }
                if count < 0 && errno == EINTR { continue }
                condition.lock()
                if count > 0 {
                    if isOutput { collected.standardOutput += buffer[0..<count] } else { collected.standardError += buffer[0..<count] }
                } else {
                    collected.openStreams -= 1
                }
                condition.broadcast()
                condition.unlock()
                if count <= 0 { break }
            }
            close(descriptor)
        }
        thread.name = "child-output-\(descriptor)"
        thread.start()
    }
}
