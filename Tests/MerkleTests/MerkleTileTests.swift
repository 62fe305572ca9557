import ArgusTestSupport
import Crypto
@testable import Merkle
import Testing

@Suite struct MerkleTileTests {
    @Test func pathsFollowC2SPTlogTiles() {
        #expect(MerkleTile.encodedIndex(1_234_067) == "x001/x234/067")
        #expect(MerkleTile.encodedIndex(5) == "005")
        #expect(MerkleTile.encodedIndex(1000) == "x001/000")
        #expect(MerkleTile(level: 0, index: 5, width: 256).path == "tile/0/005")
        #expect(MerkleTile(level: 2, index: 1000, width: 3).path == "tile/2/x001/000.p/3")
    }

    @Test func tilesOfATree() {
        let tiles = MerkleTile.tiles(treeSize: 256 * 2 + 88)
        #expect(tiles.map(\.path) == ["tile/0/000", "tile/0/001", "tile/0/002.p/88", "tile/1/000.p/2"])
        #expect(MerkleTile.tile(level: 1, holding: 1, treeSize: 600) == MerkleTile(level: 1, index: 0, width: 2))
        #expect(MerkleTile.tile(level: 1, holding: 2, treeSize: 600) == nil)
        #expect(MerkleTile.tiles(treeSize: 0).isEmpty)
    }

    /// The builder's tiles and roots against the in-memory tree, leaf by leaf and in runs of any length
    /// (the store folds the writer's hashes in runs): the same edge, the same tiles emitted once each (run
    /// lengths drawn from a seed the failure messages name; `ARGUS_TEST_SEED=<seed>` reruns them).
    @Test func theBuilderFoldsLeavesOneByOneOrInRunsAlike() throws {
        let count = 66_000
        let leaves = (0..<count).map { Crypto.SHA256.hash(Array("leaf \($0)".utf8)) }
        var single = MerkleTileBuilder()
        var singleTiles: [MerkleTile: [UInt8]] = [:]
        for (number, leaf) in leaves.enumerated() {
            single.append(leafHash: leaf) { tile, bytes in
                #expect(singleTiles[tile] == nil, "each tile is emitted once")
                singleTiles[tile] = bytes
            }
            if [1, 255, 256, 257, 65_535, 65_536, 65_537].contains(number + 1) {
                #expect(single.rootHash == (try MerkleTree.rootHash(of: MerkleLeafHashes(leafHashes: Array(leaves[0...number])), treeSize: UInt64(number + 1))),
                        "size \(number + 1)")
            }
        }
        var runs = MerkleTileBuilder()
        var runTiles: [MerkleTile: [UInt8]] = [:]
        let concatenated = leaves.flatMap { $0 }
        var start = 0
        var generator = try SeededGenerator.varying()
        while start < concatenated.count {
            let length = min(concatenated.count - start, 32 * Int.random(in: 1...700, using: &generator))
            runs.append(concatenatedLeafHashes: concatenated[start..<(start + length)]) { tile, bytes in runTiles[tile] = bytes }
            start += length
        }
        #expect(runs == single, "seed \(generator.seed)")
        #expect(runTiles == singleTiles, "seed \(generator.seed)")
        #expect(Set(runTiles.keys) == Set(MerkleTile.tiles(treeSize: UInt64(count)).filter(\.isFull)))
        #expect(runs.partialTiles.map(\.tile) == MerkleTile.partialTiles(treeSize: UInt64(count)))
        #expect(MerkleTileBuilder(treeSize: single.treeSize, edge: single.edge) == single)
        #expect(MerkleTileBuilder(treeSize: single.treeSize + 1, edge: single.edge) == nil, "edge widths must fit the size")
    }
}
