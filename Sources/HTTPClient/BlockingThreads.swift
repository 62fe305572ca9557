import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Dedicated threads for blocking socket work (a delivery attempt, an S3 request), so none ever occupies a
/// thread of Swift's cooperative pool. A thread per running job, up to `threadCountMax` (for delivery the
/// engine's global in-flight cap, so a slow receiver holds one thread and never delays another's attempt);
/// jobs beyond that wait in order. Threads idle for `idleSecondsMax` exit.
///
/// `@unchecked Sendable`: `jobs`, `idleCount` and `threadCount` are only touched with `mutex` held.
package final class BlockingThreads: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var jobs: [@Sendable () -> Void] = []
    private var jobsHead = 0
    private var idleCount = 0
    private var threadCount = 0
    package let threadCountMax: Int
    package let idleSecondsMax: Int
    /// The name each thread carries (seen in `top -H`, `perf` and debuggers).
    package let threadName: String
    /// Stack of each thread, in bytes (the work is a socket loop with small buffers).
    package static let stackSizeBytes = 512 << 10

    package init(threadCountMax: Int, idleSecondsMax: Int = 30, threadName: String) {
        self.threadName = threadName
        self.threadCountMax = max(1, threadCountMax)
        self.idleSecondsMax = max(1, idleSecondsMax)
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Threads alive now.
    package var threads: Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return threadCount
    }

    /// Runs `job` on one of the threads (a new one when none is idle and the cap allows).
    package func submit(_ job: @escaping @Sendable () -> Void) {
        pthread_mutex_lock(mutex)
        jobs.append(job)
        // Queued jobs beyond the idle threads (a signalled thread stays counted idle until it wakes) need a new one.
        let spawn = jobs.count - jobsHead > idleCount && threadCount < threadCountMax
        if spawn { threadCount += 1 } else { pthread_cond_signal(condition) }
        pthread_mutex_unlock(mutex)
        if spawn {
            let thread = Thread { [self] in work() }
            thread.stackSize = Self.stackSizeBytes
            thread.name = threadName
            thread.start()
        }
    }

    /// Runs `body` on one of the threads and returns its result.
    package func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            submit { continuation.resume(returning: body()) }
        }
    }

    private func work() {
        pthread_mutex_lock(mutex)
        while true {
            if jobsHead < jobs.count {
                let job = jobs[jobsHead]
                jobsHead += 1
                if jobsHead > 64, jobsHead * 2 > jobs.count {
                    jobs.removeFirst(jobsHead)
                    jobsHead = 0
                }
                pthread_mutex_unlock(mutex)
                job()
                pthread_mutex_lock(mutex)
                continue
            }
            var deadline = timespec()
            clock_gettime(CLOCK_MONOTONIC, &deadline)
            deadline.tv_sec += idleSecondsMax
            idleCount += 1
            let result = pthread_cond_timedwait(condition, mutex, &deadline)
            idleCount -= 1
            if result == ETIMEDOUT, jobsHead == jobs.count {
                threadCount -= 1
                pthread_mutex_unlock(mutex)
                return
            }
        }
    }
}
