import HTTPServer

/// Reads one HTTP/1.1 response from the bytes a connection produced, incrementally: the status line and
/// headers, then the body as its framing says (`Content-Length`, `chunked`, or until the connection closes).
/// A pure value: no sockets, so every receiver answer (absurd, malformed, cut) is testable.
///
/// ```
///  HTTP/1.1 200 OK\r\n            status line      (at most headSizeBytesMax with the headers)
///  Content-Length: 5\r\n          headers          (at most headerCountMax)
///  \r\n
///  hello                          body             (first bodyPrefixSizeBytesMax kept, at most
///                                                   bodySizeBytesMax read to keep the connection)
/// ```
///
/// Informational answers (`1xx`) before the final one are skipped. The answer to a `HEAD` request has no body
/// whatever its `Content-Length` says (`expectsNoBody`). A body longer than `bodySizeBytesMax`
/// ends the read early: the status and the kept prefix count, the connection is not reused.
package struct HTTPResponseReader: Sendable {
    /// Why a response could not be read.
    package struct Malformed: Error, Equatable, Sendable, CustomStringConvertible {
        package let reason: String
        package init(reason: String) { self.reason = reason }
        package var description: String { reason }
    }

    package enum Framing: Equatable, Sendable {
        case contentLength(Int)
        case chunked
        /// No length: the body ends when the peer closes (the connection cannot be reused).
        case untilClose
        case none
    }

    private enum Phase: Equatable {
        case head
        case body
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailer
        case done
    }

    package static let headSizeBytesMax = 16 << 10
    package static let headerCountMax = 100
    package static let chunkLineSizeBytesMax = 1024

    /// Bytes of the body kept for the history.
    package let bodyPrefixSizeBytesMax: Int
    /// Body bytes read at most (to reuse the connection); past that the read stops.
    package let bodySizeBytesMax: Int
    /// The final response's header fields (names lower-cased, values trimmed) are kept in `headers`.
    package let keepsHeaders: Bool
    /// The request was `HEAD`: the response has no body, whatever its framing headers say.
    package let expectsNoBody: Bool

    package private(set) var statusCode: Int?
    package private(set) var retryAfter: String?
    package private(set) var framing = Framing.none
    /// The connection may carry another request after this response.
    package private(set) var keepsConnection = false
    package private(set) var bodyPrefix: [UInt8] = []
    /// Body bytes received so far (chunk framing excluded).
    package private(set) var bodyBytes = 0
    /// The body went past `bodySizeBytesMax` and the read stopped there.
    package private(set) var stoppedEarly = false
    /// The final response's header fields in order, when `keepsHeaders` (at most `headerCountMax`).
    package private(set) var headers: [(name: String, value: String)] = []

    private var phase = Phase.head
    private var pending: [UInt8] = []
    private var lineLength = 0

    /// - Parameters:
    ///   - bodyPrefixSizeBytesMax: body bytes kept in `bodyPrefix`.
    ///   - bodySizeBytesMax: body bytes read at most (at least `bodyPrefixSizeBytesMax`); past that the read stops.
    ///   - keepsHeaders: keep every header field of the final response in `headers`.
    ///   - expectsNoBody: the request was `HEAD`.
    package init(bodyPrefixSizeBytesMax: Int, bodySizeBytesMax: Int, keepsHeaders: Bool = false, expectsNoBody: Bool = false) {
        self.bodyPrefixSizeBytesMax = bodyPrefixSizeBytesMax
        self.bodySizeBytesMax = max(bodyPrefixSizeBytesMax, bodySizeBytesMax)
        self.keepsHeaders = keepsHeaders
        self.expectsNoBody = expectsNoBody
    }

    /// The value of the first field named `name` (lower case), when `keepsHeaders`.
    package func header(_ name: String) -> String? {
        headers.first { $0.name == name }?.value
    }

    /// True when `bodyPrefix` holds the whole body read (nothing beyond `bodyPrefixSizeBytesMax` arrived).
    package var keptWholeBody: Bool { !stoppedEarly && bodyBytes == bodyPrefix.count }

    /// True once the response is complete (or the read stopped on purpose).
    package var isComplete: Bool { phase == .done }

    /// True once any byte of a final response's status line arrived.
    package var hasStarted: Bool { statusCode != nil || !pending.isEmpty }

    /// Takes the next bytes the connection produced. Returns the count of bytes used (the rest would belong to
    /// a next response, which a well-behaved peer never sends unasked).
    /// - Throws: `Malformed` for a response that breaks HTTP/1.1 or our limits.
    @discardableResult
    package mutating func consume(_ bytes: UnsafeRawBufferPointer) throws(Malformed) -> Int {
        var index = 0
        while index < bytes.count, phase != .done {
            switch phase {
            case .head:
                // Accumulate until the blank line.
                let byte = bytes[index]
                index += 1
                pending.append(byte)
                guard pending.count <= Self.headSizeBytesMax else { throw Malformed(reason: "response head over \(Self.headSizeBytesMax) bytes") }
                if byte == UInt8(ascii: "\n"), pending.count >= 2, pending.suffix(4) == [13, 10, 13, 10] || pending.suffix(2) == [10, 10] {
                    try parseHead()
                }
            case .body:
                let available = bytes.count - index
                let want: Int
                switch framing {
                case .contentLength(let length): want = min(available, length - bodyBytes)
                default: want = available
                }
                take(UnsafeRawBufferPointer(rebasing: bytes[index..<(index + want)]))
                index += want
                if case .contentLength(let length) = framing, bodyBytes == length { phase = .done }
                if phase != .done, bodyBytes >= bodySizeBytesMax { stop() }
            case .chunkSize, .chunkDataEnd, .trailer:
                let byte = bytes[index]
                index += 1
                lineLength += 1
                guard lineLength <= Self.chunkLineSizeBytesMax else { throw Malformed(reason: "chunk line over \(Self.chunkLineSizeBytesMax) bytes") }
                if byte != UInt8(ascii: "\n") {
                    pending.append(byte)
                    continue
                }
                var line = pending
                pending = []
                lineLength = 0
                if line.last == 13 { line.removeLast() }
                try endOfLine(line)
            case .chunkData(let remaining):
                let want = min(bytes.count - index, remaining)
                take(UnsafeRawBufferPointer(rebasing: bytes[index..<(index + want)]))
                index += want
                phase = remaining - want == 0 ? .chunkDataEnd : .chunkData(remaining: remaining - want)
                if phase != .done, bodyBytes >= bodySizeBytesMax { stop() }
            case .done:
                break
            }
        }
        return index
    }

    /// The peer closed the connection: completes a body framed by the close.
    /// - Returns: true when the response is complete.
    package mutating func finishAtClose() -> Bool {
        if phase == .body, framing == .untilClose { phase = .done }
        return phase == .done
    }

    private mutating func take(_ bytes: UnsafeRawBufferPointer) {
        let room = bodyPrefixSizeBytesMax - bodyPrefix.count
        if room > 0 { bodyPrefix.append(contentsOf: bytes.prefix(room)) }
        bodyBytes += bytes.count
    }

    private mutating func stop() {
        stoppedEarly = true
        keepsConnection = false
        phase = .done
    }

    private mutating func endOfLine(_ line: [UInt8]) throws(Malformed) {
        switch phase {
        case .chunkSize:
            let digits = line.prefix { $0 != UInt8(ascii: ";") && $0 != UInt8(ascii: " ") && $0 != 9 }
            guard !digits.isEmpty, digits.count <= 15 else { throw Malformed(reason: "chunk size missing or too long") }
            var size = 0
            for digit in digits {
                guard let value = Self.hexValue(digit) else { throw Malformed(reason: "chunk size is not hexadecimal") }
                size = size * 16 + value
            }
            phase = size == 0 ? .trailer : .chunkData(remaining: size)
        case .chunkDataEnd:
            guard line.isEmpty else { throw Malformed(reason: "chunk data not followed by CRLF") }
            phase = .chunkSize
        case .trailer:
            if line.isEmpty { phase = .done }
        default:
            break
        }
    }

    private static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): Int(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): Int(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    private mutating func parseHead() throws(Malformed) {
        let head = pending
        pending = []
        var lines = head.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { line -> ArraySlice<UInt8> in
            line.last == 13 ? line.dropLast() : line
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        guard let statusLine = lines.first else { throw Malformed(reason: "empty response head") }
        // "HTTP/1.1 200 Reason"
        let parts = statusLine.split(separator: UInt8(ascii: " "), maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].starts(with: Array("HTTP/1.".utf8)), parts[0].count == 8,
              parts[1].count == 3, parts[1].allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
              let status = Int(String(decoding: parts[1], as: UTF8.self)), status >= 100 else {
            throw Malformed(reason: "malformed status line")
        }
        let minorVersion = parts[0].last!
        guard lines.count - 1 <= Self.headerCountMax else { throw Malformed(reason: "more than \(Self.headerCountMax) response headers") }
        var contentLength: Int?
        var chunked = false
        var close = minorVersion == UInt8(ascii: "0")
        var retryAfter: String?
        var fields: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex else {
                throw Malformed(reason: "malformed response header line")
            }
            let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self).lowercased()
            let value = String(ASCII.trimmed(Substring(decoding: line[(colon + 1)...], as: UTF8.self)))
            if keepsHeaders { fields.append((name, value)) }
            switch name {
            case "content-length":
                guard value.utf8.count <= 18, !value.isEmpty, value.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
                      let length = Int(value) else { throw Malformed(reason: "invalid Content-Length") }
                if let earlier = contentLength, earlier != length { throw Malformed(reason: "conflicting Content-Length headers") }
                contentLength = length
            case "transfer-encoding":
                let codings = value.lowercased().split(separator: ",").map { String(ASCII.trimmed($0)) }
                if codings.last == "chunked" { chunked = true } else { throw Malformed(reason: "unsupported Transfer-Encoding") }
            case "connection":
                let options = value.lowercased().split(separator: ",").map { String(ASCII.trimmed($0)) }
                if options.contains("close") { close = true }
            case "retry-after":
                retryAfter = String(value.prefix(64))
            default:
                break
            }
        }
        if status < 200 {
            // 101 would switch protocols, which a webhook POST never asks for.
            guard status != 101 else { throw Malformed(reason: "unexpected 101 Switching Protocols") }
            return // an informational answer: the final one follows
        }
        statusCode = status
        self.retryAfter = retryAfter
        headers = fields
        if status == 204 || status == 304 || expectsNoBody {
            framing = .none
        } else if chunked {
            framing = .chunked
            close = close || contentLength != nil // both present: RFC 9112 §6.3 says close after
        } else if let contentLength {
            framing = .contentLength(contentLength)
        } else {
            framing = .untilClose
            close = true
        }
        keepsConnection = !close
        switch framing {
        case .none, .contentLength(0): phase = .done
        case .contentLength(let length):
            // Room for the announced body (what will be kept of it, at most 64 MiB ahead: a length is a claim).
            bodyPrefix.reserveCapacity(min(length, bodyPrefixSizeBytesMax, 64 << 20))
            phase = .body
        case .untilClose: phase = .body
        case .chunked: phase = .chunkSize
        }
    }
}
