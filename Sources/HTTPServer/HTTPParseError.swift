/// A request the parser refuses: the status to answer, a machine-readable code and a message.
/// Every one of them closes the connection after the response.
struct HTTPParseError: Error, Sendable, Equatable {
    let status: Int
    let code: String
    let message: String

    static func badRequest(_ message: String) -> HTTPParseError {
        HTTPParseError(status: 400, code: "bad_request", message: message)
    }

    static func headerTooLarge(limitBytes: Int) -> HTTPParseError {
        HTTPParseError(status: 431, code: "header_too_large",
                       message: "request head exceeds \(limitBytes) bytes")
    }

    static func bodyTooLarge(limitBytes: Int) -> HTTPParseError {
        HTTPParseError(status: 413, code: "body_too_large", message: "request body exceeds \(limitBytes) bytes")
    }

    static func lengthRequired(_ message: String) -> HTTPParseError {
        HTTPParseError(status: 411, code: "length_required", message: message)
    }

    static func notImplemented(_ message: String) -> HTTPParseError {
        HTTPParseError(status: 501, code: "not_implemented", message: message)
    }

    static let versionNotSupported = HTTPParseError(
        status: 505, code: "http_version_not_supported", message: "only HTTP/1.0 and HTTP/1.1 are supported")

    static let requestTimeout = HTTPParseError(
        status: 408, code: "request_timeout", message: "the request was not received in time")
}
