import Crypto

/// Folds leaf hashes, in order, into C2SP `tlog-tiles` hash tiles (tile height 8): keeps the right
/// edge (the partial tile of each level) in memory and hands every tile that fills to the caller,
/// once (full tiles never change). The root of the tree so far comes from the edge alone.
///
/// A pure value: the log's tile store, its audit and the archive's audit share it.
package struct MerkleTileBuilder: Sendable, Equatable {
    /// Leaves folded so far.
    package private(set) var treeSize: UInt64
    /// Per tile level, the hashes of the partial tile at the right edge, concatenated (empty where
    /// that level's count is a multiple of 256).
    package private(set) var edge: [[UInt8]]

    /// The empty tree.
    package init() {
        treeSize = 0
        edge = []
    }

    /// The tree of `treeSize` leaves whose partial tiles are `edge` (as stored); nil when `edge` does
    /// not have the widths `treeSize` gives.
    package init?(treeSize: UInt64, edge: [[UInt8]]) {
        var hashCount = treeSize
        var level = 0
        while hashCount > 0 {
            let width = Int(hashCount % UInt64(MerkleTile.fullWidth))
            guard level < edge.count, edge[level].count == width * MerkleTree.hashByteCount else { return nil }
            hashCount /= UInt64(MerkleTile.fullWidth)
            level += 1
        }
        guard edge.count == level || edge[level...].allSatisfy(\.isEmpty) else { return nil }
        self.treeSize = treeSize
        self.edge = Array(edge.prefix(level))
    }

    /// Adds one leaf hash (32 bytes); every tile that fills goes to `emit` with its 256 hashes, lowest
    /// level first.
    /// - Throws: what `emit` throws (the leaf is then folded in already).
    package mutating func append(leafHash: some Collection<UInt8>, emit: (MerkleTile, [UInt8]) throws -> Void) rethrows {
        treeSize += 1
        if edge.isEmpty { edge.append([]) }
        edge[0].append(contentsOf: leafHash)
        var level = 0
        var levelSize = treeSize
        var filled: [(MerkleTile, [UInt8])] = []
        while edge[level].count == MerkleTile.fullWidth * MerkleTree.hashByteCount {
            levelSize /= UInt64(MerkleTile.fullWidth)
            let bytes = edge[level]
            filled.append((MerkleTile(level: level, index: levelSize - 1, width: MerkleTile.fullWidth), bytes))
            edge[level] = []
            level += 1
            if edge.count == level { edge.append([]) }
            edge[level] += Self.foldedRoot(of: bytes[...])
        }
        for (tile, bytes) in filled { try emit(tile, bytes) }
    }

    /// Adds the concatenated leaf hashes in `hashes` (32 bytes each), copying them into the edge a run at
    /// a time; every tile that fills goes to `emit`, as with `append(leafHash:emit:)`.
    /// - Precondition: `hashes.count` is a multiple of 32.
    /// - Throws: what `emit` throws (the hashes before it are folded in already).
    package mutating func append(concatenatedLeafHashes hashes: ArraySlice<UInt8>, emit: (MerkleTile, [UInt8]) throws -> Void) rethrows {
        precondition(hashes.count % MerkleTree.hashByteCount == 0, "leaf hashes are 32 bytes each")
        let tileBytes = MerkleTile.fullWidth * MerkleTree.hashByteCount
        var start = hashes.startIndex
        while start < hashes.endIndex {
            if edge.isEmpty { edge.append([]) }
            if edge[0].isEmpty { edge[0].reserveCapacity(tileBytes) }
            // All but the hash that fills the tile go in at once; that one goes through `append(leafHash:)`.
            let run = min(hashes.endIndex - start, tileBytes - MerkleTree.hashByteCount - edge[0].count)
            if run > 0 {
                edge[0].append(contentsOf: hashes[start..<(start + run)])
                treeSize += UInt64(run / MerkleTree.hashByteCount)
                start += run
            }
            if start < hashes.endIndex {
                try append(leafHash: hashes[start..<(start + MerkleTree.hashByteCount)], emit: emit)
                start += MerkleTree.hashByteCount
            }
        }
    }

    /// The partial tiles of the tree so far, lowest level first.
    package var partialTiles: [(tile: MerkleTile, bytes: [UInt8])] {
        var hashCount = treeSize
        var result: [(tile: MerkleTile, bytes: [UInt8])] = []
        for level in edge.indices {
            let width = Int(hashCount % UInt64(MerkleTile.fullWidth))
            hashCount /= UInt64(MerkleTile.fullWidth)
            if width > 0 { result.append((MerkleTile(level: level, index: hashCount, width: width), edge[level])) }
        }
        return result
    }

    /// The root of the tree so far (the complete subtrees a root needs all lie in the partial tiles).
    package var rootHash: [UInt8] {
        // The edge holds every subtree the root reads, so no full tile is asked for.
        (try? MerkleTree.rootHash(of: MerkleTileHashSource(treeSize: treeSize, edge: edge, fullTile: { tile in
            throw MerkleTileError.notNeededForRoot(path: tile.path)
        }), treeSize: treeSize)) ?? []
    }

    /// The root of a power-of-two count of concatenated hashes (a full tile's 256: the hash the next
    /// tile level holds for it), folded pairwise in one buffer.
    package static func foldedRoot(of bytes: ArraySlice<UInt8>) -> [UInt8] {
        let size = MerkleTree.hashByteCount
        var count = bytes.count / size
        if count == 1 { return Array(bytes) }
        var hashes = Array(bytes)
        hashes.withUnsafeMutableBytes { buffer in
            while count > 1 {
                // Each pair of hashes becomes its parent in place (two parents at a time on SHA-NI).
                SHA256.hashEach(prefix: 0x01, messages: UnsafeRawBufferPointer(buffer), messageCount: count / 2,
                                messageByteCount: 2 * size, into: buffer)
                count /= 2
            }
        }
        return Array(hashes[0..<size])
    }
}
