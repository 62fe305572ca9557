#if canImport(Glibc)
import Glibc
#endif

/// An owned POSIX file descriptor: every call retries `EINTR`, loops over short reads and writes, and
/// throws a `SystemError` naming the call, the path and the offset. Closed on deinit. All calls block.
///
/// `@unchecked Sendable`: the descriptor is an integer; `pread`/`pwrite`/`fdatasync` are thread-safe,
/// and the only mutation (closing) happens in deinit. Appending (`writeAll`) uses the file position:
/// callers serialise their appends.
package final class FileDescriptor: @unchecked Sendable {
    package let rawValue: Int32
    package let path: String

    private init(rawValue: Int32, path: String) {
        self.rawValue = rawValue
        self.path = path
    }

    deinit { close(rawValue) }

    /// Opens `path` with `flags` (O_CLOEXEC is added); `mode` applies to a file it creates.
    package static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o600) throws(SystemError) -> FileDescriptor {
        while true {
            let descriptor = Glibc.open(path, flags | O_CLOEXEC, mode)
            if descriptor >= 0 { return FileDescriptor(rawValue: descriptor, path: path) }
            if Glibc.errno != EINTR { throw .current("open", path) }
        }
    }

    /// Opens `path` with `flags` (read-only by default), or returns nil when it does not exist.
    package static func openIfExists(_ path: String, _ flags: Int32 = O_RDONLY) throws(SystemError) -> FileDescriptor? {
        do {
            return try open(path, flags)
        } catch where error.errno == ENOENT {
            return nil
        }
    }

    /// The file's size in bytes.
    package func size() throws(SystemError) -> Int64 {
        var status = stat()
        if fstat(rawValue, &status) != 0 { throw .current("fstat", path) }
        return Int64(status.st_size)
    }

    /// Writes all of `bytes` at `position`.
    package func write(_ bytes: UnsafeRawBufferPointer, at position: Int64) throws(SystemError) {
        let written = try repeatTransfer(bytes.count, call: "pwrite", at: position) { done in
            pwrite(rawValue, bytes.baseAddress.unsafelyUnwrapped + done, bytes.count - done, off_t(position) + off_t(done))
        }
        if written < bytes.count { throw SystemError(call: "pwrite", path: path, errno: EIO, offset: position + Int64(written)) }
    }

    /// Writes all of `bytes` at `position`.
    package func write(_ bytes: [UInt8], at position: Int64) throws(SystemError) {
        let result = bytes.withUnsafeBytes { buffer in Result { () throws(SystemError) in try write(buffer, at: position) } }
        try result.get()
    }

    /// Writes all of `bytes` at the file position (the end, for a file opened with `O_APPEND`).
    package func writeAll(_ bytes: [UInt8]) throws(SystemError) {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(SystemError) in
                let written = try repeatTransfer(buffer.count, call: "write", at: nil) { done in
                    Glibc.write(rawValue, buffer.baseAddress.unsafelyUnwrapped + done, buffer.count - done)
                }
                if written < buffer.count { throw SystemError(call: "write", path: path, errno: EIO) }
            }
        }
        try result.get()
    }

    /// Reads up to `buffer.count` bytes at `position`; returns how many were read (fewer only at the end).
    package func read(into buffer: UnsafeMutableRawBufferPointer, at position: Int64) throws(SystemError) -> Int {
        try repeatTransfer(buffer.count, call: "pread", at: position) { done in
            pread(rawValue, buffer.baseAddress.unsafelyUnwrapped + done, buffer.count - done, off_t(position) + off_t(done))
        }
    }

    /// Repeats `step` (one read or write of the bytes from `done` on; returns the syscall's result)
    /// until `count` bytes moved or it returns 0, retrying `EINTR`. Returns the bytes moved.
    private func repeatTransfer(_ count: Int, call: String, at position: Int64?,
                                _ step: (_ done: Int) -> Int) throws(SystemError) -> Int {
        var done = 0
        while done < count {
            let result = step(done)
            if result < 0 {
                if Glibc.errno == EINTR { continue }
                throw .current(call, path, offset: position.map { $0 + Int64(done) })
            }
            if result == 0 { break }
            done += result
        }
        return done
    }

    /// Reads exactly `count` bytes at `position`, or fewer at the end of the file.
    package func read(count: Int, at position: Int64) throws(SystemError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let result = bytes.withUnsafeMutableBytes { buffer in
            Result { () throws(SystemError) in try read(into: buffer, at: position) }
        }
        let got = try result.get()
        if got < count { bytes.removeLast(count - got) }
        return bytes
    }

    /// The whole file, from byte 0 to its current size.
    package func readAll() throws(SystemError) -> [UInt8] {
        try read(count: Int(try size()), at: 0)
    }

    /// Makes written data durable (`fdatasync`).
    package func synchronizeData() throws(SystemError) {
        while fdatasync(rawValue) != 0 {
            if Glibc.errno != EINTR { throw .current("fdatasync", path) }
        }
    }

    /// Makes data and metadata durable (`fsync`).
    package func synchronize() throws(SystemError) {
        while fsync(rawValue) != 0 {
            if Glibc.errno != EINTR { throw .current("fsync", path) }
        }
    }

    /// Cuts (or extends with zeros) the file to `size` bytes.
    package func truncate(to size: Int64) throws(SystemError) {
        while ftruncate(rawValue, off_t(size)) != 0 {
            if Glibc.errno != EINTR { throw .current("ftruncate", path, offset: size) }
        }
    }
}
