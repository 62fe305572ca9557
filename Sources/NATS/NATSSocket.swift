import SystemIO
#if canImport(Glibc)
import Glibc
#endif

/// One TCP connection to a NATS server: a non-blocking socket with `TCP_NODELAY`, every wait a `poll`
/// bounded by a deadline. Used only from the connection's own threads (blocking calls).
///
/// `@unchecked Sendable`: the descriptor is an integer; the reader thread receives and the writer thread
/// sends (each on its own side of the socket); `shutdown` from either side wakes the other; the
/// descriptor is closed only in deinit, when neither holds it.
final class NATSSocket: @unchecked Sendable {
    let descriptor: Int32
    /// The server's address, for errors.
    let peer: String

    private init(descriptor: Int32, peer: String) {
        self.descriptor = descriptor
        self.peer = peer
    }

    deinit { close(descriptor) }

    /// Resolves `address` and connects to its first answer that accepts, within `timeoutSeconds` per try.
    /// - Throws: a text naming the server, the call and errno.
    static func connect(to address: NATSServerAddress, timeoutSeconds: Double) throws(NATSSocketFailure) -> NATSSocket {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_protocol = Int32(IPPROTO_TCP)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(address.host, String(address.port), &hints, &list)
        guard status == 0, let first = list else {
            throw NATSSocketFailure("\(address): name resolution failed: \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        var failure = NATSSocketFailure("\(address): no address")
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            entry = current.pointee.ai_next
            let descriptor = socket(current.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard descriptor >= 0 else {
                failure = NATSSocketFailure("\(address): socket failed: \(SystemError.describe(errno: errno))")
                continue
            }
            let connection = NATSSocket(descriptor: descriptor, peer: address.description)
            var one: Int32 = 1
            setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let deadlineNs = SystemClock.monotonicNanoseconds() + UInt64(timeoutSeconds * 1e9)
            if Glibc.connect(descriptor, current.pointee.ai_addr, current.pointee.ai_addrlen) != 0 {
                guard errno == EINPROGRESS || errno == EINTR else {
                    failure = NATSSocketFailure("\(address): connect failed: \(SystemError.describe(errno: errno))")
                    continue
                }
                do {
                    try connection.wait(for: Int16(POLLOUT), deadlineNs: deadlineNs)
                } catch {
                    failure = NATSSocketFailure("\(address): connect: \(error.reason)")
                    continue
                }
                var code: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &code, &length)
                guard code == 0 else {
                    failure = NATSSocketFailure("\(address): connect failed: \(SystemError.describe(errno: code))")
                    continue
                }
            }
            return connection
        }
        throw failure
    }

    /// Waits until `events` are possible (or an error or hang-up, which the next call reports).
    func wait(for events: Int16, deadlineNs: UInt64) throws(NATSSocketFailure) {
        while true {
            let now = SystemClock.monotonicNanoseconds()
            guard now < deadlineNs else { throw NATSSocketFailure("timed out") }
            let milliseconds = Int32(min(UInt64(Int32.max), (deadlineNs - now + 999_999) / 1_000_000))
            var entry = pollfd(fd: descriptor, events: events, revents: 0)
            let ready = poll(&entry, 1, milliseconds)
            if ready > 0 { return }
            if ready < 0 && errno != EINTR { throw NATSSocketFailure("poll failed: \(SystemError.describe(errno: errno))") }
        }
    }

    /// Sends every byte of `bytes` before `deadlineNs`.
    func sendAll(_ bytes: ArraySlice<UInt8>, deadlineNs: UInt64) throws(NATSSocketFailure) {
        var sent = 0
        while sent < bytes.count {
            let count = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if count > 0 {
                sent += count
                continue
            }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK {
                try wait(for: Int16(POLLOUT), deadlineNs: deadlineNs)
                continue
            }
            throw NATSSocketFailure("send to \(peer) failed: \(SystemError.describe(errno: code))")
        }
    }

    /// Reads what has arrived into `buffer`, waiting at most until `deadlineNs`. Returns the byte count,
    /// 0 at the server's close, nil when nothing arrived by the deadline.
    func receive(into buffer: inout [UInt8], deadlineNs: UInt64) throws(NATSSocketFailure) -> Int? {
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count >= 0 { return count }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK {
                do {
                    try wait(for: Int16(POLLIN), deadlineNs: deadlineNs)
                } catch {
                    if error.reason == "timed out" { return nil }
                    throw error
                }
                continue
            }
            throw NATSSocketFailure("receive from \(peer) failed: \(SystemError.describe(errno: code))")
        }
    }

    /// Shuts both directions down: the other thread's `poll` wakes and its next call fails.
    func shutdownBoth() {
        shutdown(descriptor, Int32(SHUT_RDWR))
    }
}

/// A socket call that failed, with the server, call and errno in `reason`.
struct NATSSocketFailure: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}
