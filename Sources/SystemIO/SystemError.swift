#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: which call, on which path, `errno`, and the file offset when there is one.
/// The one way the project carries `errno`; the stores, the log and the archive wrap it as their cause.
public struct SystemError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The call that failed, such as `open` or `fdatasync`.
    public let call: String
    /// The file or directory it was applied to.
    public let path: String
    /// `errno` after the call.
    public let errno: Int32
    /// The byte offset in the file the call was about (reads, writes, truncations), when known.
    public let offset: Int64?

    public init(call: String, path: String, errno: Int32, offset: Int64? = nil) {
        self.call = call
        self.path = path
        self.errno = errno
        self.offset = offset
    }

    /// Captures the current `errno` for `call` on `path`.
    package static func current(_ call: String, _ path: String, offset: Int64? = nil) -> SystemError {
        SystemError(call: call, path: path, errno: Glibc.errno, offset: offset)
    }

    public var description: String {
        "\(call) \(path)" + (offset.map { " at byte \($0)" } ?? "") + ": " + Self.describe(errno: errno)
    }

    /// `errno` for people: its text and its number, such as `Connection refused (errno 111)`.
    package static func describe(errno: Int32) -> String {
        "\(String(cString: strerror(errno))) (errno \(errno))"
    }
}
