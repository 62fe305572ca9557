import Synchronization

/// When `serve` signs checkpoints (a pure value; `ArgusServer` runs it): for every segment seal, at
/// the sealed size, and otherwise for the durable size at most every `intervalMs` while the log grows.
///
/// At most `pendingSealCountMax` seals wait; beyond that the oldest waiting ones are dropped (a later
/// checkpoint covers them, and every checkpoint is of a prefix of one log, so all are consistent).
package struct CheckpointSchedule: Sendable, Equatable {
    /// Most seals waiting to be signed.
    package static let pendingSealCountMax = 1024

    /// Minimum time between two checkpoints signed because the log grew, in milliseconds.
    package let intervalMs: Int64
    /// The largest size signed so far.
    public private(set) var signedSize: UInt64
    /// When the last growth checkpoint was signed, in ms since 1970 (nil: never).
    public private(set) var lastSignedMs: Int64?
    /// Sealed sizes not signed yet, ascending.
    public private(set) var pendingSeals: [UInt64] = []

    public init(intervalMs: Int64, signedSize: UInt64 = 0) {
        self.intervalMs = intervalMs
        self.signedSize = signedSize
    }

    /// A segment was sealed; `size` is the offset after its last event.
    package mutating func noteSeal(size: UInt64) {
        guard size > signedSize, !pendingSeals.contains(size) else { return }
        pendingSeals.append(size)
        pendingSeals.sort()
        if pendingSeals.count > Self.pendingSealCountMax { pendingSeals.removeFirst(pendingSeals.count - Self.pendingSealCountMax) }
    }

    /// The sizes to sign now, ascending: every pending seal, then `logSize` when the log grew past all
    /// of them and the interval has passed.
    public func due(logSize: UInt64, nowMs: Int64) -> [UInt64] {
        var sizes = pendingSeals.filter { $0 <= logSize }
        let covered = max(signedSize, sizes.last ?? 0)
        if logSize > covered, lastSignedMs.map({ nowMs - $0 >= intervalMs }) ?? true { sizes.append(logSize) }
        return sizes
    }

    /// `size` was signed at `nowMs`; `bySeal` says whether it was a seal (those do not restart the interval).
    public mutating func signed(size: UInt64, nowMs: Int64, bySeal: Bool) {
        signedSize = max(signedSize, size)
        pendingSeals.removeAll { $0 <= size }
        if !bySeal { lastSignedMs = nowMs }
    }
}

extension CheckpointSchedule {
    /// A schedule shared by the log writer (which notes seals) and the signing task.
    final class Shared: Sendable {
        private let state: Mutex<CheckpointSchedule>

        init(_ schedule: CheckpointSchedule) { state = Mutex(schedule) }

        func withLock<R>(_ body: (inout CheckpointSchedule) -> R) -> R { state.withLock { body(&$0) } }
    }
}
