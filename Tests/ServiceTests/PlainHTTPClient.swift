import Crypto
import Foundation
import JSON
#if canImport(Glibc)
import Glibc
#endif

/// One HTTP/1.1 request over a fresh socket to 127.0.0.1 (`Connection: close`), read to the end.
///
/// For tests against a `serve` child where URLSession gets in the way: its Linux implementation answers a
/// 401 carrying `WWW-Authenticate: Basic` with an authentication round of its own that never completes, and
/// a test waiting for it hangs. Blocking socket calls run on a thread of their own (never the cooperative
/// pool) with 30 s send and receive timeouts.
enum PlainHTTPClient {
    struct Failure: Error, CustomStringConvertible { let description: String }

    static func request(_ method: String, _ url: String, token: String? = nil, basic: String? = nil, body: String? = nil,
                        contentType: String = "application/json") async throws -> (Int, JSONValue?) {
        guard let parsed = URL(string: url), let port = parsed.port else { throw Failure(description: "not a URL with a port: \(url)") }
        var target = parsed.path.isEmpty ? "/" : parsed.path
        if let query = parsed.query { target += "?" + query }
        var head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        if let token { head += "Authorization: Bearer \(token)\r\n" }
        if let basic { head += "Authorization: Basic \(Base64.encode(Array(basic.utf8)))\r\n" }
        let bodyBytes = Array((body ?? "").utf8)
        if body != nil { head += "Content-Type: \(contentType)\r\n" }
        head += "Content-Length: \(bodyBytes.count)\r\n\r\n"
        let message = Array(head.utf8) + bodyBytes
        let answer: [UInt8] = try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try exchange(message, port: UInt16(port)) }) }
            thread.start()
        }
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard let split = (0..<max(0, answer.count - 3)).first(where: { Array(answer[$0..<($0 + 4)]) == separator }) else {
            throw Failure(description: "no complete response head in \(answer.count) bytes")
        }
        let statusLine = String(decoding: answer[..<split], as: UTF8.self).split(separator: "\r\n").first ?? ""
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { throw Failure(description: "bad status line \(statusLine)") }
        return (status, try? JSONParser.parse(Array(answer[(split + 4)...])))
    }

    /// Sends `message` and reads until the server closes; a server that closes early (after a 413) is fine.
    private static func exchange(_ message: [UInt8], port: UInt16) throws -> [UInt8] {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        defer { close(descriptor) }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(port.bigEndian)
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure(description: "connect to port \(port): errno \(errno)") }
        var offset = 0
        while offset < message.count {
            let sent = message.withUnsafeBytes { send(descriptor, $0.baseAddress! + offset, message.count - offset, Int32(MSG_NOSIGNAL)) }
            if sent < 0 && errno == EINTR { continue }
            if sent <= 0 { break }  // the server stopped reading (it answered early); read what it said
            offset += sent
        }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress!, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            if count < 0 && answer.isEmpty { throw Failure(description: "recv: errno \(errno)") }
            if count <= 0 { break }
            answer += buffer[0..<count]
        }
        return answer
    }
}
