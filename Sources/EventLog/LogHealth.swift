import SystemIO

/// Whether a log accepts appends now.
public enum LogHealth: Sendable, Equatable {
    /// Appends are accepted.
    case accepting
    /// The last append or segment roll failed (a full disk, no file descriptors, another write
    /// error): appends are answered with that error until a later group succeeds. The writer tries
    /// again by itself (at the next group, and every second while idle). `cause` is the failed system
    /// call when there was one (ENOSPC and EDQUOT mean a full disk).
    case failing(reason: String, cause: SystemError?)
    /// An `fdatasync` failed: the writer stopped for good; reopen the log (restart the server).
    case stopped(reason: String)
}
