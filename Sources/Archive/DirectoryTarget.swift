import EventLog
import Foundation
import SystemIO

/// An archive in a local (or mounted) directory, `file:///DIR`. Each object is a file at `DIR/<key>`,
/// written to a temporary file, fsynced and renamed into place, so a reader never sees a partial object.
/// Object Lock does not exist here: immutability is up to the file system's permissions.
public struct DirectoryTarget: ArchiveTarget {
    /// The directory, as an absolute or relative path.
    public let root: String

    /// A target rooted at `root` (created on the first `put`).
    public init(root: String) {
        self.root = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
    }

    /// `file://` and the absolute directory path.
    public var location: String { "file://" + (root.hasPrefix("/") ? root : FileManager.default.currentDirectoryPath + "/" + root) }

    private func path(for key: String) throws(ArchiveError) -> String {
        let components = key.split(separator: "/", omittingEmptySubsequences: false)
        guard !key.isEmpty, !key.hasPrefix("/"), !components.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
            throw ArchiveError(.configuration, key: key, "object keys must be relative paths without . or .. parts")
        }
        return root + "/" + key
    }

    public func put(key: String, body: Data, sha256: [UInt8]) async throws(ArchiveError) {
        let path = try path(for: key)
        try await BlockingIO.run { () throws(ArchiveError) in try fileCall { try FileSystem.writeAtomically(body, to: path, creatingDirectory: true) } }
    }

    public func get(key: String) async throws(ArchiveError) -> Data? {
        let path = try path(for: key)
        return try await BlockingIO.run { () throws(ArchiveError) in try fileCall { try FileSystem.data(of: path) } }
    }

    public func head(key: String) async throws(ArchiveError) -> ArchiveObjectInfo? {
        let path = try path(for: key)
        return await BlockingIO.run { FileSystem.size(path).map { ArchiveObjectInfo(key: key, sizeBytes: $0) } }
    }

    public func list(prefix: String) async throws(ArchiveError) -> [ArchiveObjectInfo] {
        let root = self.root
        return try await BlockingIO.run { () throws(ArchiveError) in
            var found: [ArchiveObjectInfo] = []
            func walk(_ relative: String) throws(ArchiveError) {
                let directory = relative.isEmpty ? root : root + "/" + relative
                for entry in try fileCall({ try FileSystem.list(directory) }) {
                    let key = relative.isEmpty ? entry.name : relative + "/" + entry.name
                    if entry.isDirectory {
                        // Only descend where keys with `prefix` can be.
                        if prefix.hasPrefix(key + "/") || (key + "/").hasPrefix(prefix) { try walk(key) }
                    } else if key.hasPrefix(prefix), !entry.name.contains(".tmp-"),
                              let size = FileSystem.size(directory + "/" + entry.name) {
                        found.append(ArchiveObjectInfo(key: key, sizeBytes: size))
                    }
                }
            }
            try walk("")
            return found.sorted { $0.key < $1.key }
        }
    }
}
