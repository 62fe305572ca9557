/// One HTTP request as the server received it, handed to an ``HTTPHandler``.
public struct HTTPRequest: Sendable {
    /// The method as sent, such as `GET` (case-sensitive, per RFC 9110).
    public var method: String
    /// The raw request-target, such as `/v1/events?after=10`.
    public var target: String
    /// The percent-decoded path, without the query.
    public var path: String
    /// Decoded query pairs (`+` is a space), in order.
    public var query: [(String, String)]
    /// The header fields, in order.
    public var headers: HTTPHeaders
    /// The body, de-chunked.
    public var body: [UInt8]
    /// The incoming `X-Request-Id` when it was valid (1–128 of `A-Z a-z 0-9 - _ . : + / = @`),
    /// otherwise a generated UUID v4. Every response carries it back.
    public var requestID: String
    /// The peer as `address:port` (`[address]:port` for IPv6).
    package var remoteAddress: String
    /// Values of `{name}` pattern segments, filled by ``Router``.
    public var pathParameters: [String: String]
    /// The HTTP minor version (1 for HTTP/1.1, 0 for HTTP/1.0).
    package var versionMinor: Int

    /// A request for `target`; `path` and `query` are derived from it (leniently: a malformed
    /// escape stays as sent). Meant for tests and in-process calls; the server builds its own.
    public init(method: String, target: String, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [],
                requestID: String = "", remoteAddress: String = "", versionMinor: Int = 1) {
        let parts = RequestTarget.parse(target, strict: false)
        self.init(method: method, target: target, path: parts?.path ?? target, query: parts?.query ?? [],
                  headers: headers, body: body, requestID: requestID, remoteAddress: remoteAddress,
                  versionMinor: versionMinor)
    }

    init(method: String, target: String, path: String, query: [(String, String)], headers: HTTPHeaders,
         body: [UInt8], requestID: String, remoteAddress: String, versionMinor: Int) {
        self.method = method
        self.target = target
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.requestID = requestID
        self.remoteAddress = remoteAddress
        self.pathParameters = [:]
        self.versionMinor = versionMinor
    }

    /// The first value of the query parameter `name`, or nil.
    public func queryValue(_ name: String) -> String? {
        query.first { $0.0 == name }?.1
    }

    /// Every value of the query parameter `name`, in order.
    package func queryValues(_ name: String) -> [String] {
        query.filter { $0.0 == name }.map(\.1)
    }
}
