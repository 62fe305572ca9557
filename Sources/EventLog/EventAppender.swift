/// Where the service appends events: the local log (`EventLog`, the default) or a shared engine
/// (`JetStreamEventLog`). Together with `EventSource` (reads) it is the log's seam.
public protocol EventAppender: Sendable {
    /// Appends `events` in order and returns once they are durable (under the engine's own policy),
    /// with the offsets and times they were given.
    /// - Throws: the engine's error (nothing acknowledged; a retry of the same event ids is safe where
    ///   the engine deduplicates).
    func append(batch events: [NewEvent]) async throws -> [AppendedEvent]
}

extension EventLog: EventAppender {}

/// The committed offsets of named consumers (one per webhook): the local `CursorStore` (the default)
/// or a shared engine's (`JetStreamCursors`). The cursors' seam.
public protocol CursorBook: Sendable {
    /// The committed offset of `name`, or nil for an unknown consumer.
    func committedOffset(of name: String) async throws -> UInt64?
    /// Commits `offset` for `name` (forward, or back for a replay) and returns once it is durable.
    func commit(_ name: String, offset: UInt64) async throws
    /// Forgets `name`.
    func remove(_ name: String) async throws
}

extension CursorStore: CursorBook {
    public func committedOffset(of name: String) async throws -> UInt64? { offset(of: name) }
}
