import Foundation
import Synchronization
import SystemIO
import WebhookSigning
#if canImport(Glibc)
import Glibc
#endif

/// The transport for `http://` receivers: our own HTTP/1.1 client with kept-alive connections, on dedicated
/// threads (`AttemptThreads`).
///
/// One attempt sends one POST, never more: a connection is taken from the pool only when it has been idle
/// less than `idleSecondsMax` and nothing is readable on it (a peer that closed it has sent its FIN), and a
/// connection that closes before a complete response fails the attempt at once (`connection_closed`); the
/// lane's retry schedule decides what happens next. It connects to the addresses the target guard checked
/// (no second DNS lookup between the check and the connect), follows no redirect, keeps the first
/// `DeliveryLimits.responseBodySizeBytesMax` bytes of the body and reads at most `bodySizeBytesMax` to keep
/// the connection (past that it stops reading and closes).
public final class HTTPClientTransport: DeliveryTransport {
    /// Limits of the client.
    public struct Configuration: Sendable {
        /// Idle connections kept per receiver (host and port).
        package var idleConnectionsPerHostMax = 64
        /// Idle connections kept in total.
        package var idleConnectionsMax = 1024
        /// An idle connection older than this is closed, not reused, in seconds (receivers and load
        /// balancers close idle connections at 5 s to 60 s; reusing one they are closing is what fails).
        package var idleSecondsMax = 4.0
        /// Body bytes read at most to reuse a connection.
        public var bodySizeBytesMax = 64 << 10
        /// Threads doing socket work at most (attempts beyond wait).
        package var threadCountMax = DeliveryLimits.globalInFlightCountMax

        public init() {}
    }

    private let configuration: Configuration
    private let threads: AttemptThreads
    private let pool: Mutex<[String: [HTTPClientConnection]]>
    private let idleCount = Atomic<Int>(0)
    private let lastSweepNs = Atomic<UInt64>(0)

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        threads = AttemptThreads(threadCountMax: configuration.threadCountMax)
        pool = Mutex([:])
    }

    /// Idle connections in the pool now.
    package var idleConnectionCount: Int { idleCount.load(ordering: .relaxed) }

    public func post(url: URL, headers: [HeaderField], body: [UInt8], timeoutSeconds: Double) async -> TransportResult {
        await post(url: url, addresses: [], headers: headers, body: body, timeoutSeconds: timeoutSeconds)
    }

    public func post(url: URL, addresses: [IPAddress], headers: [HeaderField], body: [UInt8], timeoutSeconds: Double) async -> TransportResult {
        let cancellation = AttemptCancellation()
        let startedNs = SystemClock.monotonicNanoseconds()
        let deadlineNs = startedNs + UInt64(max(0.001, min(timeoutSeconds, 86_400)) * 1e9)
        return await withTaskCancellationHandler {
            await threads.run { [self] in
                let result = perform(url: url, addresses: addresses, headers: headers, body: body, deadlineNs: deadlineNs,
                                     timeoutSeconds: timeoutSeconds, cancellation: cancellation)
                var finished = result
                finished.durationMs = Double(SystemClock.monotonicNanoseconds() - startedNs) / 1e6
                return finished
            }
        } onCancel: {
            cancellation.cancel()
        }
    }

    // MARK: - One attempt (on an attempt thread)

    private func perform(url: URL, addresses given: [IPAddress], headers: [HeaderField], body: [UInt8], deadlineNs: UInt64,
                         timeoutSeconds: Double, cancellation: AttemptCancellation) -> TransportResult {
        guard let request = Self.requestHead(url: url, headers: headers, bodyCount: body.count) else {
            return .failed(.networkError, "the URL cannot be sent by the HTTP client (only http:// with a host)", durationMs: 0)
        }
        let port = url.port ?? 80
        var addresses = given
        if addresses.isEmpty {
            addresses = Self.resolve(request.host)
            guard !addresses.isEmpty else { return .failed(.networkError, "the host does not resolve", durationMs: 0) }
        }
        let key = request.hostHeader
        var connection: HTTPClientConnection
        var reused = false
        if let pooled = take(key) {
            connection = pooled
            reused = true
        } else {
            do {
                connection = try Self.connect(addresses, port: port, deadlineNs: deadlineNs, cancellation: cancellation)
            } catch {
                return Self.result(of: error, timeoutSeconds: timeoutSeconds)
            }
        }
        connection.requestCount += 1
        do {
            try connection.sendAll(request.bytes + body, deadlineNs: deadlineNs, cancellation: cancellation)
        } catch {
            return Self.result(of: error, timeoutSeconds: timeoutSeconds, reused: reused)
        }
        var reader = HTTPResponseReader(bodyPrefixSizeBytesMax: DeliveryLimits.responseBodySizeBytesMax,
                                        bodySizeBytesMax: configuration.bodySizeBytesMax)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 << 10, alignment: 1)
        defer { buffer.deallocate() }
        var leftover = false
        while !reader.isComplete {
            let count: Int
            do {
                count = try connection.receive(into: buffer, deadlineNs: deadlineNs, cancellation: cancellation)
            } catch {
                return Self.result(of: error, timeoutSeconds: timeoutSeconds, reader: reader)
            }
            if count == 0 {
                if reader.finishAtClose() { break }
                if let status = reader.statusCode {
                    return .failed(.connectionClosed, "the receiver closed the connection in the middle of a \(status) response "
                                   + "after \(reader.bodyBytes) body bytes", bodyPrefix: reader.bodyPrefix, durationMs: 0)
                }
                let detail = reader.hasStarted ? "in the middle of the response head" : "without a response"
                return .failed(.connectionClosed, "the receiver closed the connection \(detail)\(reused ? Self.reusedNote : "")", durationMs: 0)
            }
            do {
                let used = try reader.consume(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
                if used < count { leftover = true }
            } catch {
                return .failed(.networkError, "malformed response: \(error.reason)", bodyPrefix: reader.bodyPrefix, durationMs: 0)
            }
        }
        if reader.keepsConnection, !leftover, !cancellation.isCancelled {
            put(connection, key: key)
        }
        return TransportResult(statusCode: reader.statusCode, bodyPrefix: reader.bodyPrefix, retryAfter: reader.retryAfter, durationMs: 0)
    }

    private static func connect(_ addresses: [IPAddress], port: Int, deadlineNs: UInt64,
                                cancellation: AttemptCancellation) throws(HTTPClientConnection.Failure) -> HTTPClientConnection {
        var lastFailure = HTTPClientConnection.Failure.network("no address to connect to")
        for address in addresses.prefix(4) {
            do {
                return try HTTPClientConnection.connect(to: address, port: port, deadlineNs: deadlineNs, cancellation: cancellation)
            } catch {
                if error == .cancelled || error == .timedOut { throw error }
                lastFailure = error
            }
        }
        throw lastFailure
    }

    static let reusedNote = " (a connection kept alive from an earlier delivery; the request was not sent again)"

    private static func result(of failure: HTTPClientConnection.Failure, timeoutSeconds: Double, reused: Bool = false,
                               reader: HTTPResponseReader? = nil) -> TransportResult {
        let prefix = reader?.bodyPrefix ?? []
        switch failure {
        case .timedOut:
            return .failed(.timedOut, "no complete response within \(Int(timeoutSeconds.rounded(.up))) s", bodyPrefix: prefix, durationMs: 0)
        case .cancelled:
            return .failed(.networkError, "cancelled", durationMs: 0)
        case .closed(let detail):
            return .failed(.connectionClosed, "the receiver closed the connection \(detail)\(reused ? reusedNote : "")", bodyPrefix: prefix, durationMs: 0)
        case .network(let detail):
            return .failed(.networkError, detail, bodyPrefix: prefix, durationMs: 0)
        }
    }

    // MARK: - The request

    struct RequestHead {
        var host: String
        var hostHeader: String
        var bytes: [UInt8]
    }

    /// `POST /path?query HTTP/1.1` with Host, Content-Length and `headers` (their own Host, Content-Length,
    /// Connection and Transfer-Encoding are dropped); nil for a URL this client cannot send or a header with
    /// bytes that would break the head.
    static func requestHead(url: URL, headers: [HeaderField], bodyCount: Int) -> RequestHead? {
        guard url.scheme?.lowercased() == "http", var host = url.host, !host.isEmpty else { return nil }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let components = URLComponents(url: url, resolvingAgainstBaseURL: false)
        var target = components?.percentEncodedPath ?? "/"
        if target.isEmpty { target = "/" }
        if let query = components?.percentEncodedQuery { target += "?" + query }
        let isLiteralIPv6 = host.contains(":")
        var hostHeader = isLiteralIPv6 ? "[\(host)]" : host
        if let port = url.port, port != 80 { hostHeader += ":\(port)" }
        func isSafe(_ text: String, allowSpace: Bool) -> Bool {
            text.utf8.allSatisfy { $0 >= (allowSpace ? 0x20 : 0x21) && $0 != 0x7F || $0 == 9 && allowSpace }
        }
        guard isSafe(target, allowSpace: false), isSafe(hostHeader, allowSpace: false) else { return nil }
        var head = "POST \(target) HTTP/1.1\r\nHost: \(hostHeader)\r\nContent-Length: \(bodyCount)\r\n"
        let dropped: Set<String> = ["host", "content-length", "connection", "transfer-encoding"]
        for field in headers where !dropped.contains(field.name.lowercased()) {
            guard isSafe(field.name, allowSpace: false), isSafe(field.value, allowSpace: true) else { return nil }
            head += "\(field.name): \(field.value)\r\n"
        }
        head += "\r\n"
        return RequestHead(host: host, hostHeader: hostHeader, bytes: Array(head.utf8))
    }

    /// Addresses of `host` (a literal, or through the system resolver), at most 8.
    static func resolve(_ host: String) -> [IPAddress] {
        if let literal = IPAddress(host) { return [literal] }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0 else { return [] }
        defer { freeaddrinfo(list) }
        var addresses: [IPAddress] = []
        var entry = list
        while let current = entry, addresses.count < 8 {
            if let address = current.pointee.ai_addr {
                if current.pointee.ai_family == AF_INET {
                    let bytes = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                        withUnsafeBytes(of: pointer.pointee.sin_addr) { Array($0) }
                    }
                    if let ip = IPAddress(bytes: bytes), !addresses.contains(ip) { addresses.append(ip) }
                } else if current.pointee.ai_family == AF_INET6 {
                    let bytes = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                        withUnsafeBytes(of: pointer.pointee.sin6_addr) { Array($0) }
                    }
                    if let ip = IPAddress(bytes: bytes), !addresses.contains(ip) { addresses.append(ip) }
                }
            }
            entry = current.pointee.ai_next
        }
        return addresses
    }

    // MARK: - The pool

    /// A kept-alive connection to `key` that is young enough and quiet, or nil. Stale ones are closed.
    private func take(_ key: String) -> HTTPClientConnection? {
        let now = SystemClock.monotonicNanoseconds()
        let idleNsMax = UInt64(configuration.idleSecondsMax * 1e9)
        var stale: [HTTPClientConnection] = []
        defer { stale.removeAll() } // closes them (deinit), outside the lock
        return pool.withLock { pool -> HTTPClientConnection? in
            while var list = pool[key], let connection = list.popLast() {
                pool[key] = list.isEmpty ? nil : list
                idleCount.subtract(1, ordering: .relaxed)
                if connection.idleSinceNs + idleNsMax >= now, connection.isQuiet { return connection }
                stale.append(connection)
            }
            return nil
        }
    }

    /// Keeps `connection` for the next attempt to `key`, within the pool's limits.
    private func put(_ connection: HTTPClientConnection, key: String) {
        connection.idleSinceNs = SystemClock.monotonicNanoseconds()
        let idleNsMax = UInt64(configuration.idleSecondsMax * 1e9)
        var closed: [HTTPClientConnection] = []
        defer { closed.removeAll() }
        let now = connection.idleSinceNs
        let sweep = lastSweepNs.load(ordering: .relaxed) + 1_000_000_000 < now
        if sweep { lastSweepNs.store(now, ordering: .relaxed) }
        pool.withLock { pool in
            if sweep || idleCount.load(ordering: .relaxed) >= configuration.idleConnectionsMax {
                // Once a second, or when full: drop every connection past its idle time (their receivers are
                // closing them); when still full, this one is not kept.
                for (name, list) in pool {
                    let kept = list.filter { $0.idleSinceNs + idleNsMax >= now }
                    closed += list.filter { $0.idleSinceNs + idleNsMax < now }
                    pool[name] = kept.isEmpty ? nil : kept
                }
                idleCount.store(pool.values.reduce(0) { $0 + $1.count }, ordering: .relaxed)
                guard idleCount.load(ordering: .relaxed) < configuration.idleConnectionsMax else {
                    closed.append(connection)
                    return
                }
            }
            var list = pool.removeValue(forKey: key) ?? []
            if list.count >= configuration.idleConnectionsPerHostMax {
                closed.append(list.removeFirst())
                idleCount.subtract(1, ordering: .relaxed)
            }
            list.append(connection)
            idleCount.add(1, ordering: .relaxed)
            pool[key] = list
        }
    }
}
