import JSON

/// An ephemeral pull consumer without acknowledgements: reads a stream in order from a sequence.
package struct JetStreamPullConsumer: Sendable, Equatable {
    /// The stream read.
    package var stream: String
    /// The consumer's server-given name.
    package var name: String
    /// Messages not yet delivered when it was created.
    package var pendingAtCreation: UInt64
}

extension JetStream {
    /// The most messages one `fetch` asks for.
    package static let fetchBatchMax = 4_096

    /// Creates an ephemeral pull consumer on `stream` starting at `startSequence` (≥ 1), without
    /// acknowledgements, removed by the server after `inactiveSeconds` without a fetch.
    /// - Parameters:
    ///   - filterSubject: only messages on this subject (wildcards allowed), or all.
    ///   - lastPerSubject: deliver only each subject's last message (for listing key-value keys).
    ///   - headersOnly: deliver headers without payloads.
    package func createPullConsumer(stream: String, startSequence: UInt64 = 1, filterSubject: String? = nil, lastPerSubject: Bool = false,
                                   headersOnly: Bool = false, inactiveSeconds: Double = 30) async throws(JetStreamError) -> JetStreamPullConsumer {
        try Self.validate(name: stream)
        guard startSequence >= 1 else { throw .invalidArgument("startSequence must be ≥ 1") }
        var configuration: [(String, JSONValue)] = lastPerSubject
            ? [("deliver_policy", .string("last_per_subject"))]
            : [("deliver_policy", .string("by_start_sequence")), ("opt_start_seq", .integer(startSequence))]
        configuration += [("ack_policy", .string("none")), ("replay_policy", .string("instant")),
                          ("inactive_threshold", .integer(Int64(inactiveSeconds * 1e9))), ("max_waiting", .integer(16)),
                          ("headers_only", .bool(headersOnly)), ("mem_storage", .bool(true)), ("num_replicas", .integer(1))]
        if let filterSubject { configuration.append(("filter_subject", .string(filterSubject))) }
        let value = try await apiRequest("CONSUMER.CREATE." + stream, .object([("stream_name", .string(stream)), ("config", .object(configuration))]))
        guard let name = value["name"]?.stringValue else { throw .malformedResponse(subject: "CONSUMER.CREATE", detail: "no name") }
        return JetStreamPullConsumer(stream: stream, name: name, pendingAtCreation: UInt64(max(0, value["num_pending"]?.int64Value ?? 0)))
    }

    /// Fetches up to `batch` (1...`fetchBatchMax`) messages in stream order. With `noWait` it returns at
    /// once with what is stored; otherwise the server waits up to `expiresSeconds` for the batch to fill.
    /// - Throws: `invalidArgument` for a batch out of bounds; `transport`; `api` for a status other than
    ///   404/408 (no messages, expired), such as 409 when the consumer is gone.
    package func fetch(_ consumer: JetStreamPullConsumer, batch: Int, noWait: Bool = false, expiresSeconds: Double = 1) async throws(JetStreamError) -> [JetStreamMessage] {
        guard (1...Self.fetchBatchMax).contains(batch) else { throw .invalidArgument("batch must be 1...\(Self.fetchBatchMax)") }
        let inbox = connection.newInbox()
        let subject = Self.apiPrefix + "CONSUMER.MSG.NEXT." + consumer.stream + "." + consumer.name
        let subscription: NATSSubscription
        do {
            subscription = try connection.subscribe(inbox, messagesMax: batch + 16)
            try connection.publish(subject, payload: JSONValue.object([("batch", .integer(batch)), ("expires", .integer(Int64(expiresSeconds * 1e9))),
                                                                       ("no_wait", .bool(noWait))]).encoded(),
                                   replyTo: inbox)
        } catch {
            throw .transport(error)
        }
        defer { subscription.unsubscribe() }
        var messages: [JetStreamMessage] = []
        while messages.count < batch {
            let next: NATSMessage?
            do {
                next = try await subscription.next(timeoutSeconds: expiresSeconds + timeoutSeconds)
            } catch {
                throw .transport(error)
            }
            guard let message = next else { break }
            if let status = message.statusCode {
                if status == 100 { continue }
                if status == 404 || status == 408 { break }
                throw .api(subject: subject, code: status, errorCode: 0, description: message.headers?.statusDescription ?? "")
            }
            guard let reply = message.replyTo, let sequence = Self.streamSequence(ackSubject: reply) else {
                throw .malformedResponse(subject: subject, detail: "a message without a $JS.ACK reply subject")
            }
            messages.append(JetStreamMessage(subject: message.subject, sequence: sequence, headers: message.headers, payload: message.payload))
        }
        return messages
    }

    /// Fetches at once (no wait) up to `batchMax` of the `pendingCount` messages that wait for `consumer` from
    /// `fromSequence` on. None back there is a stream that cannot serve them yet (as while leaders are elected),
    /// never the end: a caller that took it as the end would take itself as up to date, or a list as complete.
    /// - Parameters:
    ///   - pendingCount: how many messages the caller knows wait there (the consumer's count, or a known head);
    ///     0 answers `[]` without a call.
    ///   - fromSequence: the stream sequence the messages start at (or a lower bound of it), for the error.
    ///   - batchMax: 1...`fetchBatchMax`.
    /// - Throws: what `fetch` throws; `emptyFetch` (transient) when the fetch returned none of `pendingCount` > 0.
    package func fetchPending(_ consumer: JetStreamPullConsumer, pendingCount: UInt64, fromSequence: UInt64,
                              batchMax: Int = fetchBatchMax) async throws(JetStreamError) -> [JetStreamMessage] {
        guard pendingCount > 0 else { return [] }
        let messages = try await fetch(consumer, batch: Int(min(pendingCount, UInt64(max(1, batchMax)))), noWait: true)
        guard !messages.isEmpty else { throw .emptyFetch(stream: consumer.stream, fromSequence: fromSequence, pendingCount: pendingCount) }
        return messages
    }

    /// The stream sequence in a `$JS.ACK` reply subject (v1: 9 tokens; v2: 11 or 12 with domain and account).
    static func streamSequence(ackSubject: String) -> UInt64? {
        let tokens = ackSubject.split(separator: ".", omittingEmptySubsequences: false)
        guard tokens.count >= 9, tokens[0] == "$JS", tokens[1] == "ACK" else { return nil }
        let index = tokens.count == 9 ? 5 : 7
        // Stream sequences start at 1: a 0 from the server is malformed (an offset is sequence - 1).
        guard let sequence = UInt64(tokens[index]), sequence > 0 else { return nil }
        return sequence
    }
}

extension JetStream {
    /// Deletes a consumer (ephemeral ones also go by themselves after their inactivity threshold).
    package func deleteConsumer(_ consumer: JetStreamPullConsumer) async throws(JetStreamError) {
        _ = try await apiRequest("CONSUMER.DELETE." + consumer.stream + "." + consumer.name, nil)
    }

    /// Runs `body` with `consumer`, then deletes the consumer on every exit path (a failed delete is left to the
    /// server's inactivity threshold); returns what `body` returned or throws what it threw.
    package func withConsumer<Value>(_ consumer: JetStreamPullConsumer,
                                     _ body: (JetStreamPullConsumer) async throws(JetStreamError) -> Value) async throws(JetStreamError) -> Value {
        let result: Result<Value, JetStreamError>
        do {
            result = .success(try await body(consumer))
        } catch {
            result = .failure(error)
        }
        try? await deleteConsumer(consumer)
        return try result.get()
    }
}
