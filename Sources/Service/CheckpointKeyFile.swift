import Crypto
import Glibc
import SystemIO

/// The log's checkpoint signing key, `keys/checkpoint.key` in the data directory: the base64 Ed25519
/// seed and a newline, mode 0600, created once (never replaced: a new key would be a new log).
package enum CheckpointKeyFile {
    /// Reads the key at `path`, creating it (and its directory, 0700) when missing. Two processes
    /// creating it at once end with the same key (`link` publishes the first one only).
    /// - Throws: `SystemError` (open, read), `CheckpointKeyError` when the file is not a key.
    package static func loadOrCreate(path: String) throws -> Ed25519PrivateKey {
        if let key = try load(path: path) { return key }
        let directory = FileSystem.parent(of: path)
        try FileSystem.createDirectory(directory)
        let key = try Ed25519PrivateKey.generate()
        let temporary = path + ".tmp-\(getpid())"
        try FileSystem.writeAtomically(Array((Base64.encode(key.seed) + "\n").utf8), to: temporary, mode: 0o600)
        defer { unlink(temporary) }
        if link(temporary, path) != 0, errno != EEXIST { throw SystemError.current("link", path) }
        try FileSystem.synchronizeDirectory(directory)
        guard let stored = try load(path: path) else { throw SystemError(call: "open", path: path, errno: ENOENT) }
        return stored
    }

    /// The key at `path`, or nil when there is none.
    /// - Throws: `SystemError`, `CheckpointKeyError` when the file does not hold a key.
    public static func load(path: String) throws -> Ed25519PrivateKey? {
        guard let bytes = try FileSystem.contents(of: path) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self).trimmingSuffix("\n")
        guard let seed = try? Base64.decode(text), seed.count == Ed25519PrivateKey.seedByteCount,
              let key = try? Ed25519PrivateKey(rawRepresentation: seed) else {
            throw CheckpointKeyError(path: path)
        }
        return key
    }
}

/// The checkpoint key file does not hold a base64 32-byte Ed25519 seed (its content is never shown).
package struct CheckpointKeyError: Error, Sendable, CustomStringConvertible {
    /// The file.
    public let path: String
    public var description: String { "\(path) does not hold a checkpoint key (base64 of a 32-byte Ed25519 seed)" }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String { hasSuffix(suffix) ? String(dropLast(suffix.count)) : self }
}
