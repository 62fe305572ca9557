import Crypto
import Glibc
import Merkle
import SystemIO

/// What `MerkleTileStore.audit` found.
public struct MerkleTileAudit: Sendable, Equatable {
    /// The size `tree-size` names (0 when there is none: no tiles yet).
    public var treeSize: UInt64 = 0
    /// Tiles compared with the log.
    public var checkedTileCount = 0
    /// Each damaged or missing tile (or `tree-size`), with what is wrong, in tile order.
    public var problems: [MerkleTileError] = []
    /// The root of the log at each size asked for (sizes beyond the log are left out).
    public var rootHashes: [UInt64: [UInt8]] = [:]
}

extension MerkleTileStore {
    /// Recomputes the tree from the log and compares it with what is stored: every full tile below the
    /// size `tree-size` names, the partial tiles of that size (in `tree-size`) and its root. Changes
    /// nothing (a damaged tile set is rebuilt by the next `update` that reads it), except that a
    /// directory of the earlier layout is converted first. Also returns the log's root at each of
    /// `rootSizes` (to check stored checkpoints against).
    ///
    /// `tree-size` is read first, so an update by another process meanwhile (which only adds full
    /// tiles) does not show as damage.
    /// - Throws: `EventLogError` when the log cannot be read.
    public func audit(rootSizes: Set<UInt64> = []) throws -> MerkleTileAudit {
        if access(legacyTilesPath, F_OK) == 0 { try locked { _ in } }
        var audit = MerkleTileAudit()
        var storedEdge: [[UInt8]] = []
        var storedRoot: [UInt8]?
        if access(statePath, F_OK) == 0 {
            if let stored = try storedTree() {
                audit.treeSize = stored.treeSize
                storedRoot = stored.rootHash
                storedEdge = stored.edge
            } else {
                audit.problems.append(MerkleTileError.unreadableTreeSize(path: statePath))
            }
        }
        let end = max(audit.treeSize, rootSizes.max() ?? 0)
        var builder = MerkleTileBuilder()
        func check(_ tile: MerkleTile, expected: [UInt8], stored: [UInt8]?, path: String) {
            audit.checkedTileCount += 1
            guard let stored else { return audit.problems.append(MerkleTileError.missing(path: path)) }
            if stored != expected {
                audit.problems.append(stored.count == expected.count ? MerkleTileError.differsFromLog(path: path)
                    : MerkleTileError.wrongSize(path: path, sizeBytes: stored.count, expectedSizeBytes: expected.count))
            }
        }
        func noteRoot() throws {
            if rootSizes.contains(builder.treeSize) { audit.rootHashes[builder.treeSize] = builder.rootHash }
        }
        try noteRoot()
        if end > 0 {
            var reader = try LogReader(directory: logDirectory, start: .offset(0))
            let levelFiles = files.reader()  // one descriptor per level for the pass
            while builder.treeSize < end, let record = try reader.next() {
                guard record.offset == builder.treeSize else {
                    throw EventLogError.offsetOutOfRange(offset: builder.treeSize, firstOffset: record.offset, nextOffset: reader.nextOffset)
                }
                let inTree = builder.treeSize < audit.treeSize
                try builder.append(leafHash: RecentLeafHashes.leafHash(of: record)) { tile, bytes in
                    guard inTree else { return }
                    check(tile, expected: bytes, stored: try systemCall { try levelFiles.read(tile) }, path: files.location(of: tile))
                }
                try noteRoot()
                if builder.treeSize == audit.treeSize {
                    for (tile, bytes) in builder.partialTiles {
                        check(tile, expected: bytes, stored: tile.level < storedEdge.count ? storedEdge[tile.level] : nil,
                              path: statePath + " (" + tile.path + ")")
                    }
                    if builder.rootHash != storedRoot {
                        audit.problems.append(MerkleTileError.rootDiffers(path: statePath, treeSize: audit.treeSize))
                    }
                }
            }
        }
        if builder.treeSize < audit.treeSize {
            audit.problems.append(MerkleTileError.treeSizeBeyondLog(path: statePath, treeSize: audit.treeSize, logTreeSize: builder.treeSize))
        }
        return audit
    }
}
