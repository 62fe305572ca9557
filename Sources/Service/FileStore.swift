import Foundation
import SystemIO
#if canImport(Glibc)
import Glibc
#endif

/// The service's small files (clients, webhooks, spool, journals), written through
/// `FileSystem.writeAtomically`, so a crash leaves either the old or the new version, never a mix.
enum FileStore {
    /// Writes `bytes` to `directory/name` atomically, readable by the owner only.
    static func write(_ bytes: [UInt8], directory: String, name: String) throws {
        try FileSystem.createDirectory(directory)
        try FileSystem.writeAtomically(bytes, to: directory + "/" + name, mode: 0o600)
    }

    /// Removes `directory/name` durably; a missing file is not an error.
    static func remove(directory: String, name: String) throws {
        try FileSystem.remove(directory + "/" + name)
        try FileSystem.synchronizeDirectory(directory)
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
package enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A file call failed.
    case system(SystemError)
    /// A stored file cannot be read back.
    case corrupt(path: String, reason: String)
    /// A value the store refuses (such as an organization id or a scope list), and why.
    case invalid(String)
    /// A client already holds `limit` live tokens.
    case clientTokenLimit(limit: Int)
    /// The token store holds `limit` live tokens.
    case tokenLimit(limit: Int)
    /// `limit` clients are registered.
    case clientLimit(limit: Int)

    public var description: String {
        switch self {
        case .system(let error): return error.description
        case .corrupt(let path, let reason): return "\(path) is damaged: \(reason)"
        case .invalid(let reason): return reason
        case .clientTokenLimit(let limit): return "this client holds \(limit) live tokens; reuse one or revoke some"
        case .tokenLimit: return "too many live tokens; try again later"
        case .clientLimit(let limit): return "at most \(limit) clients"
        }
    }
}

extension FileStore {
    /// The legacy format of the service's journals before SystemIO's `Journal`: one JSON object per
    /// line. Each line becomes one record (a torn last line fails to parse later and is dropped).
    static let jsonLines: @Sendable ([UInt8]) -> [[UInt8]] = { bytes in
        bytes.split(separator: UInt8(ascii: "\n")).map(Array.init)
    }
}
