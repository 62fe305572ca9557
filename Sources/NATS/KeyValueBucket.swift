import JSON

/// One entry of a key-value bucket.
package struct KeyValueEntry: Sendable, Equatable {
    /// The key.
    package var key: String
    /// The value (empty for a delete marker).
    package var value: [UInt8]
    /// The revision: the stream sequence of the write that made this entry.
    package var revision: UInt64
    /// True when this entry is a delete (or purge) marker.
    package var isDeleted: Bool
}

/// A JetStream key-value bucket: the stream `KV_<bucket>` on subjects `$KV.<bucket>.<key>`, as the NATS
/// tools and other clients lay it out (so `nats kv` reads what this writes). A write's revision is its
/// stream sequence; compare-and-set uses `Nats-Expected-Last-Subject-Sequence`.
package struct KeyValueBucket: Sendable {
    /// The JetStream API used.
    package let jetStream: JetStream
    /// The bucket name.
    package let name: String

    /// The bounds of a bucket (the default: none).
    package struct Limits: Sendable, Equatable {
        /// The most entries kept, delete markers included (-1: unlimited).
        package var entriesMax: Int
        /// How long an entry is kept, in seconds (0: forever).
        package var ageSecondsMax: Double
        /// The largest value, in bytes (-1: the server's limit).
        package var valueBytesMax: Int
        /// At `entriesMax`: true drops the oldest entry, false refuses the write.
        package var dropsOldest: Bool

        package init(entriesMax: Int = -1, ageSecondsMax: Double = 0, valueBytesMax: Int = -1, dropsOldest: Bool = false) {
            self.entriesMax = entriesMax
            self.ageSecondsMax = ageSecondsMax
            self.valueBytesMax = valueBytesMax
            self.dropsOldest = dropsOldest
        }
    }

    /// The operation header of delete markers.
    static let operationHeader = "KV-Operation"

    /// The stream that holds bucket `name`.
    package var streamName: String { "KV_" + name }

    /// Creates the bucket, or opens it when it exists.
    /// - Parameters:
    ///   - history: revisions kept per key (1...64).
    ///   - replicas: copies in the cluster (1...5).
    ///   - limits: how many entries (delete markers included) and for how long the bucket keeps them,
    ///     and what happens at the count (`dropsOldest`: the oldest entry goes; else a write is refused).
    ///     A bucket that exists keeps the limits it was created with.
    /// - Throws: `invalidName`, `invalidArgument`, and what `createStream` throws.
    package static func create(_ name: String, in jetStream: JetStream, history: Int = 1, replicas: Int = 1,
                               limits: Limits = Limits()) async throws(JetStreamError) -> KeyValueBucket {
        try JetStream.validate(name: name)
        guard (1...64).contains(history) else { throw .invalidArgument("history must be 1...64") }
        guard (1...5).contains(replicas) else { throw .invalidArgument("replicas must be 1...5") }
        guard limits.entriesMax == -1 || limits.entriesMax > 0, limits.ageSecondsMax >= 0, limits.valueBytesMax == -1 || limits.valueBytesMax > 0 else {
            throw .invalidArgument("bucket limits must be positive (-1 or 0: none)")
        }
        var configuration = JetStreamStreamConfiguration(name: "KV_" + name, subjects: ["$KV.\(name).>"])
        configuration.messagesPerSubjectMax = history
        configuration.discard = limits.dropsOldest ? "old" : "new"
        configuration.messagesMax = limits.entriesMax
        configuration.ageSecondsMax = limits.ageSecondsMax
        configuration.messageBytesMax = limits.valueBytesMax
        configuration.denyDelete = true
        configuration.allowRollup = true
        configuration.allowDirect = true
        configuration.replicas = replicas
        _ = try await jetStream.createStream(configuration)
        return KeyValueBucket(jetStream: jetStream, name: name)
    }

    /// Opens an existing bucket (no call is made; a missing bucket shows at the first read).
    package init(jetStream: JetStream, name: String) {
        self.jetStream = jetStream
        self.name = name
    }

    /// Refuses keys NATS key-value refuses: empty, over 1024 bytes, outside `[-/_=.A-Za-z0-9]`, or
    /// with a leading, trailing or double dot.
    package static func validate(key: String) throws(JetStreamError) {
        let bytes = Array(key.utf8)
        guard !bytes.isEmpty, bytes.count <= 1_024, bytes.first != 46, bytes.last != 46,
              bytes.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || [45, 47, 95, 61, 46].contains($0) }),
              !zip(bytes, bytes.dropFirst()).contains(where: { $0 == 46 && $1 == 46 }) else {
            throw .invalidName(key)
        }
    }

    private func subject(_ key: String) throws(JetStreamError) -> String {
        try Self.validate(key: key)
        return "$KV.\(name).\(key)"
    }

    /// The key's latest entry, delete markers included (nil when the key was never written).
    package func entry(_ key: String) async throws(JetStreamError) -> KeyValueEntry? {
        guard let message = try await jetStream.lastMessage(stream: streamName, subject: try subject(key)) else { return nil }
        let operation = message.headers?[Self.operationHeader]
        return KeyValueEntry(key: key, value: message.payload, revision: message.sequence, isDeleted: operation == "DEL" || operation == "PURGE")
    }

    /// The key's live entry, or nil when it is absent or deleted.
    package func get(_ key: String) async throws(JetStreamError) -> KeyValueEntry? {
        guard let entry = try await entry(key), !entry.isDeleted else { return nil }
        return entry
    }

    /// Writes `value` whatever the key holds. Returns the new revision.
    @discardableResult
    package func put(_ key: String, _ value: [UInt8]) async throws(JetStreamError) -> UInt64 {
        try await jetStream.publish(try subject(key), payload: value).sequence
    }

    /// Writes `value` only when the key is absent or deleted. Returns the new revision.
    /// - Throws: `keyExists` with the present revision.
    @discardableResult
    package func create(_ key: String, _ value: [UInt8]) async throws(JetStreamError) -> UInt64 {
        do {
            return try await update(key, value, revision: 0)
        } catch .revisionMismatch {
            guard let current = try await entry(key) else { return try await update(key, value, revision: 0) }
            guard current.isDeleted else { throw .keyExists(key: key, revision: current.revision) }
            do {
                return try await update(key, value, revision: current.revision)
            } catch .revisionMismatch {
                let now = try await entry(key)
                throw .keyExists(key: key, revision: now?.revision ?? 0)
            }
        }
    }

    /// Writes `value` only when the key's latest revision is `revision` (compare-and-set; 0: never
    /// written). Returns the new revision.
    /// - Throws: `revisionMismatch` when another write came first.
    @discardableResult
    package func update(_ key: String, _ value: [UInt8], revision: UInt64) async throws(JetStreamError) -> UInt64 {
        do {
            return try await jetStream.publish(try subject(key), payload: value, expectedLastSubjectSequence: revision).sequence
        } catch .api(_, _, JetStreamError.wrongLastSequenceCode, _) {
            throw .revisionMismatch(key: key, expectedRevision: revision)
        }
    }

    /// Deletes the key (a delete marker; history keeps earlier revisions). With `revision`, only when
    /// the key is at that revision. Returns the marker's revision.
    /// - Throws: `revisionMismatch`.
    @discardableResult
    package func delete(_ key: String, revision: UInt64? = nil) async throws(JetStreamError) -> UInt64 {
        var headers = NATSHeaders()
        headers.append(Self.operationHeader, "DEL")
        do {
            return try await jetStream.publish(try subject(key), payload: [], headers: headers, expectedLastSubjectSequence: revision).sequence
        } catch .api(_, _, JetStreamError.wrongLastSequenceCode, _) {
            throw .revisionMismatch(key: key, expectedRevision: revision ?? 0)
        }
    }

    /// The live keys (at most `keysMax`, in no promised order), read through an ephemeral consumer of
    /// each key's last entry (deleted again on every exit path).
    /// - Throws: `invalidArgument` when the bucket holds more than `keysMax` keys; what `createPullConsumer` and
    ///   `fetch` throw; `emptyFetch` (transient) when a fetch returns nothing although keys are still pending:
    ///   the stream cannot serve them yet, and the list would be incomplete.
    package func keys(keysMax: Int = 100_000) async throws(JetStreamError) -> [String] {
        let consumer = try await jetStream.createPullConsumer(stream: streamName, filterSubject: "$KV.\(name).>", lastPerSubject: true, headersOnly: true)
        return try await jetStream.withConsumer(consumer) { consumer async throws(JetStreamError) -> [String] in
            guard consumer.pendingAtCreation <= UInt64(keysMax) else {
                throw .invalidArgument("bucket \(name) holds \(consumer.pendingAtCreation) keys, more than \(keysMax)")
            }
            let prefix = "$KV.\(name)."
            var keys: [String] = []
            var seen: UInt64 = 0
            // Delivered in stream order: the next pending entry is past the last one seen.
            var nextSequence: UInt64 = 1
            while seen < consumer.pendingAtCreation {
                let batch = try await jetStream.fetchPending(consumer, pendingCount: consumer.pendingAtCreation - seen, fromSequence: nextSequence)
                seen += UInt64(batch.count)
                nextSequence = (batch.last?.sequence ?? nextSequence - 1) + 1
                for message in batch where message.subject.hasPrefix(prefix) {
                    let operation = message.headers?[Self.operationHeader]
                    if operation != "DEL" && operation != "PURGE" { keys.append(String(message.subject.dropFirst(prefix.count))) }
                }
            }
            return keys
        }
    }
}
