import Crypto
import Foundation

/// The running SHA-256 of the active segment, computed on its own thread so hashing written bytes
/// never delays a group commit. `finish()` waits for the bytes submitted so far.
///
/// `@unchecked Sendable`: `hasher`, `queue` and `busy` are guarded by `condition`.
final class SegmentDigester: @unchecked Sendable {
    private let condition = NSCondition()
    private var hasher: SHA256?
    private var queue: [[UInt8]] = []
    private var busy = false
    private var stopped = false

    /// Continues `digest` (nil when the segment's prefix must be hashed from disk at seal time).
    init(resuming digest: SHA256?) {
        hasher = digest
        guard digest != nil else { return }
        let thread = Thread { [self] in run() }
        thread.name = "argus-segment-digest"
        thread.start()
    }

    /// Queues `bytes` (the next bytes written to the segment).
    func submit(_ bytes: [UInt8]) {
        condition.lock()
        if hasher != nil {
            queue.append(bytes)
            condition.signal()
        }
        condition.unlock()
    }

    /// Waits until every submitted byte is hashed, stops the thread and returns the running digest.
    func finish() -> SHA256? {
        condition.lock()
        while !queue.isEmpty || busy { condition.wait() }
        stopped = true
        condition.broadcast()
        let result = hasher
        condition.unlock()
        return result
    }

    private func run() {
        condition.lock()
        while true {
            while queue.isEmpty && !stopped { condition.wait() }
            if stopped { break }
            let work = queue
            queue = []
            busy = true
            var running = hasher
            condition.unlock()
            for bytes in work { running?.update(bytes) }
            condition.lock()
            hasher = running
            busy = false
            condition.broadcast()
        }
        condition.unlock()
    }
}
