import Foundation
import Glibc
import Testing
@testable import HTTPServer

/// A test failure with a message.
struct TestFailure: Error, CustomStringConvertible {
    let description: String
    /// The errno of the failed socket call, when one failed.
    var errorNumber: Int32?
    init(_ description: String, errorNumber: Int32? = nil) {
        self.description = description
        self.errorNumber = errorNumber
    }

    /// The peer closed or reset the connection while we wrote (EPIPE, ECONNRESET).
    var isCutShortByPeer: Bool { errorNumber == EPIPE || errorNumber == ECONNRESET }
}

/// Runs blocking socket code on a thread of its own, so it never occupies the Swift
/// concurrency pool that the server's handlers need.
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.stackSize = 1 << 20
        thread.start()
    }
}

/// A handler from a closure.
struct ClosureHandler: HTTPHandler {
    let body: @Sendable (HTTPRequest) async -> HTTPResponse
    init(_ body: @escaping @Sendable (HTTPRequest) async -> HTTPResponse) { self.body = body }
    func handle(_ request: HTTPRequest) async -> HTTPResponse { await body(request) }
}

/// Answers `<method> <path> <body bytes>` as text, and echoes the body in `X-Body-Count`.
let echoHandler = ClosureHandler { request in
    var response = HTTPResponse.text(200, "\(request.method) \(request.path) \(request.body.count)")
    response.headers.add("X-Body-Count", String(request.body.count))
    return response
}

/// Starts a server on 127.0.0.1 port 0, runs `body` with its port, and shuts it down.
func withServer(_ configure: (inout HTTPServerConfiguration) -> Void = { _ in },
                handler: any HTTPHandler = echoHandler,
                _ body: (Int) async throws -> Void) async throws {
    var configuration = HTTPServerConfiguration()
    configuration.host = "127.0.0.1"
    configuration.port = 0
    configure(&configuration)
    let server = HTTPServer(configuration: configuration, handler: handler)
    let port = try server.start()
    do {
        try await body(port)
    } catch {
        await server.shutdown(graceSeconds: 1)
        throw error
    }
    await server.shutdown(graceSeconds: 1)
}

/// One parsed response.
struct TestResponse: Sendable {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The `code` of a JSON error body.
    var errorCode: String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
              let error = object["error"] as? [String: Any] else { return nil }
        return error["code"] as? String
    }
}

/// A blocking client socket with exact control over the bytes; reads time out.
///
/// `@unchecked Sendable`: a test hands a client from one thread to the next but never uses it
/// from two threads at once.
final class TestClient: @unchecked Sendable {
    let descriptor: Int32
    private var buffer: [UInt8] = []

    init(port: Int, host: String = "127.0.0.1", timeoutSeconds: Double = 10, receiveBufferBytes: Int? = nil) throws {
        let family = host.contains(":") ? AF_INET6 : AF_INET
        descriptor = socket(family, Int32(SOCK_STREAM.rawValue), 0)
        if descriptor < 0 { throw TestFailure("socket: errno \(errno)") }  // deinit's close(-1) is harmless
        var timeout = timeval(tv_sec: Int(timeoutSeconds), tv_usec: Int((timeoutSeconds - Double(Int(timeoutSeconds))) * 1e6))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        if var size = receiveBufferBytes.map(Int32.init) {
            setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        let connected: Int32
        if family == AF_INET6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = in_port_t(UInt16(port).bigEndian)
            inet_pton(AF_INET6, host, &address.sin6_addr)
            connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            inet_pton(AF_INET, host, &address.sin_addr)
            connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        if connected != 0 {
            // deinit closes the socket (it runs for a class whose throwing init had set every
            // property): closing it here too would close whatever file reused the number.
            throw TestFailure("connect: errno \(errno)")
        }
    }

    deinit { Glibc.close(descriptor) }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { raw in
                Glibc.send(descriptor, raw.baseAddress.map { $0 + offset }, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent < 0 {
                let code = errno
                if code == EINTR { continue }
                throw TestFailure("send: errno \(code)", errorNumber: code)
            }
            offset += sent
        }
    }

    /// Reads more bytes into the buffer; returns false at end of stream (or reset).
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let received = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if received > 0 {
                buffer += chunk[0..<received]
                return true
            }
            if received == 0 { return false }
            switch errno {
            case EINTR: continue
            case ECONNRESET: return false
            case EAGAIN: throw TestFailure("read timed out")
            default: throw TestFailure("recv: errno \(errno)")
            }
        }
    }

    /// Reads one response (a 1xx counts as one). `hasBody: false` for answers to HEAD.
    func readResponse(hasBody: Bool = true) throws -> TestResponse {
        var headEnd: Int?
        while headEnd == nil {
            if buffer.count >= 4 {
                for index in 0...(buffer.count - 4) where buffer[index] == 13 && buffer[index + 1] == 10
                    && buffer[index + 2] == 13 && buffer[index + 3] == 10 {
                    headEnd = index
                    break
                }
            }
            if headEnd != nil { break }
            guard try fill() else { throw TestFailure("connection closed before a response head (\(buffer.count) bytes)") }
        }
        guard let end = headEnd else { throw TestFailure("no response head") }
        let lines = String(decoding: buffer[0..<end], as: UTF8.self).components(separatedBy: "\r\n")
        buffer.removeFirst(end + 4)
        let statusParts = lines[0].split(separator: " ", maxSplits: 2)
        guard statusParts.count >= 2, statusParts[0] == "HTTP/1.1", let status = Int(statusParts[1]) else {
            throw TestFailure("bad status line \(lines[0])")
        }
        var headers: [(String, String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { throw TestFailure("bad header \(line)") }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        var response = TestResponse(status: status, headers: headers, body: [])
        if status < 200 || status == 204 || status == 304 || !hasBody { return response }
        guard let lengthText = response.header("Content-Length"), let length = Int(lengthText) else {
            throw TestFailure("response without Content-Length")
        }
        while buffer.count < length {
            guard try fill() else { throw TestFailure("connection closed inside a body") }
        }
        response.body = Array(buffer[0..<length])
        buffer.removeFirst(length)
        return response
    }

    /// Sends `request` and reads the response. A send the server cut short (it answered early, as with a 413, and
    /// closed while the rest of the request was on its way: EPIPE or ECONNRESET) is the same refusal: the answer
    /// sent before the close is read; with none, `readResponse` fails.
    func exchange(_ request: String) throws -> TestResponse {
        do {
            try send(request)
        } catch let failure as TestFailure where failure.isCutShortByPeer {}
        return try readResponse()
    }

    /// Reads until the server closes; returns the bytes that arrived (throws on timeout).
    func readUntilClosed() throws -> [UInt8] {
        while try fill() {}
        defer { buffer = [] }
        return buffer
    }

    /// Whether the server has closed the connection (waits up to the read timeout).
    func isClosedByServer() -> Bool {
        (try? readUntilClosed()) != nil
    }
}

/// A plain GET for `path`.
func get(_ path: String, _ extraHeaders: String = "") -> String {
    "GET \(path) HTTP/1.1\r\nHost: test\r\n\(extraHeaders)\r\n"
}

/// A POST of `body` to `path` with Content-Length.
func post(_ path: String, _ body: String, _ extraHeaders: String = "") -> String {
    "POST \(path) HTTP/1.1\r\nHost: test\r\nContent-Length: \(body.utf8.count)\r\n\(extraHeaders)\r\n\(body)"
}
