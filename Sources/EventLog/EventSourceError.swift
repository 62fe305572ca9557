/// Why an `EventSource` could not return the events asked for. Each case names the offset it is about.
public enum EventSourceError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The archive holds `offset` but cannot be read now: the network, credentials, a missing object,
    /// or an archived segment that differs from its manifest entry (then `offset` is the first bad
    /// record). Waiting and retrying may succeed; skipping the offset would be a gap.
    case archiveUnavailable(offset: UInt64, reason: String)
    /// No store holds `offset` any more (local segments deleted with no archive holding them).
    /// `earliestAvailableOffset` is the first offset after it that one does hold (nil: none yet).
    case eventsUnavailable(offset: UInt64, earliestAvailableOffset: UInt64?)
    /// The local log could not be read (damage, I/O).
    case log(EventLogError)
    /// A shared engine (NATS JetStream) could not be reached or answered an error for `offset`: a lost
    /// connection, no stream leader during an election. Retrying later may succeed.
    case engineUnavailable(offset: UInt64, reason: String)

    /// The machine-readable code: `archive_unavailable`, `events_unavailable` or `log_unavailable`.
    public var code: String {
        switch self {
        case .archiveUnavailable: return "archive_unavailable"
        case .eventsUnavailable: return "events_unavailable"
        case .log: return "log_unavailable"
        case .engineUnavailable: return "engine_unavailable"
        }
    }

    /// The offset the failure is about, when there is one.
    public var offset: UInt64? {
        switch self {
        case .archiveUnavailable(let offset, _), .eventsUnavailable(let offset, _), .engineUnavailable(let offset, _): return offset
        case .log: return nil
        }
    }

    public var description: String {
        switch self {
        case .archiveUnavailable(let offset, let reason):
            return "the archive cannot be read at offset \(offset): \(reason)"
        case .eventsUnavailable(let offset, let earliest):
            return "event \(offset) is no longer held by the log or the archive"
                + (earliest.map { "; the earliest available offset after it is \($0)" } ?? "")
        case .log(let error):
            return "the log cannot be read: \(error)"
        case .engineUnavailable(let offset, let reason):
            return "the engine cannot be read at offset \(offset): \(reason)"
        }
    }
}
