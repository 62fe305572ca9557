import Foundation
import SystemIO

extension NATSConnectionCore {
    /// The most bytes handed to one `send` batch.
    static let writeChunkBytesMax = 1_048_576

    /// The writer thread: writes queued bytes while connected; every 50 ms (and between writes) fails
    /// requests, flushes and subscription waits whose deadlines passed, and wakes connect waiters.
    func runWriter() {
        var lastExpiryNs: UInt64 = 0
        condition.lock()
        while true {
            if isClosed { break }
            let now = SystemClock.monotonicNanoseconds()
            var expired: () -> Void = {}
            if now - lastExpiryNs >= 50_000_000 {
                lastExpiryNs = now
                expired = expireLocked(nowNs: now)
            }
            if case .connected(let socket) = phase, !outbound.isEmpty {
                let chunk: ArraySlice<UInt8>
                if outbound.count <= Self.writeChunkBytesMax {
                    chunk = outbound[...]
                    outbound = []
                } else {
                    chunk = outbound[0..<Self.writeChunkBytesMax]
                    outbound.removeFirst(Self.writeChunkBytesMax)
                }
                isSending = true
                condition.unlock()
                expired()
                do {
                    try socket.sendAll(chunk, deadlineNs: SystemClock.monotonicNanoseconds() + UInt64(options.writeTimeoutSeconds * 1e9))
                } catch {
                    // The reader sees the shut-down socket fail and reconnects.
                    socket.shutdownBoth()
                }
                condition.lock()
                isSending = false
                continue
            }
            condition.unlock()
            expired()
            condition.lock()
            if case .connected = phase, !outbound.isEmpty { continue }
            if isClosed { break }
            _ = condition.wait(until: Date().addingTimeInterval(0.05))
        }
        condition.unlock()
    }

    /// Removes what is past its deadline (caller holds the lock); returns the resumptions to run unlocked.
    private func expireLocked(nowNs: UInt64) -> () -> Void {
        let overdue = pending.filter { $0.value.deadlineNs <= nowNs }
        for token in overdue.keys { pending.removeValue(forKey: token) }
        let overduePings = pingWaiters.filter { $0.value.deadlineNs <= nowNs }
        for id in overduePings.keys { pingWaiters.removeValue(forKey: id) }
        let subscribed = Array(subscriptions.values)
        let waiters = connectWaiters
        connectWaiters.removeAll()
        return {
            for request in overdue.values {
                request.continuation.resume(returning: .failure(.timedOut(operation: "request on '\(request.subject)'", seconds: request.timeoutSeconds)))
            }
            for waiter in overduePings.values {
                waiter.continuation.resume(returning: .failure(.timedOut(operation: "flush", seconds: waiter.timeoutSeconds)))
            }
            for subscription in subscribed { subscription.expire(nowNs: nowNs) }
            for waiter in waiters { waiter.resume() }
        }
    }
}
