/// Every size and count limit of the log store, in one place.
public enum EventLogLimits {
    /// Largest `data` of one event, in bytes (the API allows 256 KiB; the log allows headroom).
    package static let dataSizeBytesMax = 1 << 20
    /// Longest organization id, event type or event id, in UTF-8 bytes.
    package static let nameSizeBytesMax = 256
    /// Largest frame body a reader accepts; anything larger is corruption.
    package static let frameBodySizeBytesMax = dataSizeBytesMax + 3 * nameSizeBytesMax + RecordFrame.eventFixedSizeBytes
    /// Most events in one batch append.
    package static let batchCountMax = 10_000
    /// Most bytes the writer has written and not yet synced, under every fsync policy: a larger group is
    /// written in pieces of at most this, cut between frames (a frame is smaller), and each piece is synced
    /// (`always`), or the writer syncs before a piece would leave more than this unsynced (`interval`, `none`).
    /// Recovery relies on it: a power cut can leave unwritten sectors only in the last this-many bytes,
    /// so a bad frame with data further on is damage, not a torn tail (`Recovery.isTornTail`).
    package static let groupSizeBytesMax = 4 << 20
    /// Most appends waiting for the writer; beyond this `append` fails with `.overloaded`.
    package static let pendingAppendCountMax = 100_000
    /// Bytes read per `pread` by scanners.
    package static let readChunkSizeBytes = 256 * 1024
    /// Smallest allowed segment roll size, in bytes.
    public static let segmentSizeBytesMin = 4096
    /// Most positioned readers an `EventSource` keeps open between reads (each holds a descriptor and
    /// up to `readChunkSizeBytes` of buffer); the least recently used are closed first.
    public static let pooledReaderCountMax = 32
    /// Most append observers of one log (`EventLog.addAppendObserver`): each runs on the writer thread
    /// after every durable group, so they are few (the dispatcher, a mirror), never one per request.
    public static let appendObserverCountMax = 16
}
