#if canImport(Glibc)
import Glibc
#endif

/// An exclusive `flock` on a lock file that names the holder's pid: one writer per data directory
/// (`LOCK`), one archive run per archive state directory (`lock`). Released by `release()`, when the
/// value is deinitialised, or when the process exits, however it exits.
package final class DirectoryLock: Sendable {
    /// What `acquire` found.
    package enum Acquisition: Sendable {
        /// This process now holds the lock.
        case acquired(DirectoryLock)
        /// Another process holds it; its pid when the file names one.
        case held(holderPID: Int32?)
    }

    private let file: FileDescriptor

    private init(file: FileDescriptor) { self.file = file }

    /// Takes the lock on the file at `path` (created when missing) without waiting.
    /// - Throws: `SystemError` when the file cannot be opened, locked or written.
    package static func acquire(path: String) throws(SystemError) -> Acquisition {
        let file = try FileDescriptor.open(path, O_RDWR | O_CREAT)
        if flock(file.rawValue, LOCK_EX | LOCK_NB) != 0 {
            let code = Glibc.errno
            guard code == EWOULDBLOCK else { throw SystemError(call: "flock", path: path, errno: code) }
            let text = String(decoding: (try? file.read(count: 32, at: 0)) ?? [], as: UTF8.self)
            return .held(holderPID: Int32(text.filter { $0.isNumber }))
        }
        try file.truncate(to: 0)
        try file.write(Array("\(getpid())\n".utf8), at: 0)
        return .acquired(DirectoryLock(file: file))
    }

    /// Releases the lock before the value goes away (a closed log frees its directory at once).
    package func release() { flock(file.rawValue, LOCK_UN) }
}
