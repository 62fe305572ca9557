/// One C2SP `tlog-tiles` hash tile: tile height 8, so a full tile holds 256 hashes (8,192 bytes).
///
/// Tile `index` at tile level `level` holds the hashes of the complete subtrees at tree level
/// `8 * level`, indices `index * 256 ..< index * 256 + width`. A partial tile (width below 256)
/// is the right edge of a tree whose size is not a multiple of `256^(level+1)`.
public struct MerkleTile: Sendable, Equatable, Hashable {
    /// Tree levels per tile level.
    public static let height = 8
    /// Hashes in a full tile.
    public static let fullWidth = 256

    /// Tile level (0 holds leaf hashes).
    public let level: Int
    /// Tile index within its level.
    public let index: UInt64
    /// Number of hashes it holds, 1 to 256.
    public let width: Int

    /// - Precondition: `1 <= width <= 256`, `level >= 0`.
    public init(level: Int, index: UInt64, width: Int) {
        precondition(level >= 0 && width >= 1 && width <= Self.fullWidth, "tile level \(level), width \(width)")
        self.level = level
        self.index = index
        self.width = width
    }

    /// Whether the tile holds 256 hashes (then it never changes).
    public var isFull: Bool { width == Self.fullWidth }

    /// The path below the log prefix: `tile/<L>/<N>[.p/<W>]`, N in 3-digit groups, all but the last
    /// prefixed with `x` (C2SP tlog-tiles: 1234067 is `x001/x234/067`).
    public var path: String {
        "tile/\(level)/" + Self.encodedIndex(index) + (isFull ? "" : ".p/\(width)")
    }

    /// `index` as C2SP path elements.
    package static func encodedIndex(_ index: UInt64) -> String {
        var groups: [String] = []
        var rest = index
        repeat {
            let group = String(rest % 1000)
            groups.insert(String(repeating: "0", count: 3 - group.count) + group, at: 0)
            rest /= 1000
        } while rest > 0
        return groups.dropLast().map { "x" + $0 }.joined(separator: "/") + (groups.count > 1 ? "/" : "") + groups.last!
    }

    /// The tiles a tree of `treeSize` leaves consists of: for each tile level, the full tiles and
    /// the one partial tile at the right edge (if any), lowest level first.
    package static func tiles(treeSize: UInt64) -> [MerkleTile] {
        var result: [MerkleTile] = []
        var level = 0
        var hashCount = treeSize
        while hashCount > 0 {
            let fullCount = hashCount / UInt64(fullWidth)
            for index in 0..<fullCount { result.append(MerkleTile(level: level, index: index, width: fullWidth)) }
            let partial = Int(hashCount % UInt64(fullWidth))
            if partial > 0 { result.append(MerkleTile(level: level, index: fullCount, width: partial)) }
            hashCount = fullCount
            level += 1
        }
        return result
    }

    /// The partial tiles of a tree of `treeSize` leaves (its right edge), lowest level first.
    package static func partialTiles(treeSize: UInt64) -> [MerkleTile] {
        var result: [MerkleTile] = []
        var level = 0
        var hashCount = treeSize
        while hashCount > 0 {
            let width = Int(hashCount % UInt64(fullWidth))
            hashCount /= UInt64(fullWidth)
            if width > 0 { result.append(MerkleTile(level: level, index: hashCount, width: width)) }
            level += 1
        }
        return result
    }

    /// The right-edge tile at `level` of a tree of `treeSize` leaves holding hash `hashIndex` of that
    /// tile level: full when complete, otherwise the partial tile of that size. Nil when the tree
    /// does not hold that hash.
    package static func tile(level: Int, holding hashIndex: UInt64, treeSize: UInt64) -> MerkleTile? {
        var hashCount = treeSize
        for _ in 0..<level { hashCount /= UInt64(fullWidth) }
        guard hashIndex < hashCount else { return nil }
        let index = hashIndex / UInt64(fullWidth)
        let width = min(UInt64(fullWidth), hashCount - index * UInt64(fullWidth))
        return MerkleTile(level: level, index: index, width: Int(width))
    }
}
