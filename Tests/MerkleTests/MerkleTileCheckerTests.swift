import ArgusTestSupport
import Crypto
@testable import Merkle
import Testing

/// `MerkleTileChecker` over tiles held in memory, counting the reads of each full tile.
@Suite struct MerkleTileCheckerTests {
    /// Two full level-1 tiles and a partial one above 513 full level-0 tiles; level 2 is the edge.
    static let treeSize: UInt64 = 2 * 65_536 + 300

    /// The tree's full tiles (by tile) and its edge.
    static let tree: (tiles: [MerkleTile: [UInt8]], builder: MerkleTileBuilder) = {
        var builder = MerkleTileBuilder()
        var tiles: [MerkleTile: [UInt8]] = [:]
        for number in 0..<treeSize {
            builder.append(leafHash: Crypto.SHA256.hash(Array("leaf \(number)".utf8))) { tile, bytes in tiles[tile] = bytes }
        }
        return (tiles, builder)
    }()

    static let fullTiles = MerkleTile.tiles(treeSize: treeSize).filter(\.isFull)

    /// The reads of each tile (one test, one thread).
    final class Reads {
        var counts: [MerkleTile: Int] = [:]
        var total: Int { counts.values.reduce(0, +) }
    }

    /// A source over `tiles` that counts the reads of each tile in `reads`.
    static func source(_ tiles: [MerkleTile: [UInt8]], reads: Reads) -> MerkleTileHashSource {
        MerkleTileHashSource(treeSize: treeSize, edge: tree.builder.edge) { tile in
            reads.counts[tile, default: 0] += 1
            guard let bytes = tiles[tile] else { throw MerkleTileError.missing(path: tile.path) }
            return bytes
        }
    }

    /// A run of tiles through one checker reads each tile once (the tile above a run once, not once per
    /// tile of the run); one checker per tile reads the level above again for every tile.
    @Test func aRunOfTilesReadsEachTileOnce() throws {
        #expect(Self.fullTiles.count == 513 + 2)
        let reads = Reads()
        var checker = MerkleTileChecker(source: Self.source(Self.tree.tiles, reads: reads))
        for tile in Self.fullTiles {
            #expect(try checker.hashes(of: tile) == Self.tree.tiles[tile], "\(tile.path)")
        }
        #expect(reads.counts == Dictionary(uniqueKeysWithValues: Self.fullTiles.map { ($0, 1) }))
        let singleReads = Reads()
        for tile in Self.fullTiles {
            var single = MerkleTileChecker(source: Self.source(Self.tree.tiles, reads: singleReads))
            #expect(try single.hashes(of: tile) == Self.tree.tiles[tile])
        }
        #expect(singleReads.counts[MerkleTile(level: 1, index: 0, width: 256)] == 257, "one at a time: the level above per tile")
    }

    /// The checker keeps at most `keptTileCountMax` tiles: past it a tile above is read again, and the
    /// results are the same.
    @Test func theKeptTilesAreBounded() throws {
        let reads = Reads()
        var checker = MerkleTileChecker(source: Self.source(Self.tree.tiles, reads: reads), keptTileCountMax: 1)
        for tile in Self.fullTiles {
            #expect(try checker.hashes(of: tile) == Self.tree.tiles[tile], "\(tile.path)")
        }
        // Tile 1/0 was dropped for 1/1 when the run reached level-0 tile 256: read again when asked for itself.
        #expect(reads.total == Self.fullTiles.count + 1)
        #expect(reads.counts[MerkleTile(level: 1, index: 0, width: 256)] == 2)
    }

    /// Tiles in random order through one checker give what one checker per tile gives, a damaged tile
    /// included (a flipped byte in level 0, and in level 1, which every tile below it then reports: the
    /// tile named is the one that does not give the hash above it). Seeded; the seed is in the messages.
    @Test func aRunGivesWhatTilesOneAtATimeGive() throws {
        var generator = try SeededGenerator.varying()
        var damaged = Self.tree.tiles
        let level0 = MerkleTile(level: 0, index: UInt64.random(in: 0..<513, using: &generator), width: 256)
        let level1 = MerkleTile(level: 1, index: 1, width: 256)
        damaged[level0]![Int.random(in: 0..<8192, using: &generator)] ^= 1
        damaged[level1]![Int.random(in: 0..<8192, using: &generator)] ^= 1
        let asked = Self.fullTiles.shuffled(using: &generator).prefix(200) + [level0, level1, MerkleTile(level: 0, index: 300, width: 256)]
        func outcome(_ checker: inout MerkleTileChecker, _ tile: MerkleTile) -> Result<[UInt8], MerkleTileError> {
            Result { () throws(MerkleTileError) in
                do { return try checker.hashes(of: tile) } catch let error as MerkleTileError { throw error } catch {
                    Issue.record("unexpected \(error)")
                    return []
                }
            }
        }
        let reads = Reads()
        var run = MerkleTileChecker(source: Self.source(damaged, reads: reads))
        var failures = 0
        for tile in asked {
            var single = MerkleTileChecker(source: Self.source(damaged, reads: reads))
            let expected = outcome(&single, tile)
            #expect(outcome(&run, tile) == expected, "\(tile.path), seed \(generator.seed)")
            if case .failure = expected { failures += 1 }
            if tile.level == 0, (256..<512).contains(tile.index) {
                #expect(expected == .failure(.differsFromLevelAbove(path: level1.path)), "\(tile.path), seed \(generator.seed)")
            } else if tile == level0 || tile == level1 {
                #expect(expected == .failure(.differsFromLevelAbove(path: tile.path)), "\(tile.path), seed \(generator.seed)")
            } else {
                #expect(expected == .success(Self.tree.tiles[tile]!), "\(tile.path), seed \(generator.seed)")
            }
        }
        #expect(failures >= 3)
    }
}
