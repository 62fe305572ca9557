import Foundation
import Synchronization
import SystemIO
import WebhookSigning
#if canImport(Glibc)
import Glibc
#endif

/// Sends deliveries through a delivery worker process (`argus-events delivery-worker`, see `DeliveryWorker`),
/// replaced after `requestsPerWorkerMax` requests: the worker's URLSession leak (about 0.14 KiB per request)
/// is given back when it exits, and a crash of URLSession fails only that worker's attempts in flight
/// (`network_error`, retried on the lane's schedule), never the server.
///
/// Replacement without a gap: the next request starts a new worker; the old one gets the end of its input once
/// its last answer is in, finishes and exits. A worker that dies is replaced at the next request (after a
/// 1-second pause when it died young, so a worker that cannot start does not spin).
public final class WorkerProcessTransport: DeliveryTransport {
    /// How workers are started and replaced.
    public struct Configuration: Sendable {
        /// The `argus-events` executable.
        public var executable: String
        public var arguments = ["delivery-worker"]
        /// Requests one worker serves before it is replaced (a worker with a URLSession per request grows
        /// about 1.4 KiB per request: at most about 50 MiB over its life).
        public var requestsPerWorkerMax = 20_000
        /// Variables for the worker (default: this process's, without `ARGUS_EXIT_ON_STDIN_EOF`, whose
        /// watcher would read the worker's requests).
        public var environment: [String: String]

        public init(executable: String) {
            self.executable = executable
            var environment = ProcessInfo.processInfo.environment
            environment["ARGUS_EXIT_ON_STDIN_EOF"] = nil
            self.environment = environment
        }
    }

    private struct State {
        var current: WorkerProcess?
        var nextID: UInt64 = 1
        var started = 0
        var lastStartFailure: String?
        var lastStartNs: UInt64 = 0
    }

    public let configuration: Configuration
    private let state = Mutex(State())

    public init(configuration: Configuration) {
        self.configuration = configuration
        // A write to a worker that just died must fail with EPIPE, not kill the server.
        signal(SIGPIPE, SIG_IGN)
    }

    /// Retires the current worker: it finishes its requests in flight and exits. A later request starts a new one.
    public func shutdown() {
        let worker = state.withLock { state -> WorkerProcess? in
            defer { state.current = nil }
            return state.current
        }
        worker?.retire()
    }

    /// Workers started so far.
    public var workersStarted: Int { state.withLock { $0.started } }

    /// The pid of the worker taking new requests, nil before the first or after it died.
    public var currentWorkerPID: pid_t? { state.withLock { $0.current?.isAlive == true ? $0.current?.pid : nil } }

    public func post(url: URL, headers: [HeaderField], body: [UInt8], timeoutSeconds: Double) async -> TransportResult {
        guard headers.count <= WorkerFrame.headerCountMax else {
            return .failed(.networkError, "the request has \(headers.count) headers, the delivery worker takes at most \(WorkerFrame.headerCountMax)",
                           durationMs: 0)
        }
        let worker: WorkerProcess
        let id: UInt64
        switch acquire() {
        case .success(let pair): (worker, id) = pair
        case .failure(let reason): return .failed(.networkError, "the delivery worker cannot start: \(reason)", durationMs: 0)
        }
        let frame = WorkerFrame.request(id: id, url: url.absoluteString, headers: headers, body: body, timeoutSeconds: timeoutSeconds)
        return await withTaskCancellationHandler {
            await worker.send(frame, id: id)
        } onCancel: {
            worker.cancel(id)
        }
    }

    private struct StartFailure: Error, CustomStringConvertible {
        let description: String
    }

    /// The worker for the next request and its id; replaces a worker that is full or dead.
    private func acquire() -> Result<(WorkerProcess, UInt64), StartFailure> {
        var retired: WorkerProcess?
        defer { retired?.retire() }
        return state.withLock { state in
            if let current = state.current, current.isAlive, current.sentCount < configuration.requestsPerWorkerMax {
                let id = state.nextID
                state.nextID += 1
                current.sentCount += 1
                return .success((current, id))
            }
            let now = SystemClock.monotonicNanoseconds()
            let diedYoung = state.current.map { !$0.isAlive } ?? (state.lastStartFailure != nil)
            if diedYoung, now - state.lastStartNs < 1_000_000_000 {
                return .failure(StartFailure(description: state.lastStartFailure ?? "the last worker exited within a second of its start"))
            }
            retired = state.current
            state.current = nil
            do {
                let worker = try WorkerProcess(executable: configuration.executable, arguments: configuration.arguments,
                                               environment: configuration.environment)
                state.started += 1
                state.lastStartNs = now
                state.current = worker
                state.lastStartFailure = nil
                let id = state.nextID
                state.nextID += 1
                worker.sentCount += 1
                return .success((worker, id))
            } catch {
                state.lastStartNs = now
                state.lastStartFailure = "\(error)"
                return .failure(StartFailure(description: "\(error)"))
            }
        }
    }
}

/// One worker process: its pipes, its answers waiting, and the thread that reads them.
///
/// `@unchecked Sendable`: `sentCount` is only touched under the transport's lock; everything else is
/// immutable or in `state`.
final class WorkerProcess: @unchecked Sendable {
    private struct State {
        var waiting: [UInt64: CheckedContinuation<TransportResult, Never>] = [:]
        var alive = true
        var retired = false
        var inputClosed = false
    }

    let pid: pid_t
    private let output: Int32
    private let writer: FrameWriter
    private let state = Mutex(State())
    /// Requests given to this worker (under the transport's lock).
    var sentCount = 0

    init(executable: String, arguments: [String], environment: [String: String]) throws(SystemError) {
        let toPipe = try Pipe.make()
        let fromPipe: (read: Int32, write: Int32)
        do {
            fromPipe = try Pipe.make()
        } catch {
            close(toPipe.read)
            close(toPipe.write)
            throw error
        }
        let toWorker = [toPipe.read, toPipe.write]
        let fromWorker = [fromPipe.read, fromPipe.write]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, toWorker[0], 0)
        posix_spawn_file_actions_adddup2(&actions, fromWorker[1], 1)
        do {
            pid = try ProcessSpawner.spawn(executable, arguments: [executable] + arguments, environment: environment, actions: &actions)
        } catch {
            for descriptor in toWorker + fromWorker { close(descriptor) }
            throw error
        }
        close(toWorker[0])
        close(fromWorker[1])
        output = fromWorker[0]
        writer = FrameWriter(descriptor: toWorker[1])
        Thread.detachNewThread(named: "argus-worker-answers") { [self] in readAnswers() }
    }

    var isAlive: Bool { state.withLock { $0.alive } }

    /// Sends `frame` and waits for its answer (or the worker's death).
    func send(_ frame: WorkerFrame, id: UInt64) async -> TransportResult {
        await withCheckedContinuation { continuation in
            let accepted = state.withLock { state -> Bool in
                guard state.alive, !state.inputClosed else { return false }
                state.waiting[id] = continuation
                return true
            }
            guard accepted else {
                continuation.resume(returning: .failed(.networkError, "the delivery worker exited before the request was sent", durationMs: 0))
                return
            }
            do throws(WorkerFrame.Malformed) {
                try writer.write(frame)
            } catch {
                let waiting = state.withLock { $0.waiting.removeValue(forKey: id) }
                waiting?.resume(returning: .failed(.networkError, "the request cannot go to the delivery worker: \(error)", durationMs: 0))
            }
        }
    }

    func cancel(_ id: UInt64) {
        guard state.withLock({ $0.waiting[id] != nil && !$0.inputClosed }) else { return }
        try? writer.write(.cancel(id: id)) // a cancel frame has no headers: always encodable
    }

    /// No new requests: the worker's input ends once its last answer is in.
    func retire() {
        let close = state.withLock { state -> Bool in
            state.retired = true
            return state.waiting.isEmpty && Self.markInputClosed(&state)
        }
        if close { closeInput() }
    }

    private static func markInputClosed(_ state: inout State) -> Bool {
        guard !state.inputClosed else { return false }
        state.inputClosed = true
        return true
    }

    /// Closes the worker's input after every queued write (so no write goes to a closed or reused descriptor).
    private func closeInput() {
        writer.close()
    }

    private func readAnswers() {
        let problem = WorkerFrame.readAll(from: output) { frame in
            guard case .result(let id, let result) = frame else { return }
            let (continuation, close) = state.withLock { state -> (CheckedContinuation<TransportResult, Never>?, Bool) in
                let continuation = state.waiting.removeValue(forKey: id)
                return (continuation, state.retired && state.waiting.isEmpty && Self.markInputClosed(&state))
            }
            continuation?.resume(returning: result)
            if close { closeInput() }
        }.map { "\($0)" }
        Glibc.close(output)
        // The worker is gone (or talks nonsense): stop it for good, then fail what it still held.
        if problem != nil { kill(pid, SIGKILL) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        let exit = Self.describe(status)
        let (waiting, close) = state.withLock { state -> ([CheckedContinuation<TransportResult, Never>], Bool) in
            state.alive = false
            defer { state.waiting = [:] }
            return (Array(state.waiting.values), Self.markInputClosed(&state))
        }
        if close { closeInput() }
        let reason = problem.map { "the delivery worker was stopped (\($0))" } ?? "the delivery worker exited (\(exit))"
        for continuation in waiting {
            continuation.resume(returning: .failed(.networkError, reason + " during the attempt", durationMs: 0))
        }
    }

    private static func describe(_ status: Int32) -> String {
        let signal = status & 0x7F
        if signal == 0 { return "status \((status >> 8) & 0xFF)" }
        return "signal \(signal)"
    }
}
