import HTTPServer

/// An API failure: an HTTP status, a machine-readable code, and a message for people.
/// Messages never contain secrets or tokens.
public struct APIError: Error, Equatable, Sendable, CustomStringConvertible {
    public let status: Int
    public let code: String
    public let message: String
    /// Extra response headers, such as `WWW-Authenticate`.
    public var headers: [(String, String)] = []

    public init(_ status: Int, _ code: String, _ message: String, headers: [(String, String)] = []) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    public static func == (lhs: APIError, rhs: APIError) -> Bool {
        lhs.status == rhs.status && lhs.code == rhs.code && lhs.message == rhs.message
    }

    public var description: String { "\(status) \(code): \(message)" }

    /// The JSON error response `{"error":{"code","message"}}`.
    public var response: HTTPResponse {
        var response = HTTPResponse.error(status, code: code, message: message)
        for (name, value) in headers { response.headers.add(name, value) }
        return response
    }

    static func invalid(_ message: String) -> APIError { APIError(422, "validation_failed", message) }
    static func notFound(_ what: String) -> APIError { APIError(404, "not_found", "\(what) not found") }
}
