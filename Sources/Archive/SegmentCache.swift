import Crypto
import EventLog
import Foundation
import SystemIO

/// Archived segments fetched back for reading, in `<data-dir>/archive-cache`, at most `capacityBytes`
/// in total (least recently used segments are evicted first; the one just fetched never is).
///
/// Each segment lives alone in `<cache>/<20-digit base>/<20-digit base>.log`, so
/// `LogReader(directory:)` reads it as a one-segment log. A fetched object is checked against its
/// manifest entry (size and SHA-256) before it is placed, atomically, in the cache.
public struct SegmentCache: Sendable {
    /// Default capacity: 1 GiB.
    public static let defaultCapacityBytes: Int64 = 1 << 30

    /// The cache directory, `<data-dir>/archive-cache`.
    public let directory: String
    /// The archive segments are fetched from.
    public let target: any ArchiveTarget
    /// Upper bound on the cached segments' total size, in bytes (one segment larger than it is still kept while read).
    public let capacityBytes: Int64

    public init(directory: String, target: any ArchiveTarget, capacityBytes: Int64 = SegmentCache.defaultCapacityBytes) {
        self.directory = directory
        self.target = target
        self.capacityBytes = capacityBytes
    }

    /// `<data-dir>/archive-cache` for a data directory.
    public static func directory(dataDirectory: String) -> String { dataDirectory + "/archive-cache" }

    /// A directory holding exactly the segment of `entry`, fetching and checking it when it is not cached.
    /// - Throws: `ArchiveError.integrity` when the archived object is missing or differs from its entry;
    ///   `.io`, `.http`, `.network` when it cannot be fetched or stored.
    public func segmentDirectory(for entry: ArchiveManifestEntry) async throws(ArchiveError) -> String {
        let name = SegmentName.log(baseOffset: entry.baseOffset)
        let segmentDirectory = directory + "/" + String(name.dropLast(4))
        let path = segmentDirectory + "/" + name
        let hit = await BlockingIO.run { () -> Bool in
            guard FileSystem.size(path) == entry.sizeBytes else { return false }
            FileSystem.touch(path)
            return true
        }
        if hit { return segmentDirectory }
        guard let body = try await target.get(key: entry.segmentKey) else {
            throw ArchiveError(.integrity, key: entry.segmentKey, "archived segment is missing")
        }
        let capacity = capacityBytes
        let root = directory
        try await BlockingIO.run { () throws(ArchiveError) in
            let digest = body.withUnsafeBytes { SHA256.hash($0) }
            guard Int64(body.count) == entry.sizeBytes, digest == entry.sha256 else {
                throw ArchiveError(.integrity, key: entry.segmentKey, "archived segment differs from its manifest entry")
            }
            try fileCall { try FileSystem.writeAtomically(body, to: path, creatingDirectory: true) }
            try Self.evict(root: root, keeping: segmentDirectory, capacityBytes: capacity)
        }
        return segmentDirectory
    }

    /// Removes least recently used segment directories until the total is within `capacityBytes`.
    static func evict(root: String, keeping: String, capacityBytes: Int64) throws(ArchiveError) {
        var cached: [(directory: String, sizeBytes: Int64, usedNs: Int64)] = []
        for entry in try fileCall({ try FileSystem.list(root) }) where entry.isDirectory {
            let directory = root + "/" + entry.name
            let path = directory + "/" + entry.name + ".log"
            cached.append((directory, FileSystem.size(path) ?? 0, FileSystem.modificationTimeNs(path) ?? 0))
        }
        var total = cached.reduce(Int64(0)) { $0 + $1.sizeBytes }
        for candidate in cached.sorted(by: { $0.usedNs < $1.usedNs }) where total > capacityBytes {
            guard candidate.directory != keeping else { continue }
            try fileCall { try FileSystem.removeTree(candidate.directory) }
            total -= candidate.sizeBytes
        }
    }
}
