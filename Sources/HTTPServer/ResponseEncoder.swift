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
        // The head is built as bytes in one buffer and appended once (this runs for every response).
        var head: [UInt8] = []
        head.reserveCapacity(160 + requestID.utf8.count + date.utf8.count)
        head += "HTTP/1.1 ".utf8
        head += String(status).utf8
        head.append(UInt8(ascii: " "))
        head += reasonPhrase(status).utf8
        head += "\r\n".utf8
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
            head += name.utf8
            head += ": ".utf8
            head += value.utf8
            head += "\r\n".utf8
        }
        if !hasRequestID {
            head += "X-Request-Id: ".utf8
            head += requestID.utf8
            head += "\r\n".utf8
        }
        if !hasDate {
            head += "Date: ".utf8
            head += date.utf8
            head += "\r\n".utf8
        }
        let bodyAllowed = status != 204 && status != 304
        if status != 204 {
            head += "Content-Length: ".utf8
            head += String(bodyAllowed ? response.body.count : 0).utf8
            head += "\r\n".utf8
        }
        if close {
            head += "Connection: close\r\n".utf8
        } else if keepAliveHeader {
            head += "Connection: keep-alive\r\n".utf8
        }
        head += "\r\n".utf8
        output.append(head)
        if bodyAllowed, !omitBody { output.append(response.body) }
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
