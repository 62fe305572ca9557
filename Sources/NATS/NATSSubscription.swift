import Foundation
import SystemIO

/// A subscription: messages on its subject, queued (at most `messagesMax` and `bytesMax`) until `next` takes them.
/// One consumer at a time calls `next`. It survives reconnects (the client subscribes again).
///
/// `@unchecked Sendable`: the queue, the waiter and the counters are guarded by `lock`; the reader
/// thread delivers, the writer thread expires the waiter's deadline.
package final class NATSSubscription: @unchecked Sendable {
    /// The subject (wildcards allowed).
    package let subject: String
    /// The queue group, if any.
    package let queueGroup: String?
    /// The subscription id on the wire.
    package let id: Int
    /// The most messages queued; one more is dropped and `next` then throws `slowConsumer`.
    package let messagesMax: Int
    /// The most payload and header bytes queued; a message that would pass it is dropped and reported
    /// like one past `messagesMax` (into an empty queue any one message is admitted).
    package let bytesMax: Int

    private weak var core: NATSConnectionCore?
    private let lock = NSLock()
    private var queue: [NATSMessage] = []
    private var head = 0
    private var queuedBytes = 0
    private var dropped = 0
    private var reportedDropped = 0
    private var finished: NATSError?
    private var waiter: (continuation: CheckedContinuation<Result<NATSMessage?, NATSError>, Never>, deadlineNs: UInt64)?

    init(subject: String, queueGroup: String?, id: Int, messagesMax: Int, bytesMax: Int, core: NATSConnectionCore) {
        self.subject = subject
        self.queueGroup = queueGroup
        self.id = id
        self.messagesMax = messagesMax
        self.bytesMax = bytesMax
        self.core = core
    }

    /// The next message, or nil when none arrives within `timeoutSeconds`.
    /// - Throws: `NATSError.slowConsumer` once after messages were dropped; `closed` after
    ///   `unsubscribe()` or the connection's `close()`.
    package func next(timeoutSeconds: Double) async throws(NATSError) -> NATSMessage? {
        let deadlineNs = SystemClock.monotonicNanoseconds() + UInt64(max(0, timeoutSeconds) * 1e9)
        let result: Result<NATSMessage?, NATSError> = await withCheckedContinuation { continuation in
            lock.lock()
            defer { lock.unlock() }
            if dropped > reportedDropped {
                let count = dropped - reportedDropped
                reportedDropped = dropped
                continuation.resume(returning: .failure(.slowConsumer(subject: subject, dropped: count)))
            } else if head < queue.count {
                continuation.resume(returning: .success(take()))
            } else if let finished {
                continuation.resume(returning: .failure(finished))
            } else {
                waiter?.continuation.resume(returning: .success(nil))
                waiter = (continuation, deadlineNs)
            }
        }
        return try result.get()
    }

    /// Stops the subscription (`UNSUB`); a waiting `next` throws `closed`.
    package func unsubscribe() {
        core?.unsubscribe(self)
        finish(.closed)
    }

    /// The number of messages queued and not yet taken.
    package var queuedCount: Int {
        lock.lock(); defer { lock.unlock() }
        return queue.count - head
    }

    /// The payload and header bytes queued and not yet taken.
    package var queuedByteCount: Int {
        lock.lock(); defer { lock.unlock() }
        return queuedBytes
    }

    /// What a queued message counts against `bytesMax`: its payload and its header lines.
    static func size(of message: NATSMessage) -> Int {
        message.payload.count + (message.headers?.fields.reduce(12) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 } ?? 0)
    }

    private func take() -> NATSMessage {
        let message = queue[head]
        queuedBytes -= Self.size(of: message)
        head += 1
        if head == queue.count {
            queue.removeAll(keepingCapacity: true)
            head = 0
        }
        return message
    }

    /// Called by the reader thread.
    func deliver(_ message: NATSMessage) {
        lock.lock()
        defer { lock.unlock() }
        guard finished == nil else { return }
        if let waiter {
            self.waiter = nil
            waiter.continuation.resume(returning: .success(message))
        } else if queue.count - head < messagesMax && (queue.count == head || queuedBytes + Self.size(of: message) <= bytesMax) {
            queue.append(message)
            queuedBytes += Self.size(of: message)
        } else {
            dropped += 1
        }
    }

    /// Called by the writer thread's tick: answers a waiter whose deadline passed with nil.
    func expire(nowNs: UInt64) {
        lock.lock()
        defer { lock.unlock() }
        if let waiter, waiter.deadlineNs <= nowNs {
            self.waiter = nil
            waiter.continuation.resume(returning: .success(nil))
        }
    }

    /// Ends the subscription: a waiting `next` throws `error`, later calls too (queued messages first).
    func finish(_ error: NATSError) {
        lock.lock()
        defer { lock.unlock() }
        if finished == nil { finished = error }
        if let waiter {
            self.waiter = nil
            waiter.continuation.resume(returning: .failure(error))
        }
    }
}
