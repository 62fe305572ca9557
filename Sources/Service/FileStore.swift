import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Small crash-safe files: each record is one file replaced atomically (temp file, fsync, rename,
/// directory fsync), so a crash leaves either the old or the new version, never a mix.
enum FileStore {
    /// Writes `bytes` to `directory/name` atomically, readable by the owner only.
    static func write(_ bytes: [UInt8], directory: String, name: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/" + name
        let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw StoreError.system(call: "open", path: temporary, errno: errno) }
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress.unsafelyUnwrapped + written, bytes.count - written) }
            if result < 0 {
                let code = errno
                if code == EINTR { continue }
                close(descriptor)
                unlink(temporary)
                throw StoreError.system(call: "write", path: temporary, errno: code)
            }
            written += result
        }
        if fsync(descriptor) != 0 {
            let code = errno
            close(descriptor)
            unlink(temporary)
            throw StoreError.system(call: "fsync", path: temporary, errno: code)
        }
        close(descriptor)
        if rename(temporary, path) != 0 {
            let code = errno
            unlink(temporary)
            throw StoreError.system(call: "rename", path: path, errno: code)
        }
        try syncDirectory(directory)
    }

    /// Removes `directory/name` durably; a missing file is not an error.
    static func remove(directory: String, name: String) throws {
        if unlink(directory + "/" + name) != 0, errno != ENOENT {
            throw StoreError.system(call: "unlink", path: directory + "/" + name, errno: errno)
        }
        try syncDirectory(directory)
    }

    static func syncDirectory(_ directory: String) throws {
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw StoreError.system(call: "open", path: directory, errno: errno) }
        defer { close(descriptor) }
        if fsync(descriptor) != 0 { throw StoreError.system(call: "fsync", path: directory, errno: errno) }
    }

    /// The contents of `directory/name`, or nil when missing.
    static func read(directory: String, name: String) -> [UInt8]? {
        guard let data = FileManager.default.contents(atPath: directory + "/" + name) else { return nil }
        return [UInt8](data)
    }

    /// Names of the files in `directory` ending in `suffix` (temporary files excluded).
    static func names(in directory: String, suffix: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(suffix) && !$0.contains(".tmp-") }.sorted()
    }
}

/// A failure of the service's own stores.
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    case system(call: String, path: String, errno: Int32)
    case corrupt(path: String, reason: String)

    public var description: String {
        switch self {
        case .system(let call, let path, let code): return "\(call) \(path): \(String(cString: strerror(code))) (errno \(code))"
        case .corrupt(let path, let reason): return "\(path) is damaged: \(reason)"
        }
    }
}
