import Synchronization

/// The tasks that answer requests not finished on the server's I/O thread: children of one discarding task
/// group that the server owns (one task runs the group), so none is fire-and-forget. `run` may be called
/// from any thread and never blocks; `shutdown()` cancels the tasks still running and waits until they end.
/// A job handed over after `shutdown()` began is not run.
public final class RequestTasks: Sendable {
    private typealias Job = @Sendable () async -> Void
    private let jobs: AsyncStream<Job>.Continuation
    private let group: Task<Void, Never>

    /// Starts the group (empty until `run`).
    public init() {
        let (stream, jobs) = AsyncStream.makeStream(of: Job.self)
        self.jobs = jobs
        group = Task {
            await withDiscardingTaskGroup { group in
                for await job in stream { group.addTask(operation: job) }
            }
        }
    }

    deinit { jobs.finish() }

    /// Runs `job` as a child task of the group.
    public func run(_ job: @escaping @Sendable () async -> Void) {
        jobs.yield(job)
    }

    /// Takes no more jobs, cancels the running ones and returns when every one has ended.
    public func shutdown() async {
        jobs.finish()
        group.cancel()
        await group.value
    }
}
