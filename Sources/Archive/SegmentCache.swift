import EventLog
import Foundation
import SystemIO
#if canImport(Glibc)
import Glibc
#endif

/// Archived segments fetched back for reading, in `<data-dir>/archive-cache`, at most `capacityBytes`
/// in total (least recently used segments are evicted first; the one just fetched never is).
///
/// Each segment lives alone in `<cache>/<20-digit base>/<20-digit base>.log`, so
/// `LogReader(directory:)` reads it as a one-segment log. A fetched object is verified against its
/// manifest entry before it is placed, atomically, in the cache: size and SHA-256 of the object, and
/// the segment itself (`LogVerifier.verifySegment`: every record's CRC, dense offsets from the entry's
/// base, the hash chain from the entry's chain-in to its chain-out, the record count). A segment that
/// fails is refused with the first bad offset. What is in the cache passed those checks when it arrived.
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

    /// A directory holding exactly the segment of `entry`, fetching and verifying it when it is not cached.
    /// - Throws: `ArchiveError.integrity` (with `offset`, the first bad record) when the archived object is
    ///   missing or differs from its entry; `.io`, `.http`, `.network` when it cannot be fetched or stored.
    package func segmentDirectory(for entry: ArchiveManifestEntry) async throws(ArchiveError) -> String {
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
            throw ArchiveError(.integrity, key: entry.segmentKey, offset: entry.baseOffset, "archived segment is missing")
        }
        let capacity = capacityBytes
        let root = directory
        try await BlockingIO.run { () throws(ArchiveError) in
            let incoming = segmentDirectory + "/incoming-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).log"
            try fileCall { try FileSystem.writeAtomically(body, to: incoming, creatingDirectory: true) }
            do throws(ArchiveError) {
                try Self.check(incoming, against: entry)
                try fileCall { try FileSystem.move(incoming, to: path) }
            } catch {
                try? fileCall { try FileSystem.remove(incoming) }
                throw error
            }
            try Self.evict(root: root, keeping: segmentDirectory, capacityBytes: capacity)
        }
        return segmentDirectory
    }

    /// Verifies the segment file at `path` against `entry`.
    /// - Throws: `ArchiveError.integrity` naming the segment key and the first bad offset.
    static func check(_ path: String, against entry: ArchiveManifestEntry) throws(ArchiveError) {
        let report: SegmentVerification
        do {
            report = try LogVerifier.verifySegment(path: path, expectedBaseOffset: entry.baseOffset, expectedChainIn: entry.chainIn)
        } catch {
            throw ArchiveError(.io, key: entry.segmentKey, "cannot read the fetched segment: \(error)")
        }
        func refuse(_ offset: UInt64, _ why: String) -> ArchiveError {
            ArchiveError(.integrity, key: entry.segmentKey, offset: offset,
                         "archived segment differs from its manifest entry at offset \(offset): \(why); refused")
        }
        if let bad = report.firstBadOffset { throw refuse(bad, report.problem.map { String($0.drop(while: { $0 != " " }).dropFirst()) } ?? "damaged") }
        guard report.recordCount == entry.recordCount else {
            throw refuse(entry.baseOffset + min(report.recordCount, entry.recordCount), "\(report.recordCount) records, the entry says \(entry.recordCount)")
        }
        guard report.chainOut == entry.chainOut else { throw refuse(entry.lastOffset ?? entry.baseOffset, "the hash chain ends differently") }
        guard report.sizeBytes == entry.sizeBytes, report.sha256 == entry.sha256 else {
            throw refuse(entry.baseOffset, "SHA-256 or size differs")
        }
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
