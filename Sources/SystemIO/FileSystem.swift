import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Crash-safe file and directory helpers (all block; errors carry the call, errno and path).
package enum FileSystem {
    /// Creates `path` and its parents when missing (mode 0700: the data directory is private).
    package static func createDirectory(_ path: String) throws(SystemError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component + "/"
            if mkdir(prefix, 0o700) != 0, Glibc.errno != EEXIST { throw .current("mkdir", prefix) }
        }
    }

    /// Makes directory entries (creations, renames, deletions) in `path` durable.
    package static func synchronizeDirectory(_ path: String) throws(SystemError) {
        let directory = try FileDescriptor.open(path, O_RDONLY | O_DIRECTORY)
        try directory.synchronize()
    }

    /// The names in `path` (not `.` or `..`); empty when the directory does not exist.
    package static func names(in path: String) throws(SystemError) -> [String] {
        guard let directory = opendir(path) else {
            if Glibc.errno == ENOENT { return [] }
            throw .current("opendir", path)
        }
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

    /// The entries of `path` and whether each is a directory; empty when the directory does not exist.
    package static func list(_ path: String) throws(SystemError) -> [(name: String, isDirectory: Bool)] {
        try names(in: path).map { name in (name, isDirectory(path + "/" + name)) }
    }

    /// Removes the file at `path`; a missing file is not an error.
    package static func remove(_ path: String) throws(SystemError) {
        if unlink(path) != 0, Glibc.errno != ENOENT { throw .current("unlink", path) }
    }

    /// Renames `path` to `newPath` (atomic within one file system), replacing what is there.
    package static func move(_ path: String, to newPath: String) throws(SystemError) {
        if rename(path, newPath) != 0 { throw .current("rename", path) }
    }

    /// Removes a directory tree; a missing one is not an error. A symbolic link inside is removed, never
    /// followed (what it points to stays); so is `path` itself when it is a link or a file.
    package static func removeTree(_ path: String) throws(SystemError) {
        var status = stat()
        if lstat(path, &status) == 0, (status.st_mode & S_IFMT) != S_IFDIR { return try remove(path) }
        for name in try names(in: path) {
            let child = path + "/" + name
            if isDirectory(child, followingLinks: false) { try removeTree(child) } else { try remove(child) }
        }
        if rmdir(path) != 0, Glibc.errno != ENOENT { throw .current("rmdir", path) }
    }

    /// Whether `path` is a directory; with `followingLinks: false` a symbolic link to one is not.
    package static func isDirectory(_ path: String, followingLinks: Bool = true) -> Bool {
        var status = stat()
        let result = followingLinks ? stat(path, &status) : lstat(path, &status)
        return result == 0 && (status.st_mode & S_IFMT) == S_IFDIR
    }

    /// Atomically and durably replaces `path` with `bytes`: a temporary file unique to this writer in
    /// the same directory, fsync, rename, fsync of the directory. A crash leaves the old or the new
    /// file, never a mix.
    /// - Parameters:
    ///   - mode: permissions of a new file (0600 for files that hold secrets).
    ///   - creatingDirectory: create the parent directory (and its parents) first when missing.
    package static func writeAtomically(_ bytes: UnsafeRawBufferPointer, to path: String, mode: mode_t = 0o600,
                                        creatingDirectory: Bool = false) throws(SystemError) {
        let directory = parent(of: path)
        if creatingDirectory { try createDirectory(directory) }
        let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do throws(SystemError) {
            let file = try FileDescriptor.open(temporary, O_WRONLY | O_CREAT | O_EXCL, mode: mode)
            try file.write(bytes, at: 0)
            try file.synchronize()
            if rename(temporary, path) != 0 { throw SystemError.current("rename", path) }
        } catch {
            unlink(temporary)
            throw error
        }
        try synchronizeDirectory(directory)
    }

    /// `writeAtomically` for an array.
    package static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t = 0o600,
                                        creatingDirectory: Bool = false) throws(SystemError) {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(SystemError) in try writeAtomically(buffer, to: path, mode: mode, creatingDirectory: creatingDirectory) }
        }
        try result.get()
    }

    /// `writeAtomically` for `Data`.
    package static func writeAtomically(_ data: Data, to path: String, mode: mode_t = 0o600,
                                        creatingDirectory: Bool = false) throws(SystemError) {
        let result = data.withUnsafeBytes { buffer in
            Result { () throws(SystemError) in try writeAtomically(buffer, to: path, mode: mode, creatingDirectory: creatingDirectory) }
        }
        try result.get()
    }

    /// The whole file at `path`, or nil when it does not exist.
    package static func contents(of path: String) throws(SystemError) -> [UInt8]? {
        try FileDescriptor.openIfExists(path)?.readAll()
    }

    /// The whole file at `path` as `Data` (for large bodies handed to Foundation APIs), or nil when it does not exist.
    package static func data(of path: String) throws(SystemError) -> Data? {
        guard let file = try FileDescriptor.openIfExists(path) else { return nil }
        let size = Int(try file.size())
        var data = Data(count: size)
        let result = data.withUnsafeMutableBytes { buffer in Result { () throws(SystemError) in try file.read(into: buffer, at: 0) } }
        let got = try result.get()
        if got < size { data.removeSubrange(got..<size) }
        return data
    }

    /// Size in bytes of what is at `path`, or nil when nothing is there.
    package static func size(_ path: String) -> Int64? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return Int64(status.st_size)
    }

    /// Modification time of `path` in nanoseconds since 1970, or nil when nothing is there.
    package static func modificationTimeNs(_ path: String) -> Int64? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return Int64(status.st_mtim.tv_sec) * 1_000_000_000 + Int64(status.st_mtim.tv_nsec)
    }

    /// Sets the modification time of `path` to now (LRU bookkeeping); a missing file is ignored.
    package static func touch(_ path: String) {
        _ = utimensat(AT_FDCWD, path, nil, 0)
    }

    /// The directory part of `path` (`.` for a bare name).
    package static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
