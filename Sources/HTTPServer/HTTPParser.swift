#if canImport(Glibc)
import Glibc
#endif

/// An incremental HTTP/1.1 request parser (RFC 9112) for one connection.
///
/// Feed it the connection's unconsumed bytes; each ``parse(_:)`` reports how many it consumed
/// and what happened. Head bytes are consumed only once the whole head has arrived (a partial
/// head stays in the caller's buffer, and scanning resumes where it stopped); body bytes are
/// consumed as they arrive and collected, de-chunked, into the request.
///
/// Strict where leniency enables request smuggling: CRLF line endings only, no obs-fold, no
/// whitespace before a field colon, no control characters, `Content-Length` all digits and
/// consistent, `Transfer-Encoding` only `chunked` and never together with `Content-Length`.
struct HTTPParser {
    /// A parsed request line and header section.
    struct Head: Sendable {
        var method: String
        var target: String
        var path: String
        var query: [(String, String)]
        var headers: HTTPHeaders
        /// 0 for HTTP/1.0, 1 for HTTP/1.1 (and later 1.x).
        var versionMinor: Int
        /// Whether the connection may stay open after this request.
        var keepAlive: Bool
        /// `Expect: 100-continue` on an HTTP/1.1 request.
        var expectsContinue: Bool
    }

    /// A complete request.
    struct Request: Sendable {
        var head: Head
        var body: [UInt8]
    }

    enum Event {
        /// Everything consumed so far belongs to an unfinished request (or nothing arrived).
        case needMore
        /// The head asked for `100 Continue` and no body byte has arrived: send it, then parse on.
        case continueExpected
        /// A whole request; parsing may continue with the next one.
        case complete(Request)
        /// The request is refused; answer the error and close. The parser stays failed.
        case failure(HTTPParseError)
    }

    struct Step {
        /// Bytes of the input that were used; drop them before the next call.
        var consumed: Int
        var event: Event
    }

    private enum State {
        case head(scannedBytes: Int)
        case fixedBody(remainingBytes: Int)
        case chunkSize
        case chunkData(remainingBytes: Int)
        case chunkDataEnd
        case trailers(scannedBytes: Int)
        case failed
    }

    private enum HeadEnd {
        case found(Int)
        case notFound
        case bareLineFeed
    }

    /// The longest chunk-size line (size and extensions) in bytes.
    static let chunkLineBytesMax = 4096
    /// The most body bytes reserved up front from a `Content-Length`; more grows as data arrives.
    static let bodyReserveBytesMax = 64 * 1024
    /// The most empty lines (CRLF) accepted before a request line.
    static let emptyLineCountMax = 2

    let headSizeBytesMax: Int
    let bodySizeBytesMax: @Sendable (String, String) -> Int

    private var state = State.head(scannedBytes: 0)
    private var head: Head?
    /// The header fields of the last head parsed: a field sent again with the same bytes reuses its
    /// strings, and a head whose fields all repeat reuses the whole value (a keep-alive client sends
    /// the same fields, token included, on every request: no allocation for them).
    private(set) var previousHeaders = HTTPHeaders()
    /// The most header fields kept in `previousHeaders`.
    static let reusedFieldCountMax = 64
    private var body: [UInt8] = []
    private var bodyLimitBytes = 0
    /// Empty lines consumed before the current request line.
    private var emptyLineCount = 0

    init(headSizeBytesMax: Int, bodySizeBytesMax: @escaping @Sendable (String, String) -> Int) {
        self.headSizeBytesMax = headSizeBytesMax
        self.bodySizeBytesMax = bodySizeBytesMax
    }

    /// Whether the parser waits for a new request (nothing of a next one consumed yet, not even
    /// an empty line).
    var isBetweenRequests: Bool {
        if case .head = state { return emptyLineCount == 0 }
        return false
    }

    /// Whether the parser is still reading a request head (or waiting for one).
    var isReadingHead: Bool {
        if case .head = state { return true }
        return false
    }

    /// The head of the request whose body is being read (or was refused), if any.
    var currentHead: Head? { head }

    /// Parses as much of `bytes` as possible; stops at the end of one request.
    mutating func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Step {
        var offset = 0
        while true {
            let available = bytes.count - offset
            switch state {
            case .failed:
                return Step(consumed: offset, event: .needMore)

            case .head(let scanned):
                if scanned == 0 {
                    // Empty lines before a request line are ignored (RFC 9112 §2.2), but at most
                    // `emptyLineCountMax` of them: a peer cannot hold a connection open with CRLFs.
                    while bytes.count - offset >= 2, bytes[offset] == ASCII.carriageReturn,
                          bytes[offset + 1] == ASCII.lineFeed {
                        offset += 2
                        emptyLineCount += 1
                        if emptyLineCount > Self.emptyLineCountMax {
                            return fail(.badRequest("more than \(Self.emptyLineCountMax) empty lines before a request line"),
                                        consumed: offset)
                        }
                    }
                }
                let remaining = bytes.count - offset
                if remaining == 0 || (scanned == 0 && remaining == 1 && bytes[offset] == ASCII.carriageReturn) {
                    return Step(consumed: offset, event: .needMore)
                }
                let region = UnsafeBufferPointer(rebasing: bytes[offset...])
                switch Self.findHeadEnd(region, from: scanned, limit: headSizeBytesMax) {
                case .bareLineFeed:
                    return fail(.badRequest("line ends with a bare LF"), consumed: offset)
                case .notFound:
                    if remaining >= headSizeBytesMax {
                        return fail(.headerTooLarge(limitBytes: headSizeBytesMax), consumed: offset)
                    }
                    state = .head(scannedBytes: remaining)
                    return Step(consumed: offset, event: .needMore)
                case .found(let end):
                    let parsed: (Head, Framing)
                    switch Self.parseHead(UnsafeBufferPointer(rebasing: region[..<end]), previousHeaders: previousHeaders) {
                    case .success(let value): parsed = value
                    case .failure(let error): return fail(error, consumed: offset)
                    }
                    // Kept while the connection idles: only a head of ordinary size (a head of thousands of
                    // tiny fields would hold far more than its bytes, for nothing).
                    previousHeaders = parsed.0.headers.count <= Self.reusedFieldCountMax ? parsed.0.headers : HTTPHeaders()
                    offset += end
                    head = parsed.0
                    state = .head(scannedBytes: 0)
                    switch parsed.1 {
                    case .none:
                        return complete(consumed: offset)
                    case .length(let length):
                        let limit = bodySizeBytesMax(parsed.0.method, parsed.0.path)
                        if length > limit { return fail(.bodyTooLarge(limitBytes: limit), consumed: offset) }
                        body.reserveCapacity(min(length, Self.bodyReserveBytesMax))
                        state = .fixedBody(remainingBytes: length)
                    case .tooLong:
                        let limit = bodySizeBytesMax(parsed.0.method, parsed.0.path)
                        return fail(.bodyTooLarge(limitBytes: limit), consumed: offset)
                    case .chunked:
                        bodyLimitBytes = bodySizeBytesMax(parsed.0.method, parsed.0.path)
                        state = .chunkSize
                    }
                    if parsed.0.expectsContinue, offset == bytes.count {
                        return Step(consumed: offset, event: .continueExpected)
                    }
                }

            case .fixedBody(let remaining):
                let take = min(remaining, available)
                if take > 0 {
                    body.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[offset..<(offset + take)]))
                    offset += take
                }
                if take == remaining { return complete(consumed: offset) }
                state = .fixedBody(remainingBytes: remaining - take)
                return Step(consumed: offset, event: .needMore)

            case .chunkSize:
                let region = UnsafeBufferPointer(rebasing: bytes[offset...])
                let searched = min(region.count, Self.chunkLineBytesMax)
                guard let lineFeed = Self.indexOfLineFeed(region, from: 0, to: searched) else {
                    if region.count >= Self.chunkLineBytesMax {
                        return fail(.badRequest("chunk size line too long"), consumed: offset)
                    }
                    return Step(consumed: offset, event: .needMore)
                }
                guard lineFeed > 0, region[lineFeed - 1] == ASCII.carriageReturn else {
                    return fail(.badRequest("chunk size line ends with a bare LF"), consumed: offset)
                }
                let size: Int
                switch Self.parseChunkSize(UnsafeBufferPointer(rebasing: region[..<(lineFeed - 1)])) {
                case .success(let value): size = value
                case .failure(let error):
                    if error.status == 413 { return fail(.bodyTooLarge(limitBytes: bodyLimitBytes), consumed: offset) }
                    return fail(error, consumed: offset)
                }
                offset += lineFeed + 1
                if size == 0 {
                    state = .trailers(scannedBytes: 0)
                } else {
                    if size > bodyLimitBytes - body.count {
                        return fail(.bodyTooLarge(limitBytes: bodyLimitBytes), consumed: offset)
                    }
                    state = .chunkData(remainingBytes: size)
                }

            case .chunkData(let remaining):
                let take = min(remaining, available)
                if take > 0 {
                    body.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[offset..<(offset + take)]))
                    offset += take
                }
                if take < remaining {
                    state = .chunkData(remainingBytes: remaining - take)
                    return Step(consumed: offset, event: .needMore)
                }
                state = .chunkDataEnd

            case .chunkDataEnd:
                if available >= 1, bytes[offset] != ASCII.carriageReturn {
                    return fail(.badRequest("chunk data not followed by CRLF"), consumed: offset)
                }
                if available < 2 { return Step(consumed: offset, event: .needMore) }
                if bytes[offset + 1] != ASCII.lineFeed {
                    return fail(.badRequest("chunk data not followed by CRLF"), consumed: offset)
                }
                offset += 2
                state = .chunkSize

            case .trailers(let scanned):
                if available < 2 { return Step(consumed: offset, event: .needMore) }
                let region = UnsafeBufferPointer(rebasing: bytes[offset...])
                if scanned == 0, region[0] == ASCII.carriageReturn, region[1] == ASCII.lineFeed {
                    return complete(consumed: offset + 2)
                }
                switch Self.findHeadEnd(region, from: scanned, limit: headSizeBytesMax) {
                case .bareLineFeed:
                    return fail(.badRequest("trailer line ends with a bare LF"), consumed: offset)
                case .notFound:
                    if region.count >= headSizeBytesMax {
                        return fail(.headerTooLarge(limitBytes: headSizeBytesMax), consumed: offset)
                    }
                    state = .trailers(scannedBytes: region.count)
                    return Step(consumed: offset, event: .needMore)
                case .found(let end):
                    // Trailer fields are read and dropped: nothing here depends on them.
                    return complete(consumed: offset + end)
                }
            }
        }
    }

    private mutating func complete(consumed: Int) -> Step {
        guard let finished = head else { return fail(.badRequest("internal parser state"), consumed: consumed) }
        let request = Request(head: finished, body: body)
        head = nil
        body = []
        bodyLimitBytes = 0
        emptyLineCount = 0
        state = .head(scannedBytes: 0)
        return Step(consumed: consumed, event: .complete(request))
    }

    private mutating func fail(_ error: HTTPParseError, consumed: Int) -> Step {
        state = .failed
        body = []
        return Step(consumed: consumed, event: .failure(error))
    }

    // MARK: - Head

    private enum Framing {
        case none
        case length(Int)
        case tooLong
        case chunked
    }

    /// Finds the end (exclusive, after CRLFCRLF) of a header section within `limit` bytes,
    /// resuming after `scanned` bytes that were searched before. Every LF must follow a CR.
    private static func findHeadEnd(_ region: UnsafeBufferPointer<UInt8>, from scanned: Int, limit: Int) -> HeadEnd {
        let end = min(region.count, limit)
        var searchFrom = max(0, scanned - 3)
        while let lineFeed = indexOfLineFeed(region, from: searchFrom, to: end) {
            if lineFeed == 0 || region[lineFeed - 1] != ASCII.carriageReturn { return .bareLineFeed }
            if lineFeed >= 3, region[lineFeed - 2] == ASCII.lineFeed, region[lineFeed - 3] == ASCII.carriageReturn {
                return .found(lineFeed + 1)
            }
            searchFrom = lineFeed + 1
        }
        return .notFound
    }

    /// The index of the first LF in `region[start..<end]`, or nil.
    @inline(__always)
    private static func indexOfLineFeed(_ region: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> Int? {
        guard start < end, let base = region.baseAddress else { return nil }
        guard let found = memchr(base + start, Int32(ASCII.lineFeed), end - start) else { return nil }
        return UnsafeRawPointer(base).distance(to: UnsafeRawPointer(found))
    }

    /// Parses a complete head (ending in CRLFCRLF) into its fields and the body framing; fields equal
    /// to those at the same positions in `previousHeaders` are taken from there.
    private static func parseHead(_ head: UnsafeBufferPointer<UInt8>, previousHeaders: HTTPHeaders) -> Result<(Head, Framing), HTTPParseError> {
        guard let requestLineEnd = indexOfLineFeed(head, from: 0, to: head.count).map({ $0 - 1 }) else {
            return .failure(.badRequest("missing request line"))
        }
        // Request line: method SP request-target SP HTTP-version.
        var index = 0
        while index < requestLineEnd, ASCII.isTokenByte(head[index]) { index += 1 }
        guard index > 0, index < requestLineEnd, head[index] == ASCII.space else {
            return .failure(.badRequest("malformed request line"))
        }
        let method = String(decoding: UnsafeBufferPointer(rebasing: head[0..<index]), as: UTF8.self)
        let targetStart = index + 1
        index = targetStart
        while index < requestLineEnd, ASCII.isTargetByte(head[index]) { index += 1 }
        guard index > targetStart, index < requestLineEnd, head[index] == ASCII.space else {
            return .failure(.badRequest("malformed request line"))
        }
        let target = String(decoding: UnsafeBufferPointer(rebasing: head[targetStart..<index]), as: UTF8.self)
        let versionMinor: Int
        switch parseVersion(UnsafeBufferPointer(rebasing: head[(index + 1)..<requestLineEnd])) {
        case .success(let minor): versionMinor = minor
        case .failure(let error): return .failure(error)
        }

        // Header fields. Built only from the first field that differs from `previousHeaders` (nil while all repeat).
        var built: HTTPHeaders?
        var fieldCount = 0
        var lineStart = requestLineEnd + 2
        let sectionEnd = head.count - 2
        while lineStart < sectionEnd {
            guard let lineFeed = indexOfLineFeed(head, from: lineStart, to: head.count) else {
                return .failure(.badRequest("malformed header section"))
            }
            let lineEnd = lineFeed - 1
            let first = head[lineStart]
            if first == ASCII.space || first == ASCII.tab {
                return .failure(.badRequest("obsolete line folding is not accepted"))
            }
            var nameEnd = lineStart
            while nameEnd < lineEnd, ASCII.isTokenByte(head[nameEnd]) { nameEnd += 1 }
            guard nameEnd > lineStart, nameEnd < lineEnd, head[nameEnd] == ASCII.colon else {
                return .failure(.badRequest("invalid header field name"))
            }
            var valueStart = nameEnd + 1
            var valueEnd = lineEnd
            while valueStart < valueEnd, head[valueStart] == ASCII.space || head[valueStart] == ASCII.tab {
                valueStart += 1
            }
            while valueEnd > valueStart, head[valueEnd - 1] == ASCII.space || head[valueEnd - 1] == ASCII.tab {
                valueEnd -= 1
            }
            var position = valueStart
            while position < valueEnd {
                if !ASCII.isFieldValueByte(head[position]) {
                    return .failure(.badRequest("invalid character in header field value"))
                }
                position += 1
            }
            let name = UnsafeBufferPointer(rebasing: head[lineStart..<nameEnd])
            let value = UnsafeBufferPointer(rebasing: head[valueStart..<valueEnd])
            let repeated = fieldCount < previousHeaders.count
                && Self.equal(previousHeaders.field(at: fieldCount).name, name)
                && Self.equal(previousHeaders.field(at: fieldCount).value, value)
            if built == nil, !repeated {
                // One field per line: the line feeds of the head bound the count (no regrowth while adding),
                // at most 64 (a head of bare line feeds must not reserve room for thousands).
                built = previousHeaders.prefix(fieldCount, reservingCapacity: min(Self.reusedFieldCountMax, head.reduce(0) { $1 == ASCII.lineFeed ? $0 + 1 : $0 }))
            }
            if built != nil {
                if repeated {
                    let field = previousHeaders.field(at: fieldCount)
                    built?.add(field.name, field.value)
                } else {
                    built?.add(String(decoding: name, as: UTF8.self), fieldValue(value))
                }
            }
            fieldCount += 1
            lineStart = lineFeed + 1
        }
        let headers = built ?? (fieldCount == previousHeaders.count ? previousHeaders
                                                                    : previousHeaders.prefix(fieldCount, reservingCapacity: fieldCount))

        guard let parts = RequestTarget.parse(target, strict: true) else {
            return .failure(.badRequest("invalid request target"))
        }
        return interpret(method: method, target: target, parts: parts, headers: headers, versionMinor: versionMinor)
    }

    /// Field values so common that they are not copied: each is a literal (names and other values up to
    /// 15 bytes are stored inline in their `String`, so they cost no allocation either).
    private static let commonFieldValues: [String] = ["application/json"]

    /// The text of a field value (`bytes` as UTF-8, invalid sequences repaired): a common value's
    /// literal, else a new string.
    private static func fieldValue(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        for common in commonFieldValues where common.utf8.count == bytes.count && common.utf8.elementsEqual(bytes) {
            return common
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether `text` is exactly the bytes `bytes`.
    private static func equal(_ text: String, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let utf8 = text.utf8
        guard utf8.count == bytes.count else { return false }
        return utf8.withContiguousStorageIfAvailable { stored in
            bytes.isEmpty || memcmp(stored.baseAddress.unsafelyUnwrapped, bytes.baseAddress.unsafelyUnwrapped, bytes.count) == 0
        } ?? utf8.elementsEqual(bytes)
    }

    /// `HTTP/1.1` is 1, `HTTP/1.0` is 0, later 1.x count as 1; another major version is 505.
    private static func parseVersion(_ version: UnsafeBufferPointer<UInt8>) -> Result<Int, HTTPParseError> {
        guard version.count == 8, version.prefix(5).elementsEqual("HTTP/".utf8), version[6] == 0x2E,
              (0x30...0x39).contains(version[5]), (0x30...0x39).contains(version[7]) else {
            return .failure(.badRequest("malformed HTTP version"))
        }
        guard version[5] == 0x31 else { return .failure(.versionNotSupported) }
        return .success(version[7] == 0x30 ? 0 : 1)
    }

    /// Reads the framing and connection fields of a parsed head.
    private static func interpret(method: String, target: String, parts: RequestTarget, headers: HTTPHeaders,
                                  versionMinor: Int) -> Result<(Head, Framing), HTTPParseError> {
        var contentLength: Int?
        var contentLengthTooLong = false
        var codings: [Substring] = []
        var hasTransferEncoding = false
        var connectionClose = false
        var connectionKeepAlive = false
        var expectsContinue = false
        for (name, value) in headers {
            switch name.utf8.count {
            case 14 where ASCII.equalIgnoringCase(name, "content-length"):
                if let error = readContentLength(value, into: &contentLength, tooLong: &contentLengthTooLong) {
                    return .failure(error)
                }
            case 17 where ASCII.equalIgnoringCase(name, "transfer-encoding"):
                hasTransferEncoding = true
                codings += ASCII.listElements(value)
            case 10 where ASCII.equalIgnoringCase(name, "connection"):
                for token in ASCII.listElements(value) {
                    if ASCII.equalIgnoringCase(token, "close") { connectionClose = true }
                    if ASCII.equalIgnoringCase(token, "keep-alive") { connectionKeepAlive = true }
                }
            case 6 where ASCII.equalIgnoringCase(name, "expect"):
                if ASCII.equalIgnoringCase(ASCII.trimmed(Substring(value)), "100-continue") { expectsContinue = true }
            default:
                break
            }
        }
        if contentLengthTooLong, contentLength != nil {
            return .failure(.badRequest("conflicting Content-Length values"))
        }

        let framing: Framing
        if hasTransferEncoding {
            if versionMinor == 0 {
                return .failure(.lengthRequired("an HTTP/1.0 request body needs Content-Length"))
            }
            if contentLength != nil || contentLengthTooLong {
                return .failure(.badRequest("both Transfer-Encoding and Content-Length"))
            }
            guard let last = codings.last, ASCII.equalIgnoringCase(last, "chunked") else {
                return .failure(.badRequest("chunked must be the final transfer coding"))
            }
            if codings.count > 1 {
                let others = codings.dropLast().joined(separator: ", ")
                return .failure(.notImplemented("transfer coding \(others) is not supported"))
            }
            framing = .chunked
        } else if contentLengthTooLong {
            framing = .tooLong
        } else if let contentLength, contentLength > 0 {
            framing = .length(contentLength)
        } else {
            framing = .none
        }

        let keepAlive = versionMinor == 0 ? (connectionKeepAlive && !connectionClose) : !connectionClose
        let head = Head(method: method, target: target, path: parts.path, query: parts.query, headers: headers,
                        versionMinor: versionMinor, keepAlive: keepAlive,
                        expectsContinue: expectsContinue && versionMinor == 1)
        return .success((head, framing))
    }

    /// Reads a `Content-Length` value, a comma-separated list (RFC 9110 §8.6), into `length`: every
    /// element, trimmed of spaces and tabs, must be digits; one of more than 18 digits sets `tooLong`;
    /// elements must agree with each other and with `length` read before. Scanned as bytes (no list
    /// of elements is made: this runs for every request with a body).
    /// - Returns: nil, or the error to refuse the request with.
    private static func readContentLength(_ value: String, into length: inout Int?, tooLong: inout Bool) -> HTTPParseError? {
        func read(_ bytes: UnsafeBufferPointer<UInt8>) -> HTTPParseError? {
            var elementStart = 0
            while true {
                var elementEnd = elementStart
                while elementEnd < bytes.count, bytes[elementEnd] != ASCII.comma { elementEnd += 1 }
                var first = elementStart, end = elementEnd
                while first < end, bytes[first] == ASCII.space || bytes[first] == ASCII.tab { first += 1 }
                while end > first, bytes[end - 1] == ASCII.space || bytes[end - 1] == ASCII.tab { end -= 1 }
                guard first < end, bytes[first..<end].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                    return .badRequest("invalid Content-Length")
                }
                if end - first > 18 {
                    tooLong = true
                } else {
                    let element = bytes[first..<end].reduce(0) { $0 * 10 + Int($1 - 0x30) }
                    if let previous = length, previous != element { return .badRequest("conflicting Content-Length values") }
                    length = element
                }
                if elementEnd == bytes.count { return nil }
                elementStart = elementEnd + 1
            }
        }
        return value.utf8.withContiguousStorageIfAvailable(read) ?? Array(value.utf8).withUnsafeBufferPointer(read)
    }

    /// Parses `chunk-size [ chunk-ext ]` (RFC 9112 §7.1); extensions are checked and ignored.
    /// A size that cannot fit is reported with status 413.
    private static func parseChunkSize(_ line: UnsafeBufferPointer<UInt8>) -> Result<Int, HTTPParseError> {
        var size = 0
        var index = 0
        while index < line.count, let digit = ASCII.hexValue(line[index]) {
            if index >= 15 { return .failure(.bodyTooLarge(limitBytes: 0)) }
            size = size << 4 | Int(digit)
            index += 1
        }
        guard index > 0 else { return .failure(.badRequest("invalid chunk size")) }
        while index < line.count, line[index] == ASCII.space || line[index] == ASCII.tab { index += 1 }
        if index < line.count {
            guard line[index] == ASCII.semicolon else { return .failure(.badRequest("invalid chunk size")) }
            while index < line.count {
                if !ASCII.isFieldValueByte(line[index]) { return .failure(.badRequest("invalid chunk extension")) }
                index += 1
            }
        }
        return .success(size)
    }
}
