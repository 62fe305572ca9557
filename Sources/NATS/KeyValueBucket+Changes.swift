extension KeyValueBucket {
    /// The bucket's entries written after `revision` (the latest of each key that still holds one, delete
    /// markers included), in revision order, at most `countMax`. Read through an ephemeral consumer that
    /// starts at `revision + 1`: a key written twice since shows once, with its latest value.
    /// - Parameter countMax: 1...`JetStream.fetchBatchMax`.
    /// - Throws: `invalidArgument` for `countMax` out of bounds; what `createPullConsumer` and `fetch` throw;
    ///   `emptyFetch` (transient) when the fetch returns nothing although the consumer counted changes
    ///   pending: an empty answer there is a stream that cannot serve them yet, never "no changes".
    package func changes(after revision: UInt64, countMax: Int = 1_024) async throws(JetStreamError) -> [KeyValueEntry] {
        guard (1...JetStream.fetchBatchMax).contains(countMax) else { throw .invalidArgument("countMax must be 1...\(JetStream.fetchBatchMax)") }
        let consumer = try await jetStream.createPullConsumer(stream: streamName, startSequence: revision + 1, inactiveSeconds: 10)
        // The consumer counted changes from `revision + 1` on: none back is a stream that could not serve them
        // yet, not the end (the caller would take itself as up to date).
        let messages = try await jetStream.withConsumer(consumer) { consumer async throws(JetStreamError) -> [JetStreamMessage] in
            try await jetStream.fetchPending(consumer, pendingCount: consumer.pendingAtCreation, fromSequence: revision + 1, batchMax: countMax)
        }
        let prefix = "$KV.\(name)."
        return messages.compactMap { message in
            guard message.subject.hasPrefix(prefix) else { return nil }
            let operation = message.headers?[Self.operationHeader]
            return KeyValueEntry(key: String(message.subject.dropFirst(prefix.count)), value: message.payload, revision: message.sequence,
                                 isDeleted: operation == "DEL" || operation == "PURGE")
        }
    }

    /// Applies every change after `revision()` in order, a batch at a time, until none is left;
    /// returns how many. `apply` must advance what `revision()` answers to the change's revision.
    /// - Throws: what `changes(after:)` throws, or `apply`'s error (the change is read again next time).
    package func applyChanges(after revision: () -> UInt64, _ apply: (KeyValueEntry) throws -> Void) async throws -> Int {
        var total = 0
        while true {
            let batch = try await changes(after: revision())
            if batch.isEmpty { return total }
            for change in batch { try apply(change) }
            total += batch.count
        }
    }
}
