import Merkle
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
}
