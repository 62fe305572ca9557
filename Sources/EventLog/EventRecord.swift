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

    /// The record of `event` as stored at `offset` at `timestampMs` (the log's time, which stands for
    /// `event.timestampMs`), with the chain value `chainHash` after it (32 bytes; empty where no chain is kept).
    public init(_ event: NewEvent, offset: UInt64, timestampMs: Int64, chainHash: [UInt8]) {
        self.offset = offset
        self.timestampMs = timestampMs
        organizationID = event.organizationID
        type = event.type
        eventID = event.eventID
        data = event.data
        self.chainHash = chainHash
    }
}
