import JSON

/// The settings of a stream as `$JS.API.STREAM.CREATE` takes them (the subset this project uses).
public struct JetStreamStreamConfiguration: Sendable, Equatable {
    /// The stream name (`[-_A-Za-z0-9]`).
    public var name: String
    /// The subjects it stores.
    public var subjects: [String]
    /// `file` (survives restarts) or `memory`.
    public var storage: String = "file"
    /// Copies kept by the cluster (1...5; quorum acknowledges a publish).
    public var replicas: Int = 1
    /// `old` (drop oldest at a limit) or `new` (refuse new messages at a limit).
    public var discard: String = "old"
    /// The window within which a repeated `Nats-Msg-Id` is recognised as a duplicate, in seconds.
    public var duplicateWindowSeconds: Double = 120
    /// The most messages kept per subject (-1: unlimited; key-value buckets keep their history here).
    public var messagesPerSubjectMax: Int = -1
    /// The largest message, in bytes (-1: the server's limit).
    public var messageBytesMax: Int = -1
    /// Refuse deleting messages through the API.
    public var denyDelete = false
    /// Refuse purging the stream.
    public var denyPurge = false
    /// Allow `Nats-Rollup` headers (key-value deletes that purge).
    public var allowRollup = false
    /// Allow direct gets (`$JS.API.DIRECT.GET`), answered by any replica.
    public var allowDirect = false

    public init(name: String, subjects: [String]) {
        self.name = name
        self.subjects = subjects
    }

    /// The request body.
    public var json: JSONValue {
        .object([
            ("name", .string(name)),
            ("subjects", .array(subjects.map { .string($0) })),
            ("retention", .string("limits")),
            ("storage", .string(storage)),
            ("num_replicas", .integer(replicas)),
            ("discard", .string(discard)),
            ("duplicate_window", .integer(Int64(duplicateWindowSeconds * 1e9))),
            ("max_msgs_per_subject", .integer(messagesPerSubjectMax)),
            ("max_msg_size", .integer(messageBytesMax)),
            ("deny_delete", .bool(denyDelete)),
            ("deny_purge", .bool(denyPurge)),
            ("allow_rollup_hdrs", .bool(allowRollup)),
            ("allow_direct", .bool(allowDirect)),
        ])
    }
}

/// What `$JS.API.STREAM.INFO` says of a stream's contents.
public struct JetStreamStreamState: Sendable, Equatable {
    /// Messages stored.
    public var messages: UInt64
    /// The first stored sequence (1 on an empty new stream... and last + 1 once messages were removed).
    public var firstSequence: UInt64
    /// The last sequence assigned (0 when nothing was ever stored).
    public var lastSequence: UInt64
    /// Replicas configured.
    public var replicas: Int
}
