import Synchronization
import SystemIO
#if canImport(Glibc)
import Glibc
#endif

/// One TCP connection to an HTTP peer (a receiver, an S3 endpoint): non-blocking socket, every wait a `poll`
/// bounded by the request's deadline, so the thread that drives it never blocks past the deadline or a cancellation.
///
/// `@unchecked Sendable`: one thread at a time uses a connection; it passes between threads only through the
/// pool's `Mutex`.
package final class HTTPClientConnection: @unchecked Sendable {
    /// Why a socket operation failed.
    package enum Failure: Error, Equatable, Sendable {
        /// The peer closed or reset the connection (`call`: what we were doing).
        case closed(String)
        case timedOut
        case cancelled
        /// Anything else: refused, unreachable, a socket call that failed (`detail` names the call and errno).
        case network(String)
    }

    package let descriptor: Int32
    /// The address and port connected to, for errors (never secrets: receivers' URLs may carry tokens in
    /// paths, so only the address is named).
    package let peer: String
    /// When the connection was last returned to the pool, in monotonic nanoseconds.
    package var idleSinceNs: UInt64 = 0
    /// Requests sent on this connection.
    package var requestCount = 0

    private init(descriptor: Int32, peer: String) {
        self.descriptor = descriptor
        self.peer = peer
    }

    deinit { Glibc.close(descriptor) }

    /// Opens a connection to `address`:`port`, within `deadlineNs`.
    package static func connect(to address: IPAddress, port: Int, deadlineNs: UInt64, cancellation: RequestCancellation) throws(Failure) -> HTTPClientConnection {
        let family = address.isIPv4 ? AF_INET : AF_INET6
        let descriptor = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        let peer = address.isIPv4 ? "\(address):\(port)" : "[\(address)]:\(port)"
        guard descriptor >= 0 else { throw .network("socket() for \(peer) failed: \(SystemError.describe(errno: errno))") }
        let connection = HTTPClientConnection(descriptor: descriptor, peer: peer)
        var one: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        guard cancellation.attach(descriptor) else { throw .cancelled }
        defer { cancellation.detach() }
        let result: Int32
        if address.isIPv4 {
            var socketAddress = sockaddr_in()
            socketAddress.sin_family = sa_family_t(AF_INET)
            socketAddress.sin_port = in_port_t(UInt16(port).bigEndian)
            withUnsafeMutableBytes(of: &socketAddress.sin_addr) { $0.copyBytes(from: address.bytes) }
            result = startConnect(descriptor, to: socketAddress)
        } else {
            var socketAddress = sockaddr_in6()
            socketAddress.sin6_family = sa_family_t(AF_INET6)
            socketAddress.sin6_port = in_port_t(UInt16(port).bigEndian)
            withUnsafeMutableBytes(of: &socketAddress.sin6_addr) { $0.copyBytes(from: address.bytes) }
            result = startConnect(descriptor, to: socketAddress)
        }
        if result != 0 {
            guard errno == EINPROGRESS || errno == EINTR else { throw .network("connect to \(peer) failed: \(SystemError.describe(errno: errno))") }
            try connection.wait(for: Int16(POLLOUT), deadlineNs: deadlineNs, cancellation: cancellation)
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &error, &length)
            guard error == 0 else { throw .network("connect to \(peer) failed: \(SystemError.describe(errno: error))") }
        }
        return connection
    }

    /// `connect(2)` of `descriptor` to `address` (a `sockaddr_in` or `sockaddr_in6`); its result (for a
    /// non-blocking socket, -1 with `EINPROGRESS` while the handshake runs).
    private static func startConnect<Address>(_ descriptor: Int32, to address: Address) -> Int32 {
        var address = address
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<Address>.size)) }
        }
    }

    /// Waits until `events` are possible on the socket (or it has an error or hang-up, which the next call reports).
    private func wait(for events: Int16, deadlineNs: UInt64, cancellation: RequestCancellation) throws(Failure) {
        while true {
            if cancellation.isCancelled { throw .cancelled }
            let now = SystemClock.monotonicNanoseconds()
            guard now < deadlineNs else { throw .timedOut }
            let milliseconds = Int32(min(UInt64(Int32.max), (deadlineNs - now + 999_999) / 1_000_000))
            var descriptor = pollfd(fd: self.descriptor, events: events, revents: 0)
            let ready = poll(&descriptor, 1, milliseconds)
            if ready < 0 {
                if errno == EINTR { continue }
                throw .network("poll on \(peer) failed: \(SystemError.describe(errno: errno))")
            }
            if ready > 0 {
                if cancellation.isCancelled { throw .cancelled }
                return
            }
        }
    }

    /// Sends every byte of `head` then of `body` before `deadlineNs`, in as few `sendmsg` calls as the socket
    /// takes (one for a small request: the head and the body leave in one segment).
    package func sendAll(head: UnsafeRawBufferPointer, body: UnsafeRawBufferPointer, deadline: Deadline,
                         cancellation: RequestCancellation) throws(Failure) {
        guard cancellation.attach(descriptor) else { throw .cancelled }
        defer { cancellation.detach() }
        let total = head.count + body.count
        var sent = 0
        while sent < total {
            let (count, code) = try transfer(waitingFor: Int16(POLLOUT), deadlineNs: deadline.nextNs(), cancellation: cancellation) {
                var parts = [iovec](repeating: iovec(), count: 2)
                var partCount = 0
                if sent < head.count {
                    parts[0] = iovec(iov_base: UnsafeMutableRawPointer(mutating: head.baseAddress! + sent), iov_len: head.count - sent)
                    partCount = 1
                }
                let bodySent = max(0, sent - head.count)
                if body.count > bodySent {
                    parts[partCount] = iovec(iov_base: UnsafeMutableRawPointer(mutating: body.baseAddress! + bodySent),
                                             iov_len: body.count - bodySent)
                    partCount += 1
                }
                return parts.withUnsafeMutableBufferPointer { vectors in
                    var message = msghdr()
                    message.msg_iov = vectors.baseAddress
                    message.msg_iovlen = partCount
                    return sendmsg(descriptor, &message, Int32(MSG_NOSIGNAL))
                }
            }
            if count > 0 {
                sent += count
                continue
            }
            if code == EPIPE || code == ECONNRESET {
                throw .closed("while the request was being sent (\(sent) of \(total) bytes, \(SystemError.describe(errno: code)))")
            }
            throw .network("send to \(peer) failed: \(SystemError.describe(errno: code))")
        }
    }

    /// Reads what arrived (waiting until something does, or `deadlineNs`). Returns 0 at the peer's orderly
    /// close; a reset throws `.closed`.
    package func receive(into buffer: UnsafeMutableRawBufferPointer, deadlineNs: UInt64, cancellation: RequestCancellation) throws(Failure) -> Int {
        guard cancellation.attach(descriptor) else { throw .cancelled }
        defer { cancellation.detach() }
        let (count, code) = try transfer(waitingFor: Int16(POLLIN), deadlineNs: deadlineNs, cancellation: cancellation) {
            recv(descriptor, buffer.baseAddress, buffer.count, 0)
        }
        if count >= 0 {
            if count == 0, cancellation.isCancelled { throw .cancelled }
            return count
        }
        // A reset is not an end: a body read until the close must not be taken as complete.
        if code == ECONNRESET { throw .closed("with a reset (\(SystemError.describe(errno: code)))") }
        throw .network("recv from \(peer) failed: \(SystemError.describe(errno: code))")
    }

    /// Calls `call` (one `send` or `recv`) until it moves bytes or fails for good: retried on EINTR, and after
    /// waiting for `events` (before `deadlineNs`) when the socket would block. Returns the call's result and,
    /// when it is negative, its `errno`.
    /// - Throws: `.cancelled` when the attempt was cancelled; the wait's timeout.
    private func transfer(waitingFor events: Int16, deadlineNs: UInt64, cancellation: RequestCancellation,
                          _ call: () -> Int) throws(Failure) -> (count: Int, errno: Int32) {
        while true {
            let count = call()
            if count >= 0 { return (count, 0) }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK {
                try wait(for: events, deadlineNs: deadlineNs, cancellation: cancellation)
                continue
            }
            if cancellation.isCancelled { throw .cancelled }
            return (count, code)
        }
    }

    /// True when nothing is readable: the peer has neither closed the idle connection nor sent anything unasked.
    package var isQuiet: Bool {
        var descriptor = pollfd(fd: self.descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) == 0
    }
}
