/// A connection to a NATS cluster: our own client of the NATS text protocol over plain sockets
/// (`TCP_NODELAY`), with headers, request/reply through one inbox subscription, subscriptions, and
/// reconnection across the cluster's servers (the configured ones and those the servers announce)
/// with a bounded doubling pause.
///
/// Two dedicated threads do the I/O (a reader and a writer); no call blocks the caller's thread:
/// publishing queues bytes (bounded by `outboundBytesMax`), waiting calls are `async`. Calls made
/// while reconnecting are queued and sent once connected; a request whose connection drops fails with
/// `connectionLost` (the caller retries; JetStream publishes carry a message id so a retry is not
/// stored twice). Closing (`close()` or the last reference going away) ends both threads.
package final class NATSConnection: Sendable {
    let core: NATSConnectionCore

    /// Starts connecting to `servers` (`nats://HOST:PORT[,...]`) in the background; `connect` waits for it.
    /// - Throws: `NATSError.invalidURL`.
    package init(servers: String, options: NATSConnectionOptions = NATSConnectionOptions()) throws(NATSError) {
        core = NATSConnectionCore(servers: try NATSServerAddress.parseList(servers), options: options)
        core.start()
    }

    deinit { core.close() }

    /// Connects to `servers` and waits until the first server answers the handshake.
    /// - Throws: `invalidURL`; `connectFailed` with each server's last failure after
    ///   `options.initialConnectTimeoutSeconds` (the connection is then closed).
    package static func connect(servers: String, options: NATSConnectionOptions = NATSConnectionOptions()) async throws(NATSError) -> NATSConnection {
        let connection = try NATSConnection(servers: servers, options: options)
        if case .failure(let error) = await connection.core.waitUntilConnected(timeoutSeconds: options.initialConnectTimeoutSeconds) {
            connection.close()
            throw error
        }
        return connection
    }

    /// Publishes `payload` to `subject` (at most once: nothing confirms it arrived).
    /// - Throws: `invalidSubject`, `invalidHeader`, `payloadTooLarge`, `outboundBufferFull`, `closed`.
    package func publish(_ subject: String, payload: [UInt8], headers: NATSHeaders? = nil, replyTo: String? = nil) throws(NATSError) {
        let frame = try NATSFrame.publish(subject: subject, replyTo: replyTo, headers: headers, payload: payload, payloadBytesMax: core.payloadBytesMax)
        try core.enqueue(frame)
    }

    /// Publishes `payload` with a fresh reply subject and waits for the first answer.
    /// - Parameter timeoutSeconds: the answer deadline; nil for `options.requestTimeoutSeconds`.
    /// - Throws: `noResponders` (status 503), `timedOut`, `connectionLost`, and what `publish` throws.
    package func request(_ subject: String, payload: [UInt8], headers: NATSHeaders? = nil, timeoutSeconds: Double? = nil) async throws(NATSError) -> NATSMessage {
        try await core.request(subject, headers: headers, payload: payload, timeoutSeconds: timeoutSeconds ?? core.options.requestTimeoutSeconds).get()
    }

    /// Subscribes to `subject` (wildcards allowed), optionally in a queue group.
    /// - Parameters:
    ///   - messagesMax: the most messages queued before `next` takes them (more are dropped and reported).
    ///   - bytesMax: the most payload and header bytes queued (a message that would pass it is dropped and
    ///     reported; one message alone is always admitted, the server's `max_payload` bounds it).
    /// - Throws: `invalidSubject`, `closed`, `tooManyPendingRequests` beyond `options.subscriptionsMax`.
    package func subscribe(_ subject: String, queueGroup: String? = nil, messagesMax: Int = 4_096,
                          bytesMax: Int = 16 * 1_048_576) throws(NATSError) -> NATSSubscription {
        try core.subscribe(subject, queueGroup: queueGroup, messagesMax: messagesMax, bytesMax: bytesMax)
    }

    /// Waits until the server has processed everything sent before (a PING answered by PONG).
    /// - Throws: `timedOut`, `connectionLost` (also when not connected now), `closed`,
    ///   `tooManyPendingFlushes` beyond `options.flushesPendingMax`, `outboundBufferFull`.
    package func flush(timeoutSeconds: Double = 5) async throws(NATSError) {
        try await core.flush(timeoutSeconds: timeoutSeconds).get()
    }

    /// A subject no one else uses, for replies to a `publish(_:payload:headers:replyTo:)`
    /// (`_INBOX.<random>S.<n>`: outside the request inbox's wildcard, so subscribe to it first).
    package func newInbox() -> String {
        core.inboxPrefix.dropLast() + "S." + String(core.tokens.wrappingAdd(1, ordering: .relaxed).newValue)
    }

    /// Closes the connection; waiting calls fail with `closed`. Safe to call more than once.
    package func close() { core.close() }

    /// The description the current server sent, or nil before the first connection.
    package var serverInfo: NATSServerInfo? {
        core.condition.lock(); defer { core.condition.unlock() }
        return core.serverInfo
    }

    /// The server connected to now, or nil while (re)connecting.
    package var connectedServer: NATSServerAddress? {
        core.condition.lock(); defer { core.condition.unlock() }
        if case .connected = core.phase { return core.connectedServer }
        return nil
    }

    /// How many times the connection was re-established after a drop.
    package var reconnectCount: Int {
        core.condition.lock(); defer { core.condition.unlock() }
        return core.reconnectCount
    }

    /// The servers known now: those given and those the cluster announced.
    package var knownServers: [NATSServerAddress] {
        core.condition.lock(); defer { core.condition.unlock() }
        return core.servers
    }
}
