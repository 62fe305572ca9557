import SystemIO
#if canImport(Glibc)
import Glibc
#endif

/// Why the server could not start: a failed system call (SystemIO's `SystemError`: the call, `errno`,
/// and the address in place of a path), or a configuration that cannot work.
public enum HTTPServerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A system call failed, such as `bind` on `127.0.0.1:8787`.
    case system(SystemError)
    /// The configuration cannot work: a port out of range, a host that does not resolve, a second start.
    case configuration(String)

    /// Captures the current `errno` for `call` on `address` (a host, `host:port`, or empty).
    static func system(_ call: String, _ address: String = "") -> HTTPServerError {
        .system(SystemError.current(call, address))
    }

    /// The `errno` of a failed system call, nil for a configuration error.
    public var errno: Int32? {
        if case .system(let error) = self { return error.errno }
        return nil
    }

    public var description: String {
        switch self {
        case .system(let error): error.description
        case .configuration(let text): text
        }
    }
}
