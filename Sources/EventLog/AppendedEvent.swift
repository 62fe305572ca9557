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
