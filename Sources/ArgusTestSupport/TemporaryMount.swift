import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A small tmpfs mounted on a fresh directory under /tmp, for tests that need a disk that fills up.
/// Mounting needs root (tests and CI have it); `tmpfs(sizeBytes:label:)` prints and returns why when it is refused.
/// Unmounted (lazily, so open files cannot keep it) by `unmount()` or when the value goes away.
///
/// `@unchecked Sendable`: `path` is constant; `mounted` is guarded by `lock`.
public final class TemporaryMount: @unchecked Sendable {
    /// The mount point; everything the test writes under it counts against the size.
    public let path: String
    private let lock = NSLock()
    private var mounted = true

    private init(path: String) { self.path = path }

    deinit { unmount() }

    /// Mounts a tmpfs of `sizeBytes` (rounded up to pages by the kernel) with mode 0700.
    /// - Returns: the mount, or why it could not be made (not root, no `CAP_SYS_ADMIN`, ...).
    public static func tmpfs(sizeBytes: Int, label: String) -> Result<TemporaryMount, RefusedError> {
        let name = label.filter { $0.isLetter || $0.isNumber }
        let path = NSTemporaryDirectory() + "argus-tmpfs-\(name)-\(UUID().uuidString.prefix(8))"
        guard mkdir(path, 0o700) == 0 else {
            let refused = RefusedError(description: "mkdir \(path): errno \(errno) (\(String(cString: strerror(errno))))")
            print("SKIPPED \(label): it needs a tmpfs: \(refused)")
            return .failure(refused)
        }
        guard Glibc.mount("tmpfs", path, "tmpfs", 0, "size=\(sizeBytes),mode=0700") == 0 else {
            let code = errno
            rmdir(path)
            let refused = RefusedError(description: "mount -t tmpfs on \(path) refused: errno \(code) (\(String(cString: strerror(code))))"
                + (geteuid() == 0 ? "" : "; the test is not running as root"))
            print("SKIPPED \(label): it needs a tmpfs: \(refused)")
            return .failure(refused)
        }
        return .success(TemporaryMount(path: path))
    }

    /// Why a mount was refused.
    public struct RefusedError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Unmounts (detaching, so files still open in a child do not keep it busy) and removes the mount
    /// point. Safe to call more than once.
    public func unmount() {
        lock.lock()
        defer { lock.unlock() }
        guard mounted else { return }
        mounted = false
        if umount2(path, Int32(MNT_DETACH)) != 0 {
            FileHandle.standardError.write(Data("TemporaryMount: umount2 \(path) failed: errno \(errno)\n".utf8))
        }
        rmdir(path)
    }

    /// Bytes still free on the mount (for unprivileged use: `f_bavail`).
    public var freeBytes: Int64 {
        var status = statvfs()
        guard statvfs(path, &status) == 0 else { return -1 }
        return Int64(status.f_bavail) * Int64(status.f_bsize)
    }

    /// Writes a file at `name` until the mount is full (or `sizeBytesMax` is written) and returns its
    /// size in bytes. Deleting it frees the space again.
    @discardableResult
    public func fill(_ name: String, sizeBytesMax: Int = .max) -> Int {
        let descriptor = open(path + "/" + name, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return 0 }
        defer { close(descriptor) }
        let chunk = [UInt8](repeating: 0x5A, count: 4096)
        var written = 0
        while written < sizeBytesMax {
            let count = chunk.withUnsafeBytes { write(descriptor, $0.baseAddress!, min($0.count, sizeBytesMax - written)) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            written += count
        }
        return written
    }
}
