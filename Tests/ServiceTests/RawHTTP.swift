import Crypto
import Foundation
import Glibc
import JSON

/// HTTP/1.1 on fresh sockets, for tests where URLSession's connection pool or its retries would hide
/// what a new client sees: one exchange per connection (`Connection: close`), every call with a
/// deadline, blocking work on a Dispatch thread (never on the cooperative pool).
enum RawHTTP {
    struct Reply: Sendable {
        let status: Int
        let head: String
        let body: JSONValue?

        /// `error.code` of an error body.
        var errorCode: String? { body?["error"]?["code"]?.stringValue }
    }

    /// The port of a base URL such as `http://127.0.0.1:8787`.
    static func port(of base: String) -> UInt16 { UInt16(base.split(separator: ":").last ?? "") ?? 0 }

    /// One request on a new connection; nil when it could not connect or no whole response arrived
    /// within `timeoutSeconds`.
    static func exchange(port: UInt16, _ method: String, _ path: String, headers: [(String, String)] = [],
                         body: String = "", timeoutSeconds: Double = 10) async -> Reply? {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: blockingExchange(port: port, method, path, headers: headers, body: body,
                                                                timeoutSeconds: timeoutSeconds))
            }
        }
    }

    static func blockingExchange(port: UInt16, _ method: String, _ path: String, headers: [(String, String)],
                                 body: String, timeoutSeconds: Double) -> Reply? {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var timeout = timeval(tv_sec: Int(timeoutSeconds), tv_usec: Int((timeoutSeconds - timeoutSeconds.rounded(.down)) * 1e6))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard connect(descriptor, port: port) == 0 else { return nil }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: \(body.utf8.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        let request = Array((head + "\r\n" + body).utf8)
        var sent = 0
        while sent < request.count {
            let count = request[sent...].withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break } // the server stopped reading (it answered early, as after a 413): read what it said
            sent += count
        }
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while Date() < deadline {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            received += buffer[0..<count]
        }
        let text = String(decoding: received, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n"),
              let status = Int(text.split(separator: " ", maxSplits: 2).dropFirst().first ?? "") else { return nil }
        let headText = String(text[..<split.lowerBound])
        let length = headText.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
        let bodyBytes = Array(text[split.upperBound...].utf8)
        guard bodyBytes.count >= length else { return nil }
        return Reply(status: status, head: headText, body: try? JSONParser.parse(Array(bodyBytes.prefix(length))))
    }

    struct Failure: Error, CustomStringConvertible { let description: String }

    /// One request to `url` (`http://127.0.0.1:PORT/path?query`) with an optional bearer token or basic
    /// credentials: its status and JSON body. For tests against a `serve` child where URLSession gets in the
    /// way (on Linux it answers a 401 carrying `WWW-Authenticate: Basic` with an authentication round of its
    /// own that never completes). 30 s deadline.
    /// - Throws: `Failure` when the URL has no port or no whole response arrived.
    static func request(_ method: String, _ url: String, token: String? = nil, basic: String? = nil, body: String? = nil,
                        contentType: String = "application/json") async throws -> (Int, JSONValue?) {
        guard let parsed = URL(string: url), let port = parsed.port else { throw Failure(description: "not a URL with a port: \(url)") }
        var target = parsed.path.isEmpty ? "/" : parsed.path
        if let query = parsed.query { target += "?" + query }
        var headers: [(String, String)] = []
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        if let basic { headers.append(("Authorization", "Basic \(Base64.encode(Array(basic.utf8)))")) }
        if body != nil { headers.append(("Content-Type", contentType)) }
        guard let reply = await exchange(port: UInt16(port), method, target, headers: headers, body: body ?? "", timeoutSeconds: 30) else {
            throw Failure(description: "no whole response to \(method) \(target)")
        }
        return (reply.status, reply.body)
    }

    /// Opens `count` connections that send nothing (non-blocking connects, not waited for); the caller
    /// closes the returned descriptors.
    static func holdConnections(port: UInt16, count: Int) -> [Int32] {
        var held: [Int32] = []
        for _ in 0..<count {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard descriptor >= 0 else { break }
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
            _ = connect(descriptor, port: port)
            held.append(descriptor)
        }
        return held
    }

    private static func connect(_ descriptor: Int32, port: UInt16) -> Int32 {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }
}
