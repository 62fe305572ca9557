import Foundation
import Synchronization
import SystemIO
#if canImport(Glibc)
import Glibc
#endif

/// Our HTTP/1.1 client for `http://` peers (webhook receivers, S3-compatible endpoints), with kept-alive
/// connections and its socket work on dedicated threads (`BlockingThreads`), never on the cooperative pool.
///
/// One call sends one request, never more: a connection is taken from the pool only when it has been idle
/// less than `idleSecondsMax` and nothing is readable on it (a peer that closed it has sent its FIN), and a
/// connection that closes before a complete response fails the request at once (`Failure.closed`); whether
/// to try again is the caller's decision (a delivery's retry schedule, S3's retries). It connects to the
/// addresses it is given (for delivery, those the SSRF guard checked: no second DNS lookup between the check
/// and the connect), follows no redirect, and reads at most the reader's `bodySizeBytesMax` (past that it
/// stops reading and closes).
///
/// Limits: `Configuration` (idle connections per peer and in total, idle age, threads); per response the
/// reader's head, header-count and body limits.
package final class HTTPClient: Sendable {
    /// Limits of the client.
    package struct Configuration: Sendable {
        /// Idle connections kept per peer (host and port).
        package var idleConnectionsPerHostMax = 64
        /// Idle connections kept in total.
        package var idleConnectionsMax = 1024
        /// An idle connection older than this is closed, not reused, in seconds (receivers and load
        /// balancers close idle connections at 5 s to 60 s; reusing one they are closing is what fails).
        package var idleSecondsMax = 4.0
        /// Threads doing socket work at most (requests beyond wait).
        package var threadCountMax = 64
        /// The threads' name.
        package var threadName = "argus-http-client"

        package init() {}
    }

    /// A request body: bytes as the caller holds them (no copy either way).
    package enum Body: Sendable {
        case bytes([UInt8])
        case data(Data)

        package var count: Int {
            switch self {
            case .bytes(let bytes): bytes.count
            case .data(let data): data.count
            }
        }

        func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
            switch self {
            case .bytes(let bytes): bytes.withUnsafeBytes(body)
            case .data(let data): data.withUnsafeBytes(body)
            }
        }
    }

    /// One request: the head's parts and the body.
    package struct Request: Sendable {
        /// `GET`, `PUT`, `POST`, `HEAD`.
        package var method: String
        /// The host to resolve when no address is given (an IPv6 literal without brackets).
        package var host: String
        package var port: Int
        /// The `Host` header's value.
        package var hostHeader: String
        /// Path and query, percent-encoded as sent.
        package var target: String
        /// Header fields besides Host and Content-Length (their own Host, Content-Length, Connection and
        /// Transfer-Encoding are dropped).
        package var headers: any HTTPHeaderFieldList
        package var body: Body

        package init(method: String, host: String, port: Int, hostHeader: String, target: String,
                     headers: [(name: String, value: String)], body: Body) {
            self.init(method: method, host: host, port: port, hostHeader: hostHeader, target: target,
                      fields: HTTPHeaderPairs(headers), body: body)
        }

        /// A request whose header fields are read in place from `fields` (no copy into pairs).
        package init(method: String, host: String, port: Int, hostHeader: String, target: String,
                     fields: any HTTPHeaderFieldList, body: Body) {
            self.method = method
            self.host = host
            self.port = port
            self.hostHeader = hostHeader
            self.target = target
            self.headers = fields
            self.body = body
        }

        /// A request to `url` (`http://` with a host; nil for anything else).
        package init?(method: String, url: URL, headers: [(name: String, value: String)], body: Body) {
            self.init(method: method, url: url, fields: HTTPHeaderPairs(headers), body: body)
        }

        /// A request to `url` (`http://` with a host; nil for anything else) whose header fields are read in
        /// place from `fields`.
        package init?(method: String, url: URL, fields: any HTTPHeaderFieldList, body: Body) {
            guard url.scheme?.lowercased() == "http", var host = url.host, !host.isEmpty else { return nil }
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            let components = URLComponents(url: url, resolvingAgainstBaseURL: false)
            var target = components?.percentEncodedPath ?? "/"
            if target.isEmpty { target = "/" }
            if let query = components?.percentEncodedQuery { target += "?" + query }
            var hostHeader = host.utf8.contains(UInt8(ascii: ":")) ? "[\(host)]" : host
            if let port = url.port, port != 80 { hostHeader += ":\(port)" }
            self.init(method: method, host: host, port: url.port ?? 80, hostHeader: hostHeader, target: target,
                      fields: fields, body: body)
        }

        /// `METHOD target HTTP/1.1` with Host, Content-Length and the header fields; nil when a part holds
        /// bytes that would break the head (control characters, a space in the target, a colon in a name).
        package var head: [UInt8]? {
            var bytes: [UInt8] = []
            var fieldBytes = 0
            _ = headers.forEachField { name, value in
                fieldBytes += name.utf8.count + value.utf8.count + 4
                return true
            }
            bytes.reserveCapacity(128 + fieldBytes)
            func append(_ text: String, allowSpace: Bool, allowColon: Bool = true) -> Bool {
                for byte in text.utf8 {
                    let safe = byte >= (allowSpace ? 0x20 : 0x21) && byte != 0x7F || byte == 9 && allowSpace
                    guard safe, allowColon || byte != UInt8(ascii: ":") else { return false }
                    bytes.append(byte)
                }
                return true
            }
            guard append(method, allowSpace: false) else { return nil }
            bytes.append(UInt8(ascii: " "))
            guard append(target, allowSpace: false) else { return nil }
            bytes += " HTTP/1.1\r\nHost: ".utf8
            guard append(hostHeader, allowSpace: false) else { return nil }
            bytes += "\r\n".utf8
            if body.count > 0 || method == "PUT" || method == "POST" {
                bytes += "Content-Length: ".utf8
                bytes += String(body.count).utf8
                bytes += "\r\n".utf8
            }
            let fieldsFit = headers.forEachField { name, value in
                guard !Self.isFraming(name) else { return true }
                guard !name.isEmpty, append(name, allowSpace: false, allowColon: false) else { return false }
                bytes += ": ".utf8
                guard append(value, allowSpace: true) else { return false }
                bytes += "\r\n".utf8
                return true
            }
            guard fieldsFit else { return nil }
            bytes += "\r\n".utf8
            return bytes
        }

        /// Host, Content-Length, Connection and Transfer-Encoding, in any case: the client writes the framing.
        private static func isFraming(_ name: String) -> Bool {
            let utf8 = name.utf8
            guard utf8.count == 4 || utf8.count == 10 || utf8.count == 14 || utf8.count == 17 else { return false }
            let lowered = String(decoding: utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
            return lowered == "host" || lowered == "connection" || lowered == "content-length" || lowered == "transfer-encoding"
        }
    }

    /// Why a request got no complete response.
    package enum Failure: Error, Equatable, Sendable {
        /// The request cannot be sent (not `http://`, bytes that would break the head).
        case invalidRequest(String)
        /// The host resolves to no address.
        case unresolved
        case timedOut
        case cancelled
        /// The peer closed the connection (`detail` says when; it names a kept-alive connection).
        case closed(String)
        /// Refused, unreachable, a socket call that failed (`detail` names the call and errno).
        case network(String)
        /// The response breaks HTTP/1.1 or the reader's limits.
        case malformed(String)
    }

    /// What one request produced: the response read so far (complete when `failure` is nil).
    package struct Outcome: Sendable {
        package var response: HTTPResponseReader
        package var failure: Failure?
        /// The request went on a connection kept alive from an earlier one.
        package var reusedConnection: Bool
    }

    /// Appended to a `closed` failure's detail on a kept-alive connection.
    package static let reusedNote = " (a connection kept alive from an earlier request; the request was not sent again)"

    private let configuration: Configuration
    private let threads: BlockingThreads
    private let pool = Mutex<[String: [HTTPClientConnection]]>([:])
    private let idleCount = Atomic<Int>(0)
    private let lastSweepNs = Atomic<UInt64>(0)

    package init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        threads = BlockingThreads(threadCountMax: configuration.threadCountMax, threadName: configuration.threadName)
    }

    /// Idle connections in the pool now.
    package var idleConnectionCount: Int { idleCount.load(ordering: .relaxed) }

    /// Sends `request` on one of the client's threads and reads the response into `reader`, before
    /// `timeoutSeconds` (0.001 s to 1 day) from now and, when `idleTimeoutSeconds` is given, without ever
    /// going that long without a byte moving either way; cancelling the task shuts the socket down.
    /// - Parameter addresses: where to connect (tried in order, at most 4); empty to resolve `request.host`.
    package func send(_ request: Request, addresses: [IPAddress] = [], reader: HTTPResponseReader,
                      timeoutSeconds: Double, idleTimeoutSeconds: Double? = nil) async -> Outcome {
        let cancellation = RequestCancellation()
        let deadline = Deadline(totalSeconds: timeoutSeconds, idleSeconds: idleTimeoutSeconds)
        return await withTaskCancellationHandler {
            await threads.run { [self] in
                perform(request, addresses: addresses, reader: reader, deadline: deadline, cancellation: cancellation)
            }
        } onCancel: {
            cancellation.cancel()
        }
    }

    /// The blocking exchange (on a client thread).
    private func perform(_ request: Request, addresses given: [IPAddress], reader: HTTPResponseReader, deadline: Deadline,
                         cancellation: RequestCancellation) -> Outcome {
        var reader = reader
        guard !cancellation.isCancelled else { return Outcome(response: reader, failure: .cancelled, reusedConnection: false) }
        guard let head = request.head else {
            return Outcome(response: reader, failure: .invalidRequest("the request has bytes that would break its head"),
                           reusedConnection: false)
        }
        var addresses = given
        if addresses.isEmpty {
            addresses = IPAddress.resolveBlocking(request.host, countMax: 8)
            guard !addresses.isEmpty else { return Outcome(response: reader, failure: .unresolved, reusedConnection: false) }
        }
        let key = "\(request.hostHeader)|\(request.port)"
        let connection: HTTPClientConnection
        var reused = false
        if let pooled = take(key) {
            connection = pooled
            reused = true
        } else {
            do {
                connection = try Self.connect(addresses, port: request.port, deadlineNs: deadline.nextNs(), cancellation: cancellation)
            } catch {
                return Outcome(response: reader, failure: Self.failure(error, reused: false), reusedConnection: false)
            }
        }
        connection.requestCount += 1
        let sent: Result<Void, HTTPClientConnection.Failure> = head.withUnsafeBytes { headBytes in
            request.body.withUnsafeBytes { bodyBytes in
                Result { () throws(HTTPClientConnection.Failure) in
                    try connection.sendAll(head: headBytes, body: bodyBytes, deadline: deadline, cancellation: cancellation)
                }
            }
        }
        if case .failure(let error) = sent {
            return Outcome(response: reader, failure: Self.failure(error, reused: reused), reusedConnection: reused)
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 1)
        defer { buffer.deallocate() }
        var leftover = false
        while !reader.isComplete {
            let count: Int
            do {
                count = try connection.receive(into: buffer, deadlineNs: deadline.nextNs(), cancellation: cancellation)
            } catch {
                return Outcome(response: reader, failure: Self.failure(error, reused: reused), reusedConnection: reused)
            }
            if count == 0 {
                if reader.finishAtClose() { break }
                let detail: String
                if let status = reader.statusCode {
                    detail = "in the middle of a \(status) response after \(reader.bodyBytes) body bytes"
                } else {
                    detail = (reader.hasStarted ? "in the middle of the response head" : "without a response")
                        + (reused ? Self.reusedNote : "")
                }
                return Outcome(response: reader, failure: .closed(detail), reusedConnection: reused)
            }
            do {
                let used = try reader.consume(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
                if used < count { leftover = true }
            } catch {
                return Outcome(response: reader, failure: .malformed(error.reason), reusedConnection: reused)
            }
        }
        if reader.keepsConnection, !leftover, !cancellation.isCancelled {
            put(connection, key: key)
        }
        return Outcome(response: reader, failure: nil, reusedConnection: reused)
    }

    private static func failure(_ failure: HTTPClientConnection.Failure, reused: Bool) -> Failure {
        switch failure {
        case .timedOut: .timedOut
        case .cancelled: .cancelled
        case .closed(let detail): .closed(detail + (reused ? reusedNote : ""))
        case .network(let detail): .network(detail)
        }
    }

    private static func connect(_ addresses: [IPAddress], port: Int, deadlineNs: UInt64,
                                cancellation: RequestCancellation) throws(HTTPClientConnection.Failure) -> HTTPClientConnection {
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

    /// Keeps `connection` for the next request to `key`, within the pool's limits.
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
                // Once a second, or when full: drop every connection past its idle time (their peers are
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
