import JSON

/// The settings of a stream as `$JS.API.STREAM.CREATE` takes them (the subset this project uses).
package struct JetStreamStreamConfiguration: Sendable, Equatable {
    /// The stream name (`[-_A-Za-z0-9]`).
    package var name: String
    /// The subjects it stores.
    package var subjects: [String]
    /// `file` (survives restarts) or `memory`.
    package var storage: String = "file"
    /// Copies kept by the cluster (1...5; quorum acknowledges a publish).
    package var replicas: Int = 1
    /// `old` (drop oldest at a limit) or `new` (refuse new messages at a limit).
    package var discard: String = "old"
    /// The window within which a repeated `Nats-Msg-Id` is recognised as a duplicate, in seconds.
    package var duplicateWindowSeconds: Double = 120
    /// The most messages kept per subject (-1: unlimited; key-value buckets keep their history here).
    package var messagesPerSubjectMax: Int = -1
    /// The most messages kept in the stream (-1: unlimited); beyond it `discard` applies.
    package var messagesMax: Int = -1
    /// How long a message is kept, in seconds (0: forever). The duplicate window is capped to it.
    package var ageSecondsMax: Double = 0
    /// The largest message, in bytes (-1: the server's limit).
    package var messageBytesMax: Int = -1
    /// Refuse deleting messages through the API.
    package var denyDelete = false
    /// Refuse purging the stream.
    package var denyPurge = false
    /// Allow `Nats-Rollup` headers (key-value deletes that purge).
    package var allowRollup = false
    /// Allow direct gets (`$JS.API.DIRECT.GET`), answered by any replica.
    package var allowDirect = false

    package init(name: String, subjects: [String]) {
        self.name = name
        self.subjects = subjects
    }

    /// The request body.
    package var json: JSONValue {
        .object([
            ("name", .string(name)),
            ("subjects", .array(subjects.map { .string($0) })),
            ("retention", .string("limits")),
            ("storage", .string(storage)),
            ("num_replicas", .integer(replicas)),
            ("discard", .string(discard)),
            ("duplicate_window", .integer(Int64((ageSecondsMax > 0 ? min(duplicateWindowSeconds, ageSecondsMax) : duplicateWindowSeconds) * 1e9))),
            ("max_msgs_per_subject", .integer(messagesPerSubjectMax)),
            ("max_msgs", .integer(messagesMax)),
            ("max_age", .integer(Int64(ageSecondsMax * 1e9))),
            ("max_msg_size", .integer(messageBytesMax)),
            ("deny_delete", .bool(denyDelete)),
            ("deny_purge", .bool(denyPurge)),
            ("allow_rollup_hdrs", .bool(allowRollup)),
            ("allow_direct", .bool(allowDirect)),
        ])
    }
}

/// What `$JS.API.STREAM.INFO` says of a stream's contents.
package struct JetStreamStreamState: Sendable, Equatable {
    /// Messages stored.
    package var messages: UInt64
    /// The first stored sequence (1 on an empty new stream... and last + 1 once messages were removed).
    package var firstSequence: UInt64
    /// The last sequence assigned (0 when nothing was ever stored).
    package var lastSequence: UInt64
    /// Replicas configured.
    package var replicas: Int
    /// The configured most messages (-1: unlimited).
    package var messagesMax: Int = -1
    /// The configured message age limit, in seconds (0: none).
    package var ageSecondsMax: Double = 0
}
