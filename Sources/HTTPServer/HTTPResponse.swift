import JSON

/// A response produced by an ``HTTPHandler``.
///
/// The server adds `Content-Length`, `Date`, `X-Request-Id` (unless the handler set one) and
/// `Connection`; a handler's own `Content-Length`, `Transfer-Encoding` and `Connection` fields
/// are replaced (a handler's `Connection: close` is honoured: the connection closes after it).
public struct HTTPResponse: Sendable {
    /// The status code, 200...599 (100...199 are not allowed as final responses).
    public var status: Int
    /// Header fields to send, in order.
    public var headers: HTTPHeaders
    /// The body bytes.
    public var body: [UInt8]

    /// A response with `status`, `headers` and `body`.
    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The headers of `json(_:_:)` and `text(_:_:)`, made once: every response of that kind shares
    /// their storage until a handler changes its copy (no allocation per response).
    private static let jsonHeaders: HTTPHeaders = ["Content-Type": "application/json"]
    private static let textHeaders: HTTPHeaders = ["Content-Type": "text/plain; charset=utf-8"]

    /// A JSON response: `Content-Type: application/json` and `body` as given.
    public static func json(_ status: Int, _ body: [UInt8]) -> HTTPResponse {
        HTTPResponse(status: status, headers: jsonHeaders, body: body)
    }

    /// A JSON response from a string holding JSON text.
    public static func json(_ status: Int, _ text: String) -> HTTPResponse {
        json(status, Array(text.utf8))
    }

    /// A plain-text response (`text/plain; charset=utf-8`).
    public static func text(_ status: Int, _ text: String) -> HTTPResponse {
        HTTPResponse(status: status, headers: textHeaders, body: Array(text.utf8))
    }

    /// The house error shape: `{"error":{"code":"<code>","message":"<message>"}}` as JSON.
    public static func error(_ status: Int, code: String, message: String) -> HTTPResponse {
        var body = Array(#"{"error":{"code":"#.utf8)
        JSONValue.appendString(code, to: &body)
        body += Array(#","message":"#.utf8)
        JSONValue.appendString(message, to: &body)
        body += Array("}}".utf8)
        return json(status, body)
    }
}
