import SystemIO

/// Why an archive operation failed, with the context needed to act on it: the object key, the HTTP
/// status and the S3 error code. Never carries credentials, signatures or Authorization headers.
public struct ArchiveError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure.
    public enum Kind: String, Sendable {
        /// A bad target URL, missing credentials, an option the target does not support.
        case configuration
        /// The server answered with an error status.
        case http
        /// The request did not get an answer (connection refused, timeout, reset).
        case network
        /// A local file or directory operation failed.
        case io
        /// Stored bytes or metadata do not match what was written or what the manifest says.
        case integrity
        /// Another archive run holds the lock of this data directory.
        case busy
    }

    /// What went wrong.
    public var kind: Kind
    /// The object key (relative to the target's prefix) the operation was about, when there is one.
    public var key: String?
    /// The HTTP status code, for `.http`.
    package var httpStatus: Int?
    /// The S3 error code from the response body (such as `SignatureDoesNotMatch`), when present.
    package var s3Code: String?
    /// A human-readable explanation (never containing secrets).
    public var message: String
    /// The log offset the failure is about (for damage: the first bad record), when known.
    public var offset: UInt64?
    /// The failed system call behind an `.io` error, when there is one.
    public var cause: SystemError?

    public init(_ kind: Kind, key: String? = nil, httpStatus: Int? = nil, s3Code: String? = nil, offset: UInt64? = nil,
                _ message: String) {
        self.kind = kind
        self.key = key
        self.offset = offset
        self.httpStatus = httpStatus
        self.s3Code = s3Code
        self.message = message
    }

    public var description: String {
        var text = "archive \(kind.rawValue) error"
        if let key { text += " for \(key)" }
        if let httpStatus { text += " (HTTP \(httpStatus)" + (s3Code.map { ", \($0)" } ?? "") + ")" }
        return text + ": " + message
    }
}

extension ArchiveError {
    /// A local file or directory operation that failed (`.io`), keeping the system error as its cause.
    public init(_ cause: SystemError, key: String? = nil) {
        self.init(.io, key: key, cause.description)
        self.cause = cause
    }
}

/// Runs SystemIO calls (only those: they throw `SystemError`), reporting a failure as `ArchiveError.io`
/// with the system error as its cause. Untyped because Swift 6 infers `any Error` for unannotated closures.
func fileCall<T>(_ body: () throws -> T) throws(ArchiveError) -> T {
    do {
        return try body()
    } catch let error as SystemError {
        throw ArchiveError(error)
    } catch {
        preconditionFailure("fileCall wraps SystemIO calls only, got \(error)")
    }
}
