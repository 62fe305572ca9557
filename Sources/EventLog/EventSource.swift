/// Where every reader of the service gets events: delivery (the shared scan and each webhook's
/// catch-up), replays, `start` positions and `GET /v1/events`. The local log alone is one (`EventLog`);
/// the compliance archive followed by the local log is another (`ArchivedEventSource` in Archive), so
/// offsets that retention removed locally are read back from cold storage.
///
/// Reads are strict: they return the events at exactly the offsets asked for, densely, or throw. A
/// source never skips ahead past offsets it cannot read (no silent gap).
public protocol EventSource: Sendable {
    /// Offset the next appended event will get; events below it are durable.
    var nextOffset: UInt64 { get }

    /// Up to `countMax` events from `offset` on, in offset order and dense (the first has offset
    /// `offset`); empty when `offset` is at or beyond `nextOffset`. Fewer than `countMax` is not the end:
    /// a call may stop at a segment boundary; call again from the offset after the last one.
    /// - Parameter countMax: at least 1.
    /// - Throws: `.archiveUnavailable` when the archive holds the events but cannot be read now (retry
    ///   later); `.eventsUnavailable` when no store holds `offset` any more; `.log` for local damage.
    func read(from offset: UInt64, countMax: Int) async throws(EventSourceError) -> [EventRecord]

    /// The offset of the first event appended at or after `timestampMs` (ms since 1970), or
    /// `nextOffset` when there is none.
    /// - Throws: as `read(from:countMax:)`.
    func firstOffset(atOrAfterTimeMs timestampMs: Int64) async throws(EventSourceError) -> UInt64
}
