/// A hash tile (or the `tree-size` file that names the stored tree) that is missing or does not hold
/// what it should (the tiles are derived data: `MerkleTileStore` rebuilds them from the log). Every case
/// names the file; `description` reads `Merkle tile <path>: <what is wrong>`.
public enum MerkleTileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The tile file is not there.
    case missing(path: String)
    /// The file holds `sizeBytes` bytes where `expectedSizeBytes` belong.
    case wrongSize(path: String, sizeBytes: Int, expectedSizeBytes: Int)
    /// The tile's hashes are not those the log gives.
    case differsFromLog(path: String)
    /// The tile's hashes do not give the hash the level above holds for it.
    case differsFromLevelAbove(path: String)
    /// The `tree-size` file is not a size, a base64 root and base64 partial tiles.
    case unreadableTreeSize(path: String)
    /// The root in the `tree-size` file is not the root of the log's first `treeSize` events.
    case rootDiffers(path: String, treeSize: UInt64)
    /// The `tree-size` file names `treeSize` events but the log holds `logTreeSize`.
    case treeSizeBeyondLog(path: String, treeSize: UInt64, logTreeSize: UInt64)
    /// The tiles would have to be rebuilt from offset 0 but the local log starts at `firstOffset`
    /// (retention); the tiles are kept. `storedTreeDamaged`: the stored tree is damaged (otherwise no
    /// stored anchor reaches the log's start).
    case notRebuildable(path: String, firstOffset: UInt64, storedTreeDamaged: Bool)
    /// The right edge held in memory does not hold the `hashCount` hashes of a partial tile.
    case edgeIncomplete(path: String, hashCount: Int)
    /// A full tile was asked for where the edge alone serves (computing a root).
    case notNeededForRoot(path: String)

    /// The file concerned.
    public var path: String {
        switch self {
        case let .missing(path), let .wrongSize(path, _, _), let .differsFromLog(path), let .differsFromLevelAbove(path),
             let .unreadableTreeSize(path), let .rootDiffers(path, _), let .treeSizeBeyondLog(path, _, _),
             let .notRebuildable(path, _, _), let .edgeIncomplete(path, _), let .notNeededForRoot(path):
            return path
        }
    }

    /// What is wrong with the file.
    public var reason: String {
        switch self {
        case .missing: "missing"
        case let .wrongSize(_, sizeBytes, expectedSizeBytes): "\(sizeBytes) bytes, expected \(expectedSizeBytes)"
        case .differsFromLog: "differs from the hashes of the log"
        case .differsFromLevelAbove: "its hashes do not give the hash the level above holds for it"
        case .unreadableTreeSize: "unreadable (expected a size, a base64 root and the base64 partial tiles, one line each)"
        case let .rootDiffers(_, treeSize): "its root differs from the root of the log's first \(treeSize) events"
        case let .treeSizeBeyondLog(_, treeSize, logTreeSize): "names \(treeSize) events but the log holds \(logTreeSize)"
        case let .notRebuildable(_, firstOffset, false):
            "the local log starts at offset \(firstOffset) (retention) and no anchor reaches it: the tiles cannot be rebuilt from it and are kept"
        case let .notRebuildable(_, firstOffset, true):
            "the stored tree is damaged and the local log starts at offset \(firstOffset) (retention): the tiles cannot be rebuilt from it and are kept"
        case let .edgeIncomplete(_, hashCount): "the right edge in memory does not hold \(hashCount) hashes"
        case .notNeededForRoot: "not needed for a root"
        }
    }

    public var description: String { "Merkle tile \(path): \(reason)" }
}
