#if canImport(Glibc)
import Glibc
#endif

/// Cryptographically secure random bytes from the kernel's CSPRNG (`/dev/urandom`, which on
/// Linux 5.6+ is the same source as `getrandom(2)`; Glibc's module does not export `getrandom`).
public enum SecureRandom {
    /// The kernel's CSPRNG device.
    static let devicePath = "/dev/urandom"

    /// `/dev/urandom`, opened once for the life of the process (an event id per publish must not cost
    /// an open and a close); concurrent reads of it are safe.
    private static let device: Result<Int32, SystemError> = {
        let descriptor = open(devicePath, O_RDONLY | O_CLOEXEC)
        return descriptor < 0 ? .failure(.current("open", devicePath)) : .success(descriptor)
    }()

    /// `count` random bytes.
    /// - Throws: `SystemError` (`open` or `read` of `/dev/urandom`, with `errno`) when the device cannot be
    ///   opened or read.
    public static func bytes(count: Int) throws(SystemError) -> [UInt8] {
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
                throw SystemError(call: "read", path: devicePath, errno: code)
            }
            if result == 0 { throw SystemError(call: "read", path: devicePath, errno: EIO) }
            filled += result
        }
        return bytes
    }
}
