import EventLog
import HTTPServer
import JSON

/// An API failure: an HTTP status, a machine-readable code, and a message for people.
/// Messages never contain secrets or tokens.
public struct APIError: Error, Equatable, Sendable, CustomStringConvertible {
    public let status: Int
    public let code: String
    public let message: String
    /// Extra response headers, such as `WWW-Authenticate`.
    public var headers: [(String, String)] = []
    /// Extra members of the `error` object, such as `earliest_available_offset`.
    package var details: [(String, JSONValue)] = []

    public init(_ status: Int, _ code: String, _ message: String, headers: [(String, String)] = [],
                details: [(String, JSONValue)] = []) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
        self.details = details
    }

    /// The answer to a read the event source could not serve: 503 `archive_unavailable` (with
    /// `Retry-After`), 410 `events_unavailable` (with `offset` and `earliest_available_offset`), or 503
    /// `log_unavailable`.
    public init(_ failure: EventSourceError) {
        switch failure {
        case .archiveUnavailable(let offset, _):
            self.init(503, failure.code, failure.description, headers: [("Retry-After", "5")], details: [("offset", .integer(offset))])
        case .eventsUnavailable(let offset, let earliest):
            self.init(410, failure.code, failure.description,
                      details: [("offset", .integer(offset)), ("earliest_available_offset", earliest.map { .integer($0) } ?? .null)])
        case .log:
            self.init(503, failure.code, "the log cannot be read; see the server log")
        case .engineUnavailable(let offset, _):
            self.init(503, failure.code, "the engine cannot be read now; see the server log", headers: [("Retry-After", "5")],
                      details: [("offset", .integer(offset))])
        }
    }

    /// The answer to a store's refusal (the one place store errors become HTTP): 422
    /// `validation_failed`, 429 `too_many_tokens`, 503 `temporarily_unavailable`, 409 `limit_reached`;
    /// nil for I/O and damage, which are server failures (500, logged).
    package init?(_ failure: StoreError) {
        switch failure {
        case .system, .corrupt: return nil
        case .invalid: self.init(422, "validation_failed", failure.description)
        case .clientTokenLimit: self.init(429, "too_many_tokens", failure.description)
        case .tokenLimit: self.init(503, "temporarily_unavailable", failure.description)
        case .clientLimit: self.init(409, "limit_reached", failure.description)
        }
    }

    public static func == (lhs: APIError, rhs: APIError) -> Bool {
        lhs.status == rhs.status && lhs.code == rhs.code && lhs.message == rhs.message
    }

    public var description: String { "\(status) \(code): \(message)" }

    /// The JSON error response `{"error":{"code","message"}}`.
    public var response: HTTPResponse {
        var response = details.isEmpty ? HTTPResponse.error(status, code: code, message: message)
            : .json(status, JSONValue.object([("error", .object([("code", .string(code)), ("message", .string(message))] + details))]).encoded())
        for (name, value) in headers { response.headers.add(name, value) }
        return response
    }

    static func invalid(_ message: String) -> APIError { APIError(422, "validation_failed", message) }
    static func notFound(_ what: String) -> APIError { APIError(404, "not_found", "\(what) not found") }
}
