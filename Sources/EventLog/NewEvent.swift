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
