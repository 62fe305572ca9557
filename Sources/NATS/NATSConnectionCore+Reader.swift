import Foundation
import SystemIO

extension NATSConnectionCore {
    /// The reader thread: connect (trying every known server, with a bounded doubling pause between
    /// rounds), read and dispatch until the connection drops, then fail what waited on it and reconnect.
    func runReader() {
        var parser = NATSParser(limits: options.parserLimits)
        var buffer = [UInt8](repeating: 0, count: max(1_024, options.receiveBufferBytes))
        var round = 0
        var nextServer = 0
        while true {
            condition.lock()
            let closed = isClosed
            let known = servers
            condition.unlock()
            if closed { return }
            var failures: [String] = []
            var connected: NATSSocket?
            for step in 0..<known.count {
                let address = known[(nextServer + step) % known.count]
                parser.reset()
                do {
                    connected = try handshake(with: address, parser: &parser, buffer: &buffer)
                    nextServer = (nextServer + step + 1) % max(1, known.count)
                    break
                } catch {
                    failures.append(error.reason)
                }
                condition.lock()
                let closedNow = isClosed
                condition.unlock()
                if closedNow { return }
            }
            guard let socket = connected else {
                round += 1
                condition.lock()
                lastFailures = failures
                let waitSeconds = min(options.reconnectWaitMaxSeconds, options.reconnectWaitMinSeconds * pow(2, Double(min(round - 1, 20))))
                let jitter = Double.random(in: 0.8...1.2)
                _ = condition.wait(until: Date().addingTimeInterval(waitSeconds * jitter))
                condition.unlock()
                continue
            }
            round = 0
            let reason = serve(socket, parser: &parser, buffer: &buffer)
            disconnect(socket, reason: reason)
        }
    }

    /// Connects to `address`, reads INFO, sends CONNECT and PING, waits for PONG; then, under the lock,
    /// becomes `connected`, putting the subscriptions' SUB lines before anything queued meanwhile.
    private func handshake(with address: NATSServerAddress, parser: inout NATSParser, buffer: inout [UInt8]) throws(NATSSocketFailure) -> NATSSocket {
        let deadlineNs = SystemClock.monotonicNanoseconds() + UInt64(options.connectTimeoutSeconds * 1e9)
        let socket = try NATSSocket.connect(to: address, timeoutSeconds: options.connectTimeoutSeconds)
        func nextOperation() throws(NATSSocketFailure) -> NATSServerOperation {
            while true {
                do {
                    if let operation = try parser.next() { return operation }
                } catch {
                    throw NATSSocketFailure("\(address): \(error.description)")
                }
                guard let count = try socket.receive(into: &buffer, deadlineNs: deadlineNs) else {
                    throw NATSSocketFailure("\(address): no handshake within \(options.connectTimeoutSeconds) s")
                }
                guard count > 0 else { throw NATSSocketFailure("\(address): closed during the handshake") }
                parser.append(buffer[0..<count])
            }
        }
        guard case .info(var info) = try nextOperation() else { throw NATSSocketFailure("\(address): the first line was not INFO") }
        parser.limits.payloadBytesMax = min(options.parserLimits.payloadBytesMax, info.payloadBytesMax)
        guard info.supportsHeaders else { throw NATSSocketFailure("\(address): the server does not support headers") }
        try socket.sendAll(ArraySlice(NATSFrame.connect(name: options.name) + NATSFrame.ping), deadlineNs: deadlineNs)
        handshake: while true {
            switch try nextOperation() {
            case .pong: break handshake
            case .info(let update):
                info = update
                parser.limits.payloadBytesMax = min(options.parserLimits.payloadBytesMax, update.payloadBytesMax)
            case .error(let text): throw NATSSocketFailure("\(address): -ERR \(text)")
            case .ok, .ping, .message: continue
            }
        }
        condition.lock()
        defer { condition.unlock() }
        if isClosed { throw NATSSocketFailure("closed") }
        var subscribing = NATSFrame.subscribe(subject: inboxPrefix + "*", queueGroup: nil, id: Self.inboxSubscriptionID)
        for subscription in subscriptions.values.sorted(by: { $0.id < $1.id }) {
            subscribing += NATSFrame.subscribe(subject: subscription.subject, queueGroup: subscription.queueGroup, id: subscription.id)
        }
        outbound = subscribing + outbound
        learn(info)
        phase = .connected(socket)
        connectedServer = address
        if hasConnected { reconnectCount += 1 }
        hasConnected = true
        lastFailures = []
        pings.removeAll()
        let waiters = connectWaiters
        connectWaiters.removeAll()
        for waiter in waiters { waiter.resume() }
        condition.broadcast()
        return socket
    }

    /// Takes the server's description: its limits and the cluster's other servers (caller holds the lock).
    private func learn(_ info: NATSServerInfo) {
        serverInfo = info
        for url in info.connectURLs where servers.count < NATSServerAddress.listCountMax {
            if let address = try? NATSServerAddress.parse(url), !servers.contains(address) { servers.append(address) }
        }
    }

    /// Reads and dispatches until the connection fails; returns why.
    private func serve(_ socket: NATSSocket, parser: inout NATSParser, buffer: inout [UInt8]) -> String {
        let pingIntervalNs = UInt64(options.pingIntervalSeconds * 1e9)
        var lastPingNs = SystemClock.monotonicNanoseconds()
        while true {
            let received: Int?
            do {
                received = try socket.receive(into: &buffer, deadlineNs: SystemClock.monotonicNanoseconds() + 100_000_000)
            } catch {
                return error.reason
            }
            condition.lock()
            let closed = isClosed
            condition.unlock()
            if closed { return "closed" }
            if let received {
                if received == 0 { return "the server closed the connection" }
                parser.append(buffer[0..<received])
                do {
                    while let operation = try parser.next() {
                        dispatch(operation, parser: &parser)
                    }
                } catch {
                    return error.description
                }
            }
            let now = SystemClock.monotonicNanoseconds()
            if now - lastPingNs >= pingIntervalNs {
                lastPingNs = now
                condition.lock()
                let staleNs = pingIntervalNs * UInt64(max(1, options.pingsOutstandingMax))
                if let oldest = pings.first, now - oldest.sentNs > staleNs {
                    condition.unlock()
                    return "stale connection: no PONG for \(options.pingIntervalSeconds * Double(options.pingsOutstandingMax)) s"
                }
                if (try? enqueueLocked(NATSFrame.ping, force: true)) != nil { pings.append((now, nil)) }
                condition.unlock()
            }
        }
    }

    private func dispatch(_ operation: NATSServerOperation, parser: inout NATSParser) {
        switch operation {
        case .message(let message):
            if message.subscriptionID == Self.inboxSubscriptionID {
                guard message.subject.hasPrefix(inboxPrefix), let token = UInt64(message.subject.dropFirst(inboxPrefix.count)) else { return }
                condition.lock()
                let request = pending.removeValue(forKey: token)
                condition.unlock()
                guard let request else { return }
                if message.statusCode == 503 {
                    request.continuation.resume(returning: .failure(.noResponders(subject: request.subject)))
                } else {
                    request.continuation.resume(returning: .success(message))
                }
            } else {
                condition.lock()
                let subscription = subscriptions[message.subscriptionID]
                condition.unlock()
                subscription?.deliver(message)
            }
        case .ping:
            condition.lock()
            try? enqueueLocked(NATSFrame.pong, force: true)
            condition.unlock()
        case .pong:
            condition.lock()
            let waiter = pings.isEmpty ? nil : pings.removeFirst().waiterID.flatMap { pingWaiters.removeValue(forKey: $0) }
            condition.unlock()
            waiter?.continuation.resume(returning: .success(()))
        case .info(let info):
            parser.limits.payloadBytesMax = min(options.parserLimits.payloadBytesMax, info.payloadBytesMax)
            condition.lock()
            learn(info)
            condition.unlock()
        case .error(let text):
            condition.lock()
            lastFailures = ["-ERR \(text)"]
            condition.unlock()
        case .ok:
            break
        }
    }

    /// After a drop: back to `connecting`; what was queued is discarded, what waited for an answer
    /// fails with `connectionLost` (callers retry; JetStream publishes dedupe by message id).
    private func disconnect(_ socket: NATSSocket, reason: String) {
        socket.shutdownBoth()
        condition.lock()
        guard !isClosed else {
            condition.unlock()
            return
        }
        phase = .connecting
        outbound.removeAll()
        let failedRequests = pending.values
        pending.removeAll()
        let failedPings = pingWaiters.values
        pingWaiters.removeAll()
        pings.removeAll()
        lastFailures = [reason]
        condition.unlock()
        for request in failedRequests { request.continuation.resume(returning: .failure(.connectionLost(reason))) }
        for waiter in failedPings { waiter.continuation.resume(returning: .failure(.connectionLost(reason))) }
    }
}
