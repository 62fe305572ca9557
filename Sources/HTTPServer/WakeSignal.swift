#if canImport(Glibc)
import Glibc
#endif

/// A non-blocking pipe that other threads write to wake the I/O thread out of `epoll_wait`.
/// (`eventfd` is not exported by the Glibc module, so a pipe it is.)
///
/// `@unchecked Sendable`: the descriptors are integers; `write` and `read` on a pipe are
/// thread-safe, and both ends are closed only in deinit, after every user has let go.
final class WakeSignal: @unchecked Sendable {
    /// The end the I/O thread polls for readability.
    let descriptor: Int32
    private let writeDescriptor: Int32

    init() throws(HTTPServerError) {
        var ends: [Int32] = [-1, -1]
        if pipe(&ends) != 0 { throw .system("pipe") }
        for end in ends {
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
        }
        descriptor = ends[0]
        writeDescriptor = ends[1]
    }

    deinit {
        close(descriptor)
        close(writeDescriptor)
    }

    /// Makes the read end readable (from any thread). A full pipe already is.
    func signal() {
        var byte: UInt8 = 1
        while write(writeDescriptor, &byte, 1) < 0, errno == EINTR {}
    }

    /// Empties the pipe (on the I/O thread).
    func drain() {
        var buffer = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        while true {
            let received = withUnsafeMutableBytes(of: &buffer) { read(descriptor, $0.baseAddress, $0.count) }
            if received > 0 { continue }
            if received < 0, errno == EINTR { continue }
            return
        }
    }
}
