import Foundation
import Synchronization
import SystemIO

/// The state and threads behind a `NATSConnection`: a reader thread (connects, reconnects, reads,
/// parses, dispatches) and a writer thread (writes the outbound buffer, expires deadlines every 50 ms).
/// Both block only themselves; callers never block: they enqueue bytes and await continuations.
///
/// `@unchecked Sendable`: every mutable field is guarded by `condition`.
final class NATSConnectionCore: @unchecked Sendable {
    enum Phase {
        case connecting
        case connected(NATSSocket)
        case closed
    }

    struct PendingRequest {
        let continuation: CheckedContinuation<Result<NATSMessage, NATSError>, Never>
        let deadlineNs: UInt64
        let subject: String
        let timeoutSeconds: Double
    }

    struct PingWaiter {
        let continuation: CheckedContinuation<Result<Void, NATSError>, Never>
        let deadlineNs: UInt64
        let timeoutSeconds: Double
    }

    let options: NATSConnectionOptions
    /// `_INBOX.<random>.`: request answers arrive on `<inboxPrefix><token>` (subscription id 1).
    let inboxPrefix: String
    static let inboxSubscriptionID = 1

    let condition = NSCondition()
    var phase = Phase.connecting
    var outbound: [UInt8] = []
    /// True while the writer thread sends a chunk it took from `outbound` (outside the lock).
    var isSending = false
    var pending: [UInt64: PendingRequest] = [:]
    var subscriptions: [Int: NATSSubscription] = [:]
    var nextSubscriptionID = 2
    /// Outstanding PINGs in order: when each was queued and which flush waits for its PONG (nil: keep-alive).
    var pings: [(sentNs: UInt64, waiterID: Int?)] = []
    var pingWaiters: [Int: PingWaiter] = [:]
    var nextPingWaiterID = 0
    var servers: [NATSServerAddress]
    var serverInfo: NATSServerInfo?
    var connectedServer: NATSServerAddress?
    var reconnectCount = 0
    var hasConnected = false
    var lastFailures: [String] = []
    var connectWaiters: [CheckedContinuation<Void, Never>] = []
    let tokens = Atomic<UInt64>(0)

    init(servers: [NATSServerAddress], options: NATSConnectionOptions) {
        self.servers = servers
        self.options = options
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
        let random = (0..<22).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] }
        inboxPrefix = "_INBOX." + String(decoding: random, as: UTF8.self) + "."
    }

    func start() {
        let reader = Thread { [self] in runReader() }
        reader.name = "nats-reader"
        reader.start()
        let writer = Thread { [self] in runWriter() }
        writer.name = "nats-writer"
        writer.start()
    }

    var isClosed: Bool {
        if case .closed = phase { return true }
        return false
    }

    /// Queues `frame` (caller holds `condition`).
    /// - Throws: `closed`, or `outboundBufferFull` unless `force` (protocol replies such as PONG).
    func enqueueLocked(_ frame: [UInt8], force: Bool = false) throws(NATSError) {
        if isClosed { throw .closed }
        guard force || outbound.count + frame.count <= options.outboundBytesMax else {
            throw .outboundBufferFull(bytesMax: options.outboundBytesMax)
        }
        outbound += frame
        condition.broadcast()
    }

    /// Queues `frame` for the writer.
    func enqueue(_ frame: [UInt8]) throws(NATSError) {
        condition.lock()
        defer { condition.unlock() }
        try enqueueLocked(frame)
    }

    /// The largest payload (headers included) the current server accepts.
    var payloadBytesMax: Int {
        condition.lock(); defer { condition.unlock() }
        return serverInfo?.payloadBytesMax ?? options.parserLimits.payloadBytesMax
    }

    /// Sends a request and waits for its one answer.
    func request(_ subject: String, headers: NATSHeaders?, payload: [UInt8], timeoutSeconds: Double) async -> Result<NATSMessage, NATSError> {
        let token = tokens.wrappingAdd(1, ordering: .relaxed).newValue
        let frame: [UInt8]
        do {
            frame = try NATSFrame.publish(subject: subject, replyTo: inboxPrefix + String(token), headers: headers, payload: payload,
                                          payloadBytesMax: payloadBytesMax)
        } catch {
            return .failure(error)
        }
        let deadlineNs = SystemClock.monotonicNanoseconds() + UInt64(max(0, timeoutSeconds) * 1e9)
        return await withCheckedContinuation { continuation in
            condition.lock()
            defer { condition.unlock() }
            guard pending.count < options.requestsPendingMax else {
                continuation.resume(returning: .failure(.tooManyPendingRequests(requestsMax: options.requestsPendingMax)))
                return
            }
            do throws(NATSError) {
                try enqueueLocked(frame)
            } catch {
                continuation.resume(returning: .failure(error))
                return
            }
            pending[token] = PendingRequest(continuation: continuation, deadlineNs: deadlineNs, subject: subject, timeoutSeconds: timeoutSeconds)
        }
    }

    /// Sends a PING and waits for its PONG: everything queued before has reached the server.
    /// At most `options.flushesPendingMax` wait at once; the PING counts against `outboundBytesMax`.
    func flush(timeoutSeconds: Double) async -> Result<Void, NATSError> {
        let deadlineNs = SystemClock.monotonicNanoseconds() + UInt64(max(0, timeoutSeconds) * 1e9)
        return await withCheckedContinuation { continuation in
            condition.lock()
            defer { condition.unlock() }
            guard case .connected = phase else {
                continuation.resume(returning: .failure(isClosed ? .closed : .connectionLost("not connected")))
                return
            }
            guard pingWaiters.count < options.flushesPendingMax else {
                continuation.resume(returning: .failure(.tooManyPendingFlushes(flushesMax: options.flushesPendingMax)))
                return
            }
            do throws(NATSError) {
                // A caller's PING obeys `outboundBytesMax` like a publish (only protocol replies are forced).
                try enqueueLocked(NATSFrame.ping)
            } catch {
                continuation.resume(returning: .failure(error))
                return
            }
            nextPingWaiterID += 1
            pingWaiters[nextPingWaiterID] = PingWaiter(continuation: continuation, deadlineNs: deadlineNs, timeoutSeconds: timeoutSeconds)
            pings.append((SystemClock.monotonicNanoseconds(), nextPingWaiterID))
        }
    }

    /// Waits until connected (or closed, or `timeoutSeconds`).
    func waitUntilConnected(timeoutSeconds: Double) async -> Result<Void, NATSError> {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while true {
            let (state, failures) = phaseAndFailures()
            switch state {
            case .connected: return .success(())
            case .closed: return .failure(.closed)
            case .connecting:
                if Date() >= deadline { return .failure(.connectFailed(failures.isEmpty ? ["no answer within \(timeoutSeconds) s"] : failures)) }
            }
            // The reader wakes waiters when it connects; the writer's tick wakes them every 50 ms to check the deadline.
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                condition.lock()
                if case .connecting = phase {
                    connectWaiters.append(continuation)
                } else {
                    continuation.resume()
                }
                condition.unlock()
            }
        }
    }

    private func phaseAndFailures() -> (Phase, [String]) {
        condition.lock(); defer { condition.unlock() }
        return (phase, lastFailures)
    }

    func subscribe(_ subject: String, queueGroup: String?, messagesMax: Int, bytesMax: Int) throws(NATSError) -> NATSSubscription {
        try NATSFrame.validate(subject: subject)
        if let queueGroup { try NATSFrame.validate(subject: queueGroup) }
        condition.lock()
        defer { condition.unlock() }
        if isClosed { throw .closed }
        guard subscriptions.count < options.subscriptionsMax else { throw .tooManyPendingRequests(requestsMax: options.subscriptionsMax) }
        let id = nextSubscriptionID
        nextSubscriptionID += 1
        let subscription = NATSSubscription(subject: subject, queueGroup: queueGroup, id: id, messagesMax: max(1, messagesMax),
                                              bytesMax: max(1, bytesMax), core: self)
        subscriptions[id] = subscription
        if case .connected = phase {
            try enqueueLocked(NATSFrame.subscribe(subject: subject, queueGroup: queueGroup, id: id), force: true)
        }
        return subscription
    }

    func unsubscribe(_ subscription: NATSSubscription) {
        condition.lock()
        defer { condition.unlock() }
        guard subscriptions.removeValue(forKey: subscription.id) != nil else { return }
        if case .connected = phase {
            try? enqueueLocked(NATSFrame.unsubscribe(id: subscription.id), force: true)
        }
    }

    /// Closes the connection: every waiter fails with `closed`, both threads end.
    func close() {
        condition.lock()
        let socket: NATSSocket?
        if case .connected(let current) = phase { socket = current } else { socket = nil }
        if isClosed {
            condition.unlock()
            return
        }
        phase = .closed
        let failedRequests = pending.values
        pending.removeAll()
        let failedPings = pingWaiters.values
        pingWaiters.removeAll()
        pings.removeAll()
        let ended = subscriptions.values
        subscriptions.removeAll()
        let waiters = connectWaiters
        connectWaiters.removeAll()
        condition.broadcast()
        condition.unlock()
        socket?.shutdownBoth()
        for request in failedRequests { request.continuation.resume(returning: .failure(.closed)) }
        for waiter in failedPings { waiter.continuation.resume(returning: .failure(.closed)) }
        for subscription in ended { subscription.finish(.closed) }
        for waiter in waiters { waiter.resume() }
    }
}
