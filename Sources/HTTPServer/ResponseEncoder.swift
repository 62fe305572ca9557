import SystemIO

/// Writes responses in HTTP/1.1 wire format into a connection's output buffer.
enum ResponseEncoder {
    /// The interim response to `Expect: 100-continue`.
    static let continueResponse: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    /// Appends `response` to `output`. The server's own fields (`Content-Length`, `Connection`,
    /// `X-Request-Id` unless the handler set one, `Date` unless set) are added; fields whose name
    /// or value could break the framing (CR, LF, NUL, bad name bytes) are dropped.
    static func encode(_ response: HTTPResponse, into output: inout ByteQueue, requestID: String, close: Bool,
                       keepAliveHeader: Bool, omitBody: Bool, date: String) {
        let status = (200...999).contains(response.status) ? response.status : 500
        let reason = reasonPhrase(status)
        // The head is written straight into the output's spare room, made once: this runs for every
        // response, so no buffer of its own and no append that checks for room piece by piece.
        var fieldBytes = 0
        for (name, value) in response.headers { fieldBytes += name.utf8.count + value.utf8.count + 4 }
        let headBytesMax = fixedHeadBytesMax + reason.utf8.count + requestID.utf8.count + date.utf8.count + fieldBytes
        output.reserveTail(headBytesMax)
        let bodyAllowed = status != 204 && status != 304
        output.fillTail { tail in
            var head = HeadWriter(base: tail.baseAddress.unsafelyUnwrapped)
            head.write("HTTP/1.1 ")
            head.write(decimal: status)
            head.write(UInt8(ascii: " "))
            head.write(reason)
            head.write("\r\n")
            var hasRequestID = false
            var hasDate = false
            for (name, value) in response.headers {
                switch name.utf8.count {
                case 14 where ASCII.equalIgnoringCase(name, "content-length"): continue
                case 17 where ASCII.equalIgnoringCase(name, "transfer-encoding"): continue
                case 10 where ASCII.equalIgnoringCase(name, "connection"): continue
                case 12 where ASCII.equalIgnoringCase(name, "x-request-id"): hasRequestID = true
                case 4 where ASCII.equalIgnoringCase(name, "date"): hasDate = true
                default: break
                }
                guard isSafeName(name), isSafeValue(value) else { continue }
                head.write(name)
                head.write(": ")
                head.write(value)
                head.write("\r\n")
            }
            if !hasRequestID {
                head.write("X-Request-Id: ")
                head.write(requestID)
                head.write("\r\n")
            }
            if !hasDate {
                head.write("Date: ")
                head.write(date)
                head.write("\r\n")
            }
            if status != 204 {
                head.write("Content-Length: ")
                head.write(decimal: bodyAllowed ? response.body.count : 0)
                head.write("\r\n")
            }
            if close {
                head.write("Connection: close\r\n")
            } else if keepAliveHeader {
                head.write("Connection: keep-alive\r\n")
            }
            head.write("\r\n")
            precondition(head.count <= headBytesMax, "response head larger than its room")
            return head.count
        }
        if bodyAllowed, !omitBody { output.append(response.body) }
    }

    /// The most bytes of a head besides the reason phrase, the id, the date and the handler's fields:
    /// the status line's fixed part (15), the names and line ends of `X-Request-Id` (16) and `Date` (8),
    /// `Content-Length` with 20 digits (38), `Connection: keep-alive` (24), the empty line (2).
    private static let fixedHeadBytesMax = 15 + 16 + 8 + 38 + 24 + 2

    /// Writes bytes one after the other into room reserved before (the caller checks the total).
    private struct HeadWriter {
        let base: UnsafeMutableRawPointer
        var count = 0

        mutating func write(_ byte: UInt8) {
            base.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
            count += 1
        }

        mutating func write(_ text: StaticString) {
            (base + count).copyMemory(from: text.utf8Start, byteCount: text.utf8CodeUnitCount)
            count += text.utf8CodeUnitCount
        }

        mutating func write(_ text: String) {
            let utf8 = text.utf8
            let copied: Int? = utf8.withContiguousStorageIfAvailable { bytes in
                if let source = bytes.baseAddress { (base + count).copyMemory(from: source, byteCount: bytes.count) }
                return bytes.count
            }
            if let copied {
                count += copied
            } else {
                for byte in utf8 { write(byte) }
            }
        }

        /// `value` (at least 0) in decimal.
        mutating func write(decimal value: Int) {
            count += DecimalDigits.write(UInt64(clamping: value), to: base + count)
        }
    }

    /// Whether the handler asked to close the connection after `response`.
    static func requestsClose(_ response: HTTPResponse) -> Bool {
        for (name, value) in response.headers where name.utf8.count == 10 && ASCII.equalIgnoringCase(name, "connection") {
            if ASCII.listElements(value).contains(where: { ASCII.equalIgnoringCase($0, "close") }) { return true }
        }
        return false
    }

    private static func isSafeName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy(ASCII.isTokenByte)
    }

    private static func isSafeValue(_ value: String) -> Bool {
        value.utf8.allSatisfy(ASCII.isFieldValueByte)
    }

    /// The reason phrase for `status` (informational only; clients ignore it).
    static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 100: "Continue"
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 304: "Not Modified"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 410: "Gone"
        case 411: "Length Required"
        case 413: "Content Too Large"
        case 415: "Unsupported Media Type"
        case 422: "Unprocessable Content"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        case 505: "HTTP Version Not Supported"
        default: "Status"
        }
    }
}
