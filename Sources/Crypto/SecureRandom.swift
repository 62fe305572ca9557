#if canImport(Glibc)
import Glibc
#endif

/// Cryptographically secure random bytes from the kernel's CSPRNG (`/dev/urandom`, which on
/// Linux 5.6+ is the same source as `getrandom(2)`; Glibc's module does not export `getrandom`).
public enum SecureRandom {
    /// The kernel refused to give random bytes.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        /// The failing call (`open` or `read`).
        public let call: String
        /// `errno` from that call.
        public let errno: Int32
        public var description: String { "\(call) /dev/urandom failed, errno \(errno)" }
    }

    /// `/dev/urandom`, opened once for the life of the process (an event id per publish must not cost
    /// an open and a close); concurrent reads of it are safe.
    private static let device: Result<Int32, Failure> = {
        let descriptor = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
        return descriptor < 0 ? .failure(Failure(call: "open", errno: Glibc.errno)) : .success(descriptor)
    }()

    /// `count` random bytes.
    /// - Throws: `Failure` when the device cannot be opened or read.
    public static func bytes(count: Int) throws(Failure) -> [UInt8] {
        precondition(count >= 0, "negative byte count")
        var bytes = [UInt8](repeating: 0, count: count)
        guard count > 0 else { return bytes }
        let descriptor = try device.get()
        var filled = 0
        while filled < count {
            let result = bytes.withUnsafeMutableBytes { buffer in
                read(descriptor, buffer.baseAddress.unsafelyUnwrapped + filled, count - filled)
            }
            if result < 0 {
                let code = Glibc.errno
                if code == EINTR { continue }
                throw Failure(call: "read", errno: code)
            }
            if result == 0 { throw Failure(call: "read", errno: EIO) }
            filled += result
        }
        return bytes
    }
}
