import Foundation
import SystemIO

/// Sizes of files that tests inspect, and byte edits of files that tests damage (as a crash or a failing
/// disk would).
public enum TestFiles {
    /// What a test asked of a file that is not there.
    public struct MissingError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The size of the file at `path`, in bytes.
    /// - Throws: `MissingError` when nothing is there.
    public static func sizeBytes(_ path: String) throws -> Int {
        guard let size = FileSystem.size(path) else { throw MissingError(description: "no file at \(path)") }
        return Int(size)
    }

    /// Writes `count` zero bytes into the file at `path` from byte `position` on (a zeroed sector, a frame
    /// cut short); the file grows when they reach past its end.
    /// - Throws: when the file cannot be opened or written (`FileHandle`'s error).
    public static func zero(_ path: String, at position: Int, count: Int) throws {
        try write([UInt8](repeating: 0, count: count), into: path, at: position)
    }

    /// Damages the byte at `position` of the file at `path` (XOR 0x5A: it never keeps its value), as a failing
    /// disk would.
    /// - Throws: `MissingError` when the file holds no byte there; when the file cannot be opened, read or
    ///   written (`FileHandle`'s error).
    public static func flipByte(_ path: String, at position: Int) throws {
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(position))
        guard let byte = try handle.read(upToCount: 1)?.first else { throw MissingError(description: "no byte \(position) in \(path)") }
        try handle.seek(toOffset: UInt64(position))
        try handle.write(contentsOf: [byte ^ 0x5A])
    }

    /// Writes `bytes` into the file at `path` from byte `position` on.
    /// - Throws: when the file cannot be opened or written (`FileHandle`'s error).
    public static func write(_ bytes: [UInt8], into path: String, at position: Int) throws {
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(position))
        try handle.write(contentsOf: bytes)
    }
}
