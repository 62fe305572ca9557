import EventLog
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Small POSIX file helpers for the archive: durable atomic writes, whole-file reads, directory walks.
/// All of them block; call them through `BlockingIO`.
enum LocalFiles {
    /// Creates `path` and its parents when missing.
    static func createDirectory(_ path: String) throws(ArchiveError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component + "/"
            if mkdir(prefix, 0o700) != 0, errno != EEXIST { throw failure("mkdir", prefix) }
        }
    }

    /// Replaces `path` with `bytes` atomically and durably: a unique temporary file in the same directory,
    /// fsync, rename, fsync of the directory.
    static func writeAtomically(_ bytes: UnsafeRawBufferPointer, to path: String) throws(ArchiveError) {
        let directory = parent(of: path)
        try createDirectory(directory)
        let temporary = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw failure("open", temporary) }
        var written = 0
        while written < bytes.count {
            let count = write(descriptor, bytes.baseAddress.unsafelyUnwrapped + written, bytes.count - written)
            if count < 0 {
                if errno == EINTR { continue }
                let error = failure("write", temporary)
                close(descriptor)
                unlink(temporary)
                throw error
            }
            written += count
        }
        if fsync(descriptor) != 0 {
            let error = failure("fsync", temporary)
            close(descriptor)
            unlink(temporary)
            throw error
        }
        close(descriptor)
        if rename(temporary, path) != 0 {
            let error = failure("rename", path)
            unlink(temporary)
            throw error
        }
        try synchronizeDirectory(directory)
    }

    static func writeAtomically(_ data: Data, to path: String) throws(ArchiveError) {
        let result = data.withUnsafeBytes { buffer in Result { () throws(ArchiveError) in try writeAtomically(buffer, to: path) } }
        try result.get()
    }

    /// Makes the entries of `directory` durable.
    static func synchronizeDirectory(_ directory: String) throws(ArchiveError) {
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure("open", directory) }
        defer { close(descriptor) }
        if fsync(descriptor) != 0 { throw failure("fsync", directory) }
    }

    /// The whole file, or nil when it does not exist.
    static func read(_ path: String) throws(ArchiveError) -> Data? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 {
            if errno == ENOENT { return nil }
            throw failure("open", path)
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw failure("fstat", path) }
        let size = Int(status.st_size)
        var data = Data(count: size)
        let got = data.withUnsafeMutableBytes { buffer -> Int in
            var total = 0
            while total < size {
                let count = Glibc.read(descriptor, buffer.baseAddress.unsafelyUnwrapped + total, size - total)
                if count < 0 {
                    if errno == EINTR { continue }
                    return -1
                }
                if count == 0 { break }
                total += count
            }
            return total
        }
        guard got >= 0 else { throw failure("read", path) }
        if got < size { data.removeSubrange(got..<size) }
        return data
    }

    /// Size in bytes, or nil when nothing is at `path`.
    static func size(_ path: String) -> Int64? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return Int64(status.st_size)
    }

    /// Modification time in nanoseconds since 1970, or nil.
    static func modificationTimeNs(_ path: String) -> Int64? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return Int64(status.st_mtim.tv_sec) * 1_000_000_000 + Int64(status.st_mtim.tv_nsec)
    }

    /// Sets the modification time of `path` to now (LRU bookkeeping).
    static func touch(_ path: String) {
        _ = utimensat(AT_FDCWD, path, nil, 0)
    }

    /// Names in `directory` (not `.` or `..`); empty when it does not exist.
    static func list(_ directory: String) throws(ArchiveError) -> [(name: String, isDirectory: Bool)] {
        guard let handle = opendir(directory) else {
            if errno == ENOENT { return [] }
            throw failure("opendir", directory)
        }
        defer { closedir(handle) }
        var names: [(String, Bool)] = []
        while let entry = readdir(handle) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            guard name != "." && name != ".." else { continue }
            var status = stat()
            let isDirectory = stat(directory + "/" + name, &status) == 0 && (status.st_mode & S_IFMT) == S_IFDIR
            names.append((name, isDirectory))
        }
        return names
    }

    /// Renames `path` to `newPath` (atomic within one file system), replacing what is there.
    static func move(_ path: String, to newPath: String) throws(ArchiveError) {
        if rename(path, newPath) != 0 { throw failure("rename", path) }
    }

    /// Removes a file; a missing one is not an error.
    static func remove(_ path: String) throws(ArchiveError) {
        if unlink(path) != 0, errno != ENOENT { throw failure("unlink", path) }
    }

    /// Removes a directory tree; a missing one is not an error.
    static func removeTree(_ path: String) throws(ArchiveError) {
        for entry in try list(path) {
            let child = path + "/" + entry.name
            if entry.isDirectory { try removeTree(child) } else { try remove(child) }
        }
        if rmdir(path) != 0, errno != ENOENT { throw failure("rmdir", path) }
    }

    /// The directory part of `path`.
    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func failure(_ call: String, _ path: String) -> ArchiveError {
        let code = errno
        return ArchiveError(.io, "\(call) \(path): \(String(cString: strerror(code))) (errno \(code))")
    }
}
