import Synchronization

/// The manifest of an archive as a lazily loaded index: base offsets come from one listing of
/// `manifest/`, entries are fetched on first use and kept.
public final class ArchiveManifest: Sendable {
    /// The archive the entries come from.
    public let target: any ArchiveTarget
    /// Base offsets of every entry, ascending.
    public let baseOffsets: [UInt64]
    private let entries = Mutex<[UInt64: ArchiveManifestEntry]>([:])

    private init(target: any ArchiveTarget, baseOffsets: [UInt64]) {
        self.target = target
        self.baseOffsets = baseOffsets
    }

    /// Lists the manifest of `target`.
    /// - Throws: `ArchiveError` when the target cannot be listed.
    public static func load(target: any ArchiveTarget) async throws(ArchiveError) -> ArchiveManifest {
        let bases = try await target.list(prefix: ArchiveLayout.manifestPrefix)
            .compactMap { ArchiveLayout.baseOffset(ofManifestKey: $0.key) }.sorted()
        return ArchiveManifest(target: target, baseOffsets: bases)
    }

    /// The entry at `baseOffset`.
    /// - Throws: `ArchiveError.integrity` when it is missing or malformed.
    public func entry(baseOffset: UInt64) async throws(ArchiveError) -> ArchiveManifestEntry {
        if let cached = entries.withLock({ $0[baseOffset] }) { return cached }
        let key = ArchiveLayout.manifestKey(baseOffset: baseOffset)
        guard let data = try await target.get(key: key) else {
            throw ArchiveError(.integrity, key: key, "manifest entry is missing")
        }
        let entry = try ArchiveManifestEntry.decode(data, key: key)
        guard entry.baseOffset == baseOffset else {
            throw ArchiveError(.integrity, key: key, "entry describes base offset \(entry.baseOffset)")
        }
        entries.withLock { $0[baseOffset] = entry }
        return entry
    }

    /// The entry whose segment holds `offset`, or nil when the archive does not hold it.
    public func entry(containing offset: UInt64) async throws(ArchiveError) -> ArchiveManifestEntry? {
        guard let base = baseOffsets.last(where: { $0 <= offset }) else { return nil }
        let entry = try await entry(baseOffset: base)
        return offset < entry.nextOffset ? entry : nil
    }

    /// The first entry whose last record is at or after `timestampMs` (binary search; fetches O(log n) entries).
    package func firstEntry(endingAtOrAfter timestampMs: Int64) async throws(ArchiveError) -> ArchiveManifestEntry? {
        var low = 0
        var high = baseOffsets.count
        while low < high {
            let middle = (low + high) / 2
            let entry = try await entry(baseOffset: baseOffsets[middle])
            if (entry.lastTimestampMs ?? .min) < timestampMs { low = middle + 1 } else { high = middle }
        }
        return low < baseOffsets.count ? try await entry(baseOffset: baseOffsets[low]) : nil
    }
}
