import SystemIO

/// Everything the log store can report. Each case names where the problem is.
public enum EventLogError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A system call failed.
    case system(SystemError)
    /// Another process holds the writer lock of this directory.
    case locked(path: String, holderPID: Int32?)
    /// A record that is not at the torn tail of the active segment failed its checks.
    case corruptRecord(segment: String, position: Int64, expectedOffset: UInt64, reason: String)
    /// A segment header or footer failed its checks.
    case corruptSegment(segment: String, reason: String)
    /// An event was refused before anything was written.
    case invalidEvent(reason: String)
    /// The requested offset is not in the log (retention removed it, or it is not written yet).
    case offsetOutOfRange(offset: UInt64, firstOffset: UInt64, nextOffset: UInt64)
    /// The writer stopped after an unrecoverable disk error; reopen the log.
    case writerFailed(reason: String)
    /// The log was closed.
    case closed
    /// The append queue is full; try again later.
    case overloaded(pendingCount: Int)
    /// The log at `directory` already has `countMax` append observers (`EventLogLimits.appendObserverCountMax`).
    case tooManyAppendObservers(directory: String, countMax: Int)

    public var description: String {
        switch self {
        case .system(let error): return error.description
        case .locked(let path, let pid):
            return "the log at \(path) is held by another writer" + (pid.map { " (pid \($0))" } ?? "")
                + "; stop it or use its API"
        case .corruptRecord(let segment, let position, let offset, let reason):
            return "corrupt record at offset \(offset) in segment \(segment) (byte \(position)): \(reason)"
        case .corruptSegment(let segment, let reason): return "corrupt segment \(segment): \(reason)"
        case .invalidEvent(let reason): return "invalid event: \(reason)"
        case .offsetOutOfRange(let offset, let first, let next):
            return "offset \(offset) is outside the log (first \(first), next \(next))"
        case .writerFailed(let reason): return "the log writer stopped: \(reason)"
        case .closed: return "the log is closed"
        case .overloaded(let count): return "the append queue is full (\(count) pending)"
        case .tooManyAppendObservers(let directory, let countMax):
            return "the log at \(directory) already has \(countMax) append observers; remove one first"
        }
    }
}

/// Runs SystemIO calls (only those: they throw `SystemError`), reporting a failure as `EventLogError.system`.
/// The closure is untyped because Swift 6 infers `any Error` for closures that are not annotated.
func systemCall<T>(_ body: () throws -> T) throws(EventLogError) -> T {
    do {
        return try body()
    } catch let error as SystemError {
        throw .system(error)
    } catch {
        preconditionFailure("systemCall wraps SystemIO calls only, got \(error)")
    }
}
