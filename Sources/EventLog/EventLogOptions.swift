import SystemIO
import JSON

/// When appended bytes are made durable.
public enum FsyncPolicy: Sendable, Equatable {
    /// `append` returns after an `fdatasync` that covers the event (group commit). The default.
    case always
    /// `append` returns after the write; the writer syncs every `milliseconds`, and before more than
    /// `EventLogLimits.groupSizeBytesMax` (4 MiB) would be unsynced.
    case interval(milliseconds: Int)
    /// `append` returns after the write; the writer syncs only before more than
    /// `EventLogLimits.groupSizeBytesMax` (4 MiB) would be unsynced, when sealing a segment and on close.
    /// Survives a process crash; a power loss can lose up to the last 4 MiB of appends.
    case none

    /// Parses `always`, `none`, `interval` (100 ms) or `interval:MS`.
    public init?(_ text: String) {
        switch text {
        case "always": self = .always
        case "none": self = .none
        case "interval": self = .interval(milliseconds: 100)
        default:
            guard text.hasPrefix("interval:"), let value = Int(text.dropFirst(9)), (1...60_000).contains(value)
            else { return nil }
            self = .interval(milliseconds: value)
        }
    }
}

/// Tunables of one log.
public struct EventLogOptions: Sendable {
    /// A segment is sealed and a new one started once it reaches this size, in bytes (default 64 MiB).
    /// A segment can exceed it by at most one group commit.
    public var segmentSizeBytesMax: Int = 64 << 20
    /// A non-empty segment older than this is sealed at the next append, in seconds (default 7 days).
    package var segmentAgeSecondsMax: Double = 7 * 86_400
    /// Durability of `append`.
    public var fsyncPolicy: FsyncPolicy = .always
    /// Zero-filled space the writer keeps ahead of the active segment's last record, in bytes (default
    /// 1 MiB, at most an eighth of `segmentSizeBytesMax`; 0: none). An append inside it overwrites zeros without changing the file's size, so its
    /// `fdatasync` writes data only, not the inode as well (half the wait and about half the kernel
    /// CPU per group commit on ext4). The space is extended with the group that reaches its end and
    /// cut when the segment is sealed or the log is closed; after a crash recovery drops it.
    package var preallocationSizeBytes: Int = 1 << 20
    /// Bytes of records between sparse index entries (default 4 KiB).
    package var indexIntervalBytes: Int = 4096
    /// How long the idle writer sleeps before it looks at its queue by itself, in seconds (default 0.05,
    /// so an idle log's writer wakes 20 times a second): the bound on how long an append queued with
    /// `deferringWake` waits when no `EventLog.wakeWriterIfDeferred()` follows, in every state of the
    /// writer (idle, waiting for an interval sync, waiting to probe after a failure). Tests set it long
    /// to see the deferred groups whole.
    package var writerIdleWaitSecondsMax = 0.05
    /// How many leaf hashes of the latest appends the writer keeps for Merkle tile upkeep
    /// (`EventLog.recentLeafHashes`); 0 (the default) computes none. `serve` keeps 262,144 (8 MiB).
    public var recentLeafHashCountMax = 0
    /// Called on the writer thread after a segment is sealed (its footer durable), with the offset
    /// after its last event: `serve` signs a checkpoint for every sealed segment.
    public var onSeal: @Sendable (UInt64) -> Void = { _ in }
    /// Receives noteworthy writer and recovery actions (such as a truncated torn tail).
    public var logger = Logger.discarding
    /// Called once, on the writer thread, when the writer stops for good (a failed `fdatasync`),
    /// with the reason. `serve` exits so that its supervisor starts it again.
    public var onStopped: @Sendable (String) -> Void = { _ in }
    /// For fault tests only: asked before each `fdatasync` of the active segment; an error it returns is
    /// thrown instead of syncing (no disk here fails `fdatasync` on demand).
    package var dataSyncFault: (@Sendable () -> SystemError?)? = nil
    /// For fault tests only: asked before the writer's `pwrite` of each piece of a group and before each step
    /// of a cut of unacknowledged bytes; an error it returns is thrown instead (no disk fails them on demand).
    package var writerFault: (@Sendable (WriterFaultPoint) -> SystemError?)? = nil

    /// Where `writerFault` is asked.
    package enum WriterFaultPoint: Sendable, Equatable {
        /// The `pwrite` of a piece of a group.
        case pieceWrite
        /// The `ftruncate` that cuts the bytes of a group answered with an error.
        case cutTruncate
        /// The `fsync` that makes that cut durable.
        case cutSynchronize
    }

    public init() {}
}
