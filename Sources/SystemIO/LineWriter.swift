import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Writes text lines to a file descriptor from a thread of its own, so the threads that log (the
/// HTTP server's I/O thread above all) never wait for a slow pipe, terminal or disk.
///
/// ```
///  any thread ── write(line) ──▶ [ buffer ≤ bufferSizeBytesMax ] ──▶ writer thread ── write(2) ──▶ fd
///                                  full: the line is dropped        wakes every flushIntervalSeconds,
///                                  and counted                      or at once when half full / flush()
/// ```
/// Lines wait at most `flushIntervalSeconds` (50 ms by default) before they are written. When the
/// buffer is full the new line is dropped and counted; once there is room again, a line saying how
/// many were dropped is written first. A write error (a closed pipe, a full disk) drops what was
/// buffered and counts it too: logging never stops the service.
///
/// `@unchecked Sendable`: `state` is guarded by `condition`; the other stored properties are
/// immutable.
public final class LineWriter: @unchecked Sendable {
    private struct State {
        var buffer: [UInt8] = []
        var droppedLineCount = 0
        var droppedReported = 0
        var flushRequested = 0
        var flushed = 0
        var closing = false
        var finished = false
    }

    private let descriptor: Int32
    private let bufferSizeBytesMax: Int
    private let flushIntervalSeconds: Double
    private let condition = NSCondition()
    private var state = State()

    /// Starts a writer thread for `descriptor` (which stays open; the caller owns it).
    /// - Parameters:
    ///   - bufferSizeBytesMax: most bytes waiting to be written; further lines are dropped and counted.
    ///   - flushIntervalSeconds: longest time a line waits before the thread writes it.
    public init(descriptor: Int32, bufferSizeBytesMax: Int = 1 << 20, flushIntervalSeconds: Double = 0.05) {
        precondition(bufferSizeBytesMax > 0 && flushIntervalSeconds > 0, "a line writer needs room and an interval")
        self.descriptor = descriptor
        self.bufferSizeBytesMax = bufferSizeBytesMax
        self.flushIntervalSeconds = flushIntervalSeconds
        Thread.detachNewThread(named: "argus-line-writer") { [self] in run() }
    }

    /// Queues `line` and a newline (or drops and counts it when the buffer is full). Never blocks
    /// for I/O.
    public func write(_ line: String) {
        condition.lock()
        defer { condition.unlock() }
        guard !state.closing else { return }
        let count = line.utf8.count + 1
        guard state.buffer.count + count <= bufferSizeBytesMax else {
            state.droppedLineCount += 1
            return
        }
        let wasBelowHalf = state.buffer.count < bufferSizeBytesMax / 2
        state.buffer += line.utf8
        state.buffer.append(0x0A)
        if wasBelowHalf, state.buffer.count >= bufferSizeBytesMax / 2 { condition.signal() }
    }

    /// Lines dropped so far because the buffer was full or a write failed.
    package var droppedLineCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return state.droppedLineCount
    }

    /// Waits until everything queued before the call is written (or dropped), at most
    /// `timeoutSeconds`.
    /// - Returns: false when the time ran out first.
    @discardableResult
    public func flush(timeoutSeconds: Double = 5) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        state.flushRequested += 1
        let ticket = state.flushRequested
        condition.broadcast()
        let deadline = Date(timeIntervalSinceNow: timeoutSeconds)
        while state.flushed < ticket, !state.finished {
            if !condition.wait(until: deadline) { return state.flushed >= ticket }
        }
        return true
    }

    /// Writes what is queued and stops the thread; later lines are ignored.
    public func close(timeoutSeconds: Double = 5) {
        condition.lock()
        state.closing = true
        condition.broadcast()
        let deadline = Date(timeIntervalSinceNow: timeoutSeconds)
        while !state.finished {
            if !condition.wait(until: deadline) { break }
        }
        condition.unlock()
    }

    private func run() {
        var pending: [UInt8] = []
        while true {
            condition.lock()
            if state.buffer.isEmpty, state.flushed == state.flushRequested, !state.closing {
                _ = condition.wait(until: Date(timeIntervalSinceNow: flushIntervalSeconds))
            }
            let dropped = state.droppedLineCount - state.droppedReported
            state.droppedReported = state.droppedLineCount
            swap(&pending, &state.buffer)
            let ticket = state.flushRequested
            let closing = state.closing
            condition.unlock()

            if dropped > 0 {
                let notice = #"{"level":"warning","message":"log lines dropped: the output could not keep up","dropped":\#(dropped)}"#
                pending = Array((notice + "\n").utf8) + pending
            }
            if !pending.isEmpty, !writeAll(pending) {
                let lines = pending.reduce(0) { $1 == 0x0A ? $0 + 1 : $0 }
                condition.lock()
                state.droppedLineCount += lines
                state.droppedReported += lines
                condition.unlock()
            }
            pending.removeAll(keepingCapacity: pending.capacity <= bufferSizeBytesMax)

            condition.lock()
            state.flushed = max(state.flushed, ticket)
            if closing, state.buffer.isEmpty { state.finished = true }
            condition.broadcast()
            let finished = state.finished
            condition.unlock()
            if finished { return }
        }
    }

    /// `write(2)` until all of `bytes` is out (EINTR retried); false on any other error.
    private func writeAll(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += written
            }
            return true
        }
    }
}
