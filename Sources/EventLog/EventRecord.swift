/// One event as stored in the log.
public struct EventRecord: Sendable, Equatable {
    /// Position in the log, dense from 0, never reused.
    public var offset: UInt64
    /// When the writer appended it, in milliseconds since 1970 (non-decreasing along the log).
    public var timestampMs: Int64
    /// The organization that owns the event.
    public var organizationID: String
    /// `category.action`.
    public var type: String
    /// The producer-visible id, such as `evt_01J...`.
    public var eventID: String
    /// The event's `data` as JSON bytes.
    public var data: [UInt8]
    /// SHA-256 chain value after this record (32 bytes).
    public var chainHash: [UInt8]

    public init(offset: UInt64, timestampMs: Int64, organizationID: String, type: String, eventID: String,
                data: [UInt8], chainHash: [UInt8]) {
        self.offset = offset
        self.timestampMs = timestampMs
        self.organizationID = organizationID
        self.type = type
        self.eventID = eventID
        self.data = data
        self.chainHash = chainHash
    }
}

/// An event handed to `EventLog.append`: the writer assigns offset, time and chain.
public struct NewEvent: Sendable, Equatable {
    /// The organization that owns the event.
    public var organizationID: String
    /// `category.action`.
    public var type: String
    /// The producer-visible id, such as `evt_01J...`.
    public var eventID: String
    /// JSON bytes; the log does not parse them.
    public var data: [UInt8]
    /// The time to record (ms since 1970) for an event copied from another log (the engine's stream,
    /// so every copy holds the same envelope); nil: the writer's clock, never earlier than the last record.
    public var timestampMs: Int64?

    public init(organizationID: String, type: String, eventID: String, data: [UInt8], timestampMs: Int64? = nil) {
        self.organizationID = organizationID
        self.type = type
        self.eventID = eventID
        self.data = data
        self.timestampMs = timestampMs
    }
}

/// What `append` returns once the event is durable (under the fsync policy in force).
public struct AppendedEvent: Sendable, Equatable {
    /// The event's position in the log.
    public var offset: UInt64
    /// The time the log recorded for it, in milliseconds since 1970.
    public var timestampMs: Int64
    /// The producer-visible id, as given in the `NewEvent`.
    public var eventID: String

    /// The receipt for `event`, stored at `offset` at `timestampMs`: made by the log's writer, and by the
    /// engine's stream when it appends (a sibling target).
    package init(_ event: NewEvent, offset: UInt64, timestampMs: Int64) {
        self.offset = offset
        self.timestampMs = timestampMs
        eventID = event.eventID
    }
}
