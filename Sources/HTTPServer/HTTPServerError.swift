#if canImport(Glibc)
import Glibc
#endif

/// Why the server could not start: the failed call and `errno`, or an invalid configuration.
public struct HTTPServerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The call that failed, such as `bind` or `getaddrinfo`, or `configuration`.
    public let call: String
    /// `errno` after the call (0 when not a system error).
    public let errno: Int32
    /// Extra context, such as the address.
    public let detail: String

    public init(call: String, errno: Int32, detail: String = "") {
        self.call = call
        self.errno = errno
        self.detail = detail
    }

    /// Captures the current `errno` for `call`.
    static func system(_ call: String, _ detail: String = "") -> HTTPServerError {
        HTTPServerError(call: call, errno: Glibc.errno, detail: detail)
    }

    public var description: String {
        let suffix = detail.isEmpty ? "" : " \(detail)"
        if errno == 0 { return "\(call)\(suffix)" }
        return "\(call)\(suffix): \(String(cString: strerror(errno))) (errno \(errno))"
    }
}
