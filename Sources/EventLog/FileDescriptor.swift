#if canImport(Glibc)
import Glibc
#endif

/// An owned POSIX file descriptor with errno-carrying errors. Closed on deinit.
///
/// `@unchecked Sendable`: the descriptor is an integer; `pread`/`pwrite`/`fdatasync` are
/// thread-safe, and the only mutation (closing) happens in deinit.
final class FileDescriptor: @unchecked Sendable {
    let rawValue: Int32
    let path: String

    private init(rawValue: Int32, path: String) {
        self.rawValue = rawValue
        self.path = path
    }

    deinit { close(rawValue) }

    /// Opens `path` with `flags` (O_CLOEXEC is added).
    static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o600) throws(EventLogError) -> FileDescriptor {
        let descriptor = Glibc.open(path, flags | O_CLOEXEC, mode)
        if descriptor < 0 { throw .system(.current("open", path)) }
        return FileDescriptor(rawValue: descriptor, path: path)
    }

    /// Opens `path` read-only, or returns nil when it does not exist.
    static func openIfExists(_ path: String) throws(EventLogError) -> FileDescriptor? {
        let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 {
            if Glibc.errno == ENOENT { return nil }
            throw .system(.current("open", path))
        }
        return FileDescriptor(rawValue: descriptor, path: path)
    }

    /// The file's size in bytes.
    func size() throws(EventLogError) -> Int64 {
        var status = stat()
        if fstat(rawValue, &status) != 0 { throw .system(.current("fstat", path)) }
        return Int64(status.st_size)
    }

    /// Writes all of `bytes` at `position`.
    func write(_ bytes: UnsafeRawBufferPointer, at position: Int64) throws(EventLogError) {
        var written = 0
        while written < bytes.count {
            let result = pwrite(rawValue, bytes.baseAddress.unsafelyUnwrapped + written, bytes.count - written,
                                off_t(position) + off_t(written))
            if result < 0 {
                if Glibc.errno == EINTR { continue }
                throw .system(.current("pwrite", path))
            }
            written += result
        }
    }

    func write(_ bytes: [UInt8], at position: Int64) throws(EventLogError) {
        let result = bytes.withUnsafeBytes { buffer in Result { () throws(EventLogError) in try write(buffer, at: position) } }
        try result.get()
    }

    /// Reads up to `count` bytes at `position` into `buffer`; returns how many were read (0 at end).
    func read(into buffer: UnsafeMutableRawBufferPointer, at position: Int64) throws(EventLogError) -> Int {
        var total = 0
        while total < buffer.count {
            let result = pread(rawValue, buffer.baseAddress.unsafelyUnwrapped + total, buffer.count - total,
                               off_t(position) + off_t(total))
            if result < 0 {
                if Glibc.errno == EINTR { continue }
                throw .system(.current("pread", path))
            }
            if result == 0 { break }
            total += result
        }
        return total
    }

    /// Reads exactly `count` bytes at `position`, or fewer at the end of the file.
    func read(count: Int, at position: Int64) throws(EventLogError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let result = bytes.withUnsafeMutableBytes { buffer in
            Result { () throws(EventLogError) in try read(into: buffer, at: position) }
        }
        let got = try result.get()
        if got < count { bytes.removeLast(count - got) }
        return bytes
    }

    /// Makes written data durable (`fdatasync`).
    func synchronizeData() throws(EventLogError) {
        if fdatasync(rawValue) != 0 { throw .system(.current("fdatasync", path)) }
    }

    /// Makes data and metadata durable (`fsync`).
    func synchronize() throws(EventLogError) {
        if fsync(rawValue) != 0 { throw .system(.current("fsync", path)) }
    }

    /// Cuts the file to `size` bytes.
    func truncate(to size: Int64) throws(EventLogError) {
        if ftruncate(rawValue, off_t(size)) != 0 { throw .system(.current("ftruncate", path)) }
    }
}

/// Crash-safe file and directory helpers shared by the stores of the service (errno-carrying errors).
public enum FileSystem {
    /// Creates `path` and its parents when missing.
    public static func createDirectory(_ path: String) throws(EventLogError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component + "/"
            if mkdir(prefix, 0o700) != 0, Glibc.errno != EEXIST {
                throw .system(.current("mkdir", prefix))
            }
        }
    }

    /// Makes directory entries (creations, renames, deletions) in `path` durable.
    public static func synchronizeDirectory(_ path: String) throws(EventLogError) {
        let directory = try FileDescriptor.open(path, O_RDONLY | O_DIRECTORY)
        try directory.synchronize()
    }

    /// The names in `path`, excluding `.` and `..`.
    static func list(_ path: String) throws(EventLogError) -> [String] {
        guard let directory = opendir(path) else { throw .system(.current("opendir", path)) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Removes the file at `path`; a missing file is not an error.
    public static func remove(_ path: String) throws(EventLogError) {
        if unlink(path) != 0, Glibc.errno != ENOENT { throw .system(.current("unlink", path)) }
    }

    /// Atomically replaces `path` (in `directory`) with `bytes`: a temporary file unique to this
    /// writer, fsync, rename, directory fsync. A crash leaves the old or the new file, never a mix.
    /// - Parameter mode: permissions of a new file (0600 for files that hold secrets).
    public static func writeAtomically(_ bytes: [UInt8], to path: String, directory: String,
                                       mode: mode_t = 0o600) throws(EventLogError) {
        let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do throws(EventLogError) {
            let file = try FileDescriptor.open(temporary, O_WRONLY | O_CREAT | O_EXCL, mode: mode)
            try file.write(bytes, at: 0)
            try file.synchronize()
            if rename(temporary, path) != 0 { throw EventLogError.system(.current("rename", path)) }
        } catch {
            unlink(temporary)
            throw error
        }
        try synchronizeDirectory(directory)
    }

    /// True when something exists at `path`.
    static func exists(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0
    }
}
