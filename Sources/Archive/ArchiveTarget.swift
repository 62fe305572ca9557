import Crypto
import EventLog
import Foundation

/// Cold storage for archived segments and manifest entries: a directory (`DirectoryTarget`) or an S3
/// bucket (`S3Target`). Keys are relative to the target's prefix and use `/` separators. Every `put`
/// is atomic for readers: an object is either absent, or present with all its bytes.
public protocol ArchiveTarget: Sendable {
    /// Where the objects go, such as `s3://bucket/prefix/` or `file:///srv/archive`; never holds secrets.
    var location: String { get }

    /// Stores `body` under `key`, replacing any object there.
    /// - Parameter sha256: SHA-256 of `body` (32 bytes); targets that can check it on arrival do.
    /// - Throws: `ArchiveError` (`.http`, `.network`, `.io`, `.integrity`).
    func put(key: String, body: Data, sha256: [UInt8]) async throws(ArchiveError)

    /// The object's bytes, or nil when there is no such object.
    func get(key: String) async throws(ArchiveError) -> Data?

    /// Every object whose key starts with `prefix`, in ascending key order.
    func list(prefix: String) async throws(ArchiveError) -> [ArchiveObjectInfo]

    /// Size (and SHA-256 when known) of the object, or nil when there is no such object.
    func head(key: String) async throws(ArchiveError) -> ArchiveObjectInfo?
}

extension ArchiveTarget {
    /// Checks that the object under `key` is intact: present, `sizeBytes` long, with SHA-256 `sha256`.
    /// Uses the checksum the target reports when it has one, and reads the object back otherwise.
    /// - Throws: `ArchiveError.integrity` naming the key when the object is missing or differs.
    public func verifyStored(key: String, sizeBytes: Int64, sha256: [UInt8]) async throws(ArchiveError) {
        guard let info = try await head(key: key) else {
            throw ArchiveError(.integrity, key: key, "the object is missing right after its upload")
        }
        guard info.sizeBytes == sizeBytes else {
            throw ArchiveError(.integrity, key: key, "stored object is \(info.sizeBytes) bytes, expected \(sizeBytes)")
        }
        if let stored = info.sha256 {
            guard stored == sha256 else { throw ArchiveError(.integrity, key: key, "stored SHA-256 checksum differs") }
            return
        }
        guard let body = try await get(key: key) else {
            throw ArchiveError(.integrity, key: key, "the object is missing when read back")
        }
        let digest = await BlockingIO.run { body.withUnsafeBytes { SHA256.hash($0) } }
        guard body.count == sizeBytes, digest == sha256 else {
            throw ArchiveError(.integrity, key: key, "the object read back differs from what was uploaded")
        }
    }
}
