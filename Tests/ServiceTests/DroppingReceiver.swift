import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A webhook endpoint on raw sockets (127.0.0.1, a free port) that can drop a connection at a chosen
/// point of an exchange, and records every request head it reads, with how much of the body arrived.
///
/// One thread accepts, one thread serves each connection (keep-alive, HTTP/1.1, `Content-Length`
/// bodies only). Every blocking call has a timeout, and `stop()` (or the 120 s lifetime) ends the threads.
///
/// `@unchecked Sendable`: the listening fd and the plan are immutable; everything else is in Mutexes.
final class DroppingReceiver: @unchecked Sendable {
    /// What to do with the n-th request (1-based, in the order heads are read).
    enum Action: Sendable {
        /// Read the body, answer with this status and an empty body, keep the connection.
        case respond(Int)
        /// Close as soon as the head is read, without reading the body.
        case closeBeforeBody
        /// Read the whole body, then close without answering.
        case closeAfterBody
        /// Read the whole body, send a status line and part of a 10-byte body, then close.
        case closeMidResponse

        var readsBody: Bool {
            if case .closeBeforeBody = self { return false }
            return true
        }
    }

    struct Request: Sendable {
        /// 1-based, in the order heads were read.
        var number: Int
        /// 1-based connection number, and the 1-based number of this request on its connection.
        var connection: Int
        var onConnection: Int
        var headers: [String: String]
        var contentLength: Int
        /// Body bytes read (only counted when the action reads the body).
        var bodyBytes: Int
        var body: [UInt8]
        var action: Action
        var complete: Bool { bodyBytes == contentLength }
        var deliveryID: String? { headers["webhook-id"] }
        var attempt: Int? { headers["x-argus-attempt"].flatMap { Int($0) } }
    }

    let port: Int
    private let listener: Int32
    private let plan: @Sendable (Int) -> Action
    private let stopped = Atomic<Bool>(false)
    private let state = Mutex<(requests: [Request], connections: Int, threads: Int)>(([], 0, 0))
    private let started = ContinuousClock.now
    /// Connections open now (their descriptors).
    private let openDescriptors = Mutex<Set<Int32>>([])
    /// Whether `listener` is open: it is closed and shut down only under this lock, so `stop()` never shuts
    /// down a descriptor number another test's socket took after the accept thread closed it.
    private let listening = Mutex(true)

    /// Whether a request with `Connection: close` is answered with `Connection: close` and then the
    /// connection closed (RFC 9112 §9.6), or the connection is kept open regardless.
    private let honoursClose: Bool

    /// Requests whose answer waits until this many requests have arrived (up to 10 s), so that many
    /// connections are open at once; 0: answer at once.
    private let holdUntil: Int

    init(honoursClose: Bool = true, holdUntil: Int = 0, plan: @escaping @Sendable (Int) -> Action) throws {
        self.plan = plan
        self.honoursClose = honoursClose
        self.holdUntil = holdUntil
        (listener, port) = try Self.listen(backlog: 128)
        startThread { [self] in acceptLoop() }
    }

    deinit { stop() }

    /// A listening TCP socket on 127.0.0.1 and a port the kernel picked: its descriptor and port.
    static func listen(backlog: Int32) throws -> (descriptor: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, Glibc.listen(fd, backlog) == 0 else {
            let code = errno
            close(fd)
            throw POSIXError(.init(rawValue: code) ?? .EIO)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    var url: String { "http://127.0.0.1:\(port)/hook" }
    var requests: [Request] { state.withLock { $0.requests } }
    var connectionCount: Int { state.withLock { $0.connections } }

    /// Connections open now.
    var openConnectionCount: Int { openDescriptors.withLock { $0.count } }

    /// Closes every open connection (as a receiver's idle timeout would): their threads see the close and end.
    func closeIdleConnections() {
        openDescriptors.withLock { for fd in $0 { shutdown(fd, Int32(SHUT_RDWR)) } }
    }

    /// Stops accepting; connection threads end at their next poll (at most 100 ms later).
    func stop() {
        if !stopped.exchange(true, ordering: .relaxed) {
            listening.withLock { open in if open { shutdown(listener, Int32(SHUT_RDWR)) } }
        }
    }

    /// Waits until `condition` holds for the recorded requests, up to `seconds`.
    func wait(seconds: Double = 30, until condition: ([Request]) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if condition(requests) { return true }
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
        return condition(requests)
    }

    private var isDone: Bool { stopped.load(ordering: .relaxed) || ContinuousClock.now - started > .seconds(120) }

    private func startThread(_ body: @escaping @Sendable () -> Void) {
        state.withLock { $0.threads += 1 }
        let thread = Thread { [self] in
            body()
            state.withLock { $0.threads -= 1 }
        }
        thread.start()
    }

    /// Waits up to 100 ms for `fd` to be readable.
    private func readable(_ fd: Int32) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 100) > 0
    }

    private func acceptLoop() {
        defer {
            listening.withLock { open in
                open = false
                close(listener)
            }
        }
        while !isDone {
            guard readable(listener) else { continue }
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { continue }
            let connection = state.withLock { state -> Int in
                state.connections += 1
                return state.connections
            }
            startThread { [self] in serve(fd, connection: connection) }
        }
    }

    /// Reads into `buffer` until it holds `count` bytes or the peer closes or 10 s pass; false on close or timeout.
    private func fill(_ fd: Int32, _ buffer: inout [UInt8], upTo count: Int) -> Bool {
        let deadline = ContinuousClock.now + .seconds(10)
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while buffer.count < count {
            if isDone || ContinuousClock.now > deadline { return false }
            guard readable(fd) else { continue }
            let got = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, min($0.count, count - buffer.count)) }
            if got <= 0 { return false }
            buffer += chunk[0..<got]
        }
        return true
    }

    private func serve(_ fd: Int32, connection: Int) {
        openDescriptors.withLock { _ = $0.insert(fd) }
        defer {
            openDescriptors.withLock { _ = $0.remove(fd) }
            close(fd)
        }
        var pending: [UInt8] = []
        var onConnection = 0
        while !isDone {
            // The head, byte by byte up to CRLFCRLF (test traffic is small).
            var head: [UInt8] = pending
            pending = []
            while !(head.count >= 4 && Array(head.suffix(4)) == [13, 10, 13, 10]) {
                if head.count > 65_536 || !fill(fd, &head, upTo: head.count + 1) { return }
            }
            onConnection += 1
            let lines = String(decoding: head, as: UTF8.self).components(separatedBy: "\r\n")
            var headers: [String: String] = [:]
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            let contentLength = headers["content-length"].flatMap { Int($0) } ?? 0
            let (number, action) = state.withLock { state -> (Int, Action) in
                let number = state.requests.count + 1
                let action = plan(number)
                state.requests.append(Request(number: number, connection: connection, onConnection: onConnection, headers: headers,
                                              contentLength: contentLength, bodyBytes: 0, body: [], action: action))
                return (number, action)
            }
            if case .closeBeforeBody = action { return }
            var body: [UInt8] = []
            _ = fill(fd, &body, upTo: contentLength)
            state.withLock {
                $0.requests[number - 1].bodyBytes = body.count
                $0.requests[number - 1].body = body
            }
            guard body.count == contentLength else { return }
            switch action {
            case .respond(let status):
                let holdDeadline = ContinuousClock.now + .seconds(10)
                while requests.count < holdUntil, ContinuousClock.now < holdDeadline { usleep(5_000) }
                let closing = honoursClose && headers["connection"]?.lowercased() == "close"
                let response = Array("HTTP/1.1 \(status) Status\r\nContent-Length: 0\r\n\(closing ? "Connection: close\r\n" : "")\r\n".utf8)
                guard write(fd, response, response.count) == response.count, !closing else { return }
            case .closeAfterBody, .closeBeforeBody:
                return
            case .closeMidResponse:
                let partial = Array("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc".utf8)
                _ = write(fd, partial, partial.count)
                return
            }
        }
    }
}
