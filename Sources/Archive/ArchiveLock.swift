#if canImport(Glibc)
import Glibc
#endif

/// An exclusive `flock` on `<archive directory>/lock`, so one archive run at a time works on a data
/// directory. Released when the value is deinitialised (or the process ends).
final class ArchiveLock: Sendable {
    private let descriptor: Int32

    /// Takes the lock without waiting.
    /// - Throws: `ArchiveError.busy` when another run holds it; `.io` when the file cannot be opened.
    init(directory: String) throws(ArchiveError) {
        try LocalFiles.createDirectory(directory)
        let path = directory + "/lock"
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw LocalFiles.failure("open", path) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw ArchiveError(.busy, "another archive run is working on \(directory)")
        }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }
}
