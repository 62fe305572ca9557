#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: which call, on which path, and `errno`.
public struct SystemError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The call that failed, such as `open` or `fdatasync`.
    public let call: String
    /// The file or directory it was applied to.
    public let path: String
    /// `errno` after the call.
    public let errno: Int32

    public init(call: String, path: String, errno: Int32) {
        self.call = call
        self.path = path
        self.errno = errno
    }

    /// Captures the current `errno`.
    static func current(_ call: String, _ path: String) -> SystemError {
        SystemError(call: call, path: path, errno: Glibc.errno)
    }

    public var description: String {
        "\(call) \(path): \(String(cString: strerror(errno))) (errno \(errno))"
    }
}
