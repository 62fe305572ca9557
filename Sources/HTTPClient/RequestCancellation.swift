import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Stops one request's socket work from another thread: `cancel()` shuts the attached socket down, which
/// wakes the `poll` or `recv` the request's thread is in.
package final class RequestCancellation: Sendable {
    private struct State {
        var cancelled = false
        var descriptor: Int32?
    }

    private let state = Mutex(State())

    package init() {}

    package var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// Registers the socket in use; false when already cancelled.
    package func attach(_ descriptor: Int32) -> Bool {
        state.withLock { state in
            guard !state.cancelled else { return false }
            state.descriptor = descriptor
            return true
        }
    }

    /// The socket is no longer in use (it may be closed or pooled after this).
    package func detach() {
        state.withLock { $0.descriptor = nil }
    }

    package func cancel() {
        state.withLock { state in
            state.cancelled = true
            if let descriptor = state.descriptor { shutdown(descriptor, Int32(SHUT_RDWR)) }
        }
    }
}
