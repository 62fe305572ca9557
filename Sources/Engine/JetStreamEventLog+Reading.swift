import EventLog
import NATS

extension JetStreamEventLog {
    /// Up to `countMax` (at most `readCountMax`) events from `offset` on, dense, through an ephemeral
    /// pull consumer. An offset at or past the known head refreshes the head first.
    /// - Throws: `engineUnavailable` when JetStream cannot answer (also when it answers no events where its head
    ///   says there are some); `eventsUnavailable` for a gap (the
    ///   stream denies deletes, so only a stream replaced by hand has one).
    package func read(from offset: UInt64, countMax: Int) async throws(EventSourceError) -> [EventRecord] {
        var known = nextOffset
        if offset >= known {
            do {
                known = try await refreshHead()
            } catch {
                throw .engineUnavailable(offset: offset, reason: error.description)
            }
            if offset >= known { return [] }
        }
        let messages: [JetStreamMessage]
        do {
            let consumer = try await jetStream.createPullConsumer(stream: Self.streamName, startSequence: offset + 1, inactiveSeconds: 10)
            // The head says events exist from `offset` on: an empty answer is a consumer that could not serve them
            // yet (right after a node's death, while leaders are elected), never the end of the stream.
            messages = try await jetStream.withConsumer(consumer) { consumer async throws(JetStreamError) -> [JetStreamMessage] in
                try await jetStream.fetchPending(consumer, pendingCount: known - offset, fromSequence: offset + 1,
                                                 batchMax: max(1, min(countMax, Self.readCountMax)))
            }
        } catch {
            throw .engineUnavailable(offset: offset, reason: error.description)
        }
        var records: [EventRecord] = []
        for message in messages {
            let expected = offset + UInt64(records.count)
            guard message.sequence - 1 == expected else {
                if records.isEmpty { throw .eventsUnavailable(offset: offset, earliestAvailableOffset: message.sequence - 1) }
                break
            }
            guard let record = Self.record(message) else {
                throw .engineUnavailable(offset: expected, reason: "stream message \(message.sequence) is not an event this service wrote")
            }
            records.append(record)
        }
        return records
    }

    /// The offset of the first event whose timestamp is at or after `timestampMs` (a binary search over
    /// sequences, one direct read per step; assumes timestamps non-decreasing along the stream).
    package func firstOffset(atOrAfterTimeMs timestampMs: Int64) async throws(EventSourceError) -> UInt64 {
        let state: JetStreamStreamState
        do {
            state = try await jetStream.streamInfo(Self.streamName)
        } catch {
            throw .engineUnavailable(offset: nextOffset, reason: error.description)
        }
        guard state.lastSequence >= state.firstSequence, state.lastSequence > 0 else { return state.lastSequence }
        var low = state.firstSequence, high = state.lastSequence + 1
        while low < high {
            let middle = low + (high - low) / 2
            let message: JetStreamMessage?
            do {
                message = try await jetStream.message(stream: Self.streamName, sequence: middle)
            } catch {
                throw .engineUnavailable(offset: middle - 1, reason: error.description)
            }
            guard let message, let record = Self.record(message) else {
                throw .engineUnavailable(offset: middle - 1, reason: "stream message \(middle) is missing or not an event")
            }
            if record.timestampMs >= timestampMs { high = middle } else { low = middle + 1 }
        }
        return low - 1
    }
}
