import Dispatch
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The delivery worker process's loop (`argus-events delivery-worker`): reads `WorkerFrame` requests on
/// standard input, sends each through `transport` (URLSession for `https://`), writes each result on
/// standard output, and cancels a request when asked. At the end of its input (the server retired it, or
/// died) it finishes the requests in flight (each has its deadline) and returns.
///
/// It exists to keep URLSession out of the server process: URLSession leaks about 0.14 KiB per request for the
/// life of a process and its known crashes live around session teardown; a worker is replaced after a number of
/// requests (`WorkerProcessTransport`), and a worker that crashes fails only its own attempts.
public enum DeliveryWorker {
    /// Serves requests until `input` ends. Returns the exit code: 0, or 1 after a malformed frame.
    public static func run(input: Int32 = 0, output: Int32 = 1, transport: any DeliveryTransport) async -> Int32 {
        let (frames, continuation) = AsyncStream.makeStream(of: WorkerFrame.self)
        let malformed = Atomic<Bool>(false)
        let reader = Thread {
            if let problem = WorkerFrame.readAll(from: input, { continuation.yield($0) }) {
                FileHandle.standardError.write(Data("argus-events delivery-worker: \(problem)\n".utf8))
                malformed.store(true, ordering: .relaxed)
            }
            continuation.finish()
        }
        reader.name = "argus-worker-input"
        reader.start()

        let writer = FrameWriter(descriptor: output)
        let running = RunningRequests()
        await withDiscardingTaskGroup { group in
            for await frame in frames {
                switch frame {
                case .request(let id, let url, let headers, let body, let timeoutSeconds):
                    guard let target = URL(string: url) else {
                        try? writer.write(.result(id: id, .failed(.networkError, "the worker could not read the URL", durationMs: 0)))
                        continue
                    }
                    let task = Task { await transport.post(url: target, headers: headers, body: body, timeoutSeconds: timeoutSeconds) }
                    running.tasks.withLock { $0[id] = task }
                    group.addTask {
                        let result = await task.value
                        running.tasks.withLock { _ = $0.removeValue(forKey: id) }
                        try? writer.write(.result(id: id, result)) // results have no headers: always encodable
                    }
                case .cancel(let id):
                    running.tasks.withLock { $0[id] }?.cancel()
                case .result:
                    break
                }
            }
        }
        await writer.finish()
        return malformed.load(ordering: .relaxed) ? 1 : 0
    }
}

/// The worker's requests in flight, by id (to cancel one).
final class RunningRequests: Sendable {
    let tasks = Mutex<[UInt64: Task<TransportResult, Never>]>([:])
}

/// Writes frames to a pipe in order, on its own serial queue (a pipe write can block while the reader is
/// slow; that must not hold a thread of Swift's cooperative pool).
final class FrameWriter: Sendable {
    private let descriptor: Int32
    private let queue = DispatchQueue(label: "argus.worker-frames")
    private let failed = Atomic<Bool>(false)
    /// Set on the queue by `close()`: writes queued after it are dropped (the descriptor number may be reused).
    private let closed = Atomic<Bool>(false)

    init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    /// False once a write failed (the reader is gone).
    var isBroken: Bool { failed.load(ordering: .relaxed) }

    /// Queues `frame`'s bytes for the descriptor.
    /// - Throws: `WorkerFrame.Malformed` when the frame cannot be encoded (a request over the header limit).
    func write(_ frame: WorkerFrame) throws(WorkerFrame.Malformed) {
        let bytes = try frame.encoded()
        queue.async { [self] in
            guard !failed.load(ordering: .relaxed), !closed.load(ordering: .relaxed) else { return }
            if !Self.writeAll(descriptor, bytes) { failed.store(true, ordering: .relaxed) }
        }
    }

    /// Closes the descriptor after every write queued so far; later writes are dropped.
    func close() {
        queue.async { [self] in
            guard !closed.exchange(true, ordering: .relaxed) else { return }
            _ = Glibc.close(descriptor)
        }
    }

    /// Returns once every write queued so far is done.
    func finish() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in queue.async { continuation.resume() } }
    }

    static func writeAll(_ descriptor: Int32, _ bytes: [UInt8]) -> Bool {
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + written, bytes.count - written) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return false }
            written += count
        }
        return true
    }
}
