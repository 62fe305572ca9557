import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The one-writer-per-directory lock: `flock` on a `LOCK` file that names the holder's pid.
/// Released when the process exits, however it exits.
final class DirectoryLock: Sendable {
    private let file: FileDescriptor

    /// Takes the lock in `directory`.
    /// - Throws: `.locked` naming the holder's pid when another process holds it.
    init(directory: String) throws(EventLogError) {
        let path = directory + "/LOCK"
        let file = try FileDescriptor.open(path, O_RDWR | O_CREAT)
        if flock(file.rawValue, LOCK_EX | LOCK_NB) != 0 {
            let code = Glibc.errno
            if code == EWOULDBLOCK {
                let text = String(decoding: (try? file.read(count: 32, at: 0)) ?? [], as: UTF8.self)
                throw .locked(path: directory, holderPID: Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)))
            }
            throw .system(SystemError(call: "flock", path: path, errno: code))
        }
        try file.truncate(to: 0)
        try file.write(Array("\(getpid())\n".utf8), at: 0)
        self.file = file
    }

    /// Releases the lock before the object goes away (a closed log frees its directory at once).
    func release() { flock(file.rawValue, LOCK_UN) }

    /// The pid written in `directory/LOCK` if a process currently holds it, else nil.
    static func holder(of directory: String) -> Int32? {
        let path = directory + "/LOCK"
        guard let file = try? FileDescriptor.open(path, O_RDONLY) else { return nil }
        if flock(file.rawValue, LOCK_SH | LOCK_NB) == 0 {
            flock(file.rawValue, LOCK_UN)
            return nil
        }
        let text = String(decoding: (try? file.read(count: 32, at: 0)) ?? [], as: UTF8.self)
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }
}
