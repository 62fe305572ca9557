import ArgusTestSupport
import Foundation
import Merkle
import Testing
@testable import EventLog

/// The log's hash tiles against an in-memory tree of the same leaves (the `tail --format json` lines).
@Suite(.timeLimit(.minutes(5))) struct MerkleTileStoreTests {
    static let eventCount = 600

    /// A log of `eventCount` events and the leaf hashes of their envelopes.
    static func makeLog(_ directory: TemporaryDirectory) async throws -> MerkleLeafHashes {
        let log = try EventLog(directory: directory.appending("log"), options: TestSupport.options(segmentSizeBytes: 16 * 1024))
        for number in 0..<eventCount { _ = try await log.append(TestSupport.event(number)) }
        log.close()
        return MerkleLeafHashes(leaves: try TestSupport.readAll(directory.appending("log")).map { $0.envelope() })
    }

    /// `makeLog`, and its tiles brought up to the whole log in `merkle/`.
    static func makeTiles(_ directory: TemporaryDirectory) async throws -> (reference: MerkleLeafHashes, store: MerkleTileStore, merkle: String) {
        let reference = try await makeLog(directory)
        let store = MerkleTileStore(directory: directory.appending("merkle"), logDirectory: directory.appending("log"))
        try store.update()
        return (reference, store, directory.appending("merkle"))
    }

    static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    static func contents(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

    static func storedTree(_ merkle: String) throws -> StoredMerkleTree {
        try #require(StoredMerkleTree(text: try contents(merkle + "/tree-size")))
    }

    /// Flips a bit of the partial tile of `level` kept in `tree-size` (its base64 line is re-encoded).
    static func flipEdgeByte(_ merkle: String, level: Int = 0, at index: Int = 5) throws {
        var stored = try storedTree(merkle)
        stored.edge[level][index] ^= 1
        try Data(stored.text).write(to: URL(fileURLWithPath: merkle + "/tree-size"))
    }

    @Test func incrementalTilesGiveTheRootsAndProofsOfTheLog() async throws {
        let directory = TemporaryDirectory()
        let reference = try await Self.makeLog(directory)
        let store = MerkleTileStore(directory: directory.appending("merkle"), logDirectory: directory.appending("log"))
        for size: UInt64 in [1, 100, 255, 256, 257, 300, 513] {
            #expect(try store.update(to: size) == size)
            #expect(try store.rootHash(treeSize: size) == MerkleTree.rootHash(of: reference, treeSize: size), "size \(size)")
        }
        #expect(try store.update() == UInt64(Self.eventCount))
        let merkle = directory.appending("merkle")
        // Tiles 0/000 and 0/001 packed in level 0's file; the partial tiles 0/002.p/88 and 1/000.p/2 in tree-size.
        #expect(try Self.contents(merkle + "/level-0.tiles") == Array((0..<512).map { reference.leafHashes[$0] }.joined()))
        #expect(!Self.exists(merkle + "/level-1.tiles"), "level 1 has no full tile yet")
        #expect(!Self.exists(merkle + "/tile"), "no file per tile")
        let stored = try Self.storedTree(merkle)
        #expect(stored.treeSize == 600 && stored.edge.map(\.count) == [88 * 32, 2 * 32])
        #expect(stored.rootHash == (try MerkleTree.rootHash(of: reference, treeSize: 600)))
        let size = UInt64(Self.eventCount)
        for (index, treeSize) in [(0, size), (255, size), (256, 257), (599, size), (300, 513)] as [(UInt64, UInt64)] {
            #expect(try store.inclusionProof(leafIndex: index, treeSize: treeSize)
                == MerkleProof.inclusion(leafIndex: index, treeSize: treeSize, source: reference), "leaf \(index) of \(treeSize)")
        }
        for (from, to) in [(1, size), (256, 600), (255, 513), (600, 600), (7, 9)] as [(UInt64, UInt64)] {
            #expect(try store.consistencyProof(from: from, to: to) == MerkleProof.consistency(from: from, to: to, source: reference))
        }
        // Another store on the same directory starts from what is stored.
        let again = MerkleTileStore(directory: merkle, logDirectory: directory.appending("log"))
        #expect(try again.update(to: 10) == size)
        #expect(try again.rootHash(treeSize: size) == MerkleTree.rootHash(of: reference, treeSize: size))
    }

    @Test func boundsAreChecked() async throws {
        let directory = TemporaryDirectory()
        _ = try await Self.makeLog(directory)
        let store = MerkleTileStore(directory: directory.appending("merkle"), logDirectory: directory.appending("log"))
        #expect(throws: MerkleProofError.treeSizeBeyondLog(treeSize: 601, logSize: 600)) { try store.update(to: 601) }
        try store.update(to: 200)
        #expect(throws: MerkleProofError.treeSizeBeyondLog(treeSize: 201, logSize: 200)) { try store.rootHash(treeSize: 201) }
        #expect(throws: MerkleProofError.leafIndexOutOfRange(leafIndex: 200, treeSize: 200)) {
            try store.inclusionProof(leafIndex: 200, treeSize: 200)
        }
        #expect(throws: MerkleProofError.treeSizesOutOfOrder(from: 100, to: 50)) { try store.consistencyProof(from: 100, to: 50) }
    }

    @Test func damagedOrMissingTilesAreRebuiltFromTheLog() async throws {
        let directory = TemporaryDirectory()
        let reference = try await Self.makeLog(directory)
        let merkle = directory.appending("merkle")
        let size = UInt64(Self.eventCount)
        let expectedRoot = try MerkleTree.rootHash(of: reference, treeSize: size)
        let expectedProof = try MerkleProof.inclusion(leafIndex: 3, treeSize: size, source: reference)
        try MerkleTileStore(directory: merkle, logDirectory: directory.appending("log")).update()

        // A level file cut short (a torn write): the proof that reads the lost tile rebuilds the tiles.
        #expect(truncate(merkle + "/level-0.tiles", 8192 + 100) == 0)
        let store = MerkleTileStore(directory: merkle, logDirectory: directory.appending("log"))
        try store.update()
        #expect(try store.inclusionProof(leafIndex: 300, treeSize: size)
            == MerkleProof.inclusion(leafIndex: 300, treeSize: size, source: reference))
        #expect(try TestFiles.sizeBytes(merkle + "/level-0.tiles") == 2 * 8192, "rebuilt whole")
        #expect(try store.inclusionProof(leafIndex: 3, treeSize: size) == expectedProof)

        // A flipped byte in a partial tile: the stored root no longer matches, so opening rebuilds.
        try Self.flipEdgeByte(merkle)
        let reopened = MerkleTileStore(directory: merkle, logDirectory: directory.appending("log"))
        #expect(try reopened.update() == size)
        #expect(try reopened.rootHash(treeSize: size) == expectedRoot)

        // Everything gone: rebuilt.
        try FileManager.default.removeItem(atPath: merkle)
        let fresh = MerkleTileStore(directory: merkle, logDirectory: directory.appending("log"))
        #expect(try fresh.update() == size)
        #expect(try fresh.rootHash(treeSize: size) == expectedRoot)
    }

    /// Removes the log's sealed segments below `offset` as retention does; returns the new first offset.
    static func retain(from offset: UInt64, log directory: String) throws -> UInt64 {
        let bases = try SegmentCatalog.baseOffsets(directory: directory)
        for (base, next) in zip(bases, bases.dropFirst()) where next <= offset {
            try FileManager.default.removeItem(atPath: directory + "/" + SegmentName.log(baseOffset: base))
            try? FileManager.default.removeItem(atPath: directory + "/" + SegmentName.index(baseOffset: base))
        }
        return try #require(try SegmentCatalog.baseOffsets(directory: directory).first)
    }

    /// Once retention removed the log's start and nothing durable covers it, damaged tiles are refused,
    /// never deleted: loading and rebuilding both say why, and every tile file is still there.
    @Test func tilesThatCannotBeRebuiltAreKept() async throws {
        let directory = TemporaryDirectory()
        _ = try await Self.makeLog(directory)
        let merkle = directory.appending("merkle")
        let log = directory.appending("log")
        try MerkleTileStore(directory: merkle, logDirectory: log).update()
        let first = try Self.retain(from: 300, log: log)
        #expect(first > 0)
        try Self.flipEdgeByte(merkle)
        let files = try FileManager.default.subpathsOfDirectory(atPath: merkle).sorted()

        let store = MerkleTileStore(directory: merkle, logDirectory: log)
        let updateError = #expect(throws: MerkleTileError.self) { try store.update() }
        let rebuildError = #expect(throws: MerkleTileError.self) { try store.rebuild() }
        for error in [updateError, rebuildError] {
            guard case .notRebuildable(_, let firstOffset, _)? = error else {
                Issue.record("\(String(describing: error)) does not say the tiles cannot be rebuilt")
                continue
            }
            #expect(firstOffset == first, "the error names where the local log starts")
        }
        #expect(try FileManager.default.subpathsOfDirectory(atPath: merkle).sorted() == files, "nothing deleted")
        #expect(Self.exists(merkle + "/level-0.tiles"))
    }

    /// `synchronize()` records a durable anchor before retention: damaged tiles above it are then rebuilt
    /// from the anchor and the events after it, and give the log's roots and proofs again.
    @Test func anAnchorLetsTilesBeRebuiltAfterRetention() async throws {
        let directory = TemporaryDirectory()
        let reference = try await Self.makeLog(directory)
        let merkle = directory.appending("merkle")
        let log = directory.appending("log")
        let size = UInt64(Self.eventCount)
        let store = MerkleTileStore(directory: merkle, logDirectory: log)
        try store.update(to: 300, persisting: false)
        #expect(try store.synchronize() == 300)
        #expect(Self.exists(merkle + "/anchor"))
        try store.update()
        _ = try Self.retain(from: 300, log: log)

        // A damaged stored edge: the anchor and the log after it give the tree again.
        try Self.flipEdgeByte(merkle)
        let reopened = MerkleTileStore(directory: merkle, logDirectory: log)
        #expect(try reopened.update() == size)
        #expect(try reopened.rootHash(treeSize: size) == MerkleTree.rootHash(of: reference, treeSize: size))
        // A full tile above the anchor changed on disk: a proof that reads it rebuilds from the anchor.
        try TestFiles.flipByte(merkle + "/level-0.tiles", at: 8192 + 40)
        try reopened.rebuild()
        #expect(try reopened.inclusionProof(leafIndex: 257, treeSize: size)
            == MerkleProof.inclusion(leafIndex: 257, treeSize: size, source: reference))
        #expect(try reopened.consistencyProof(from: 300, to: size)
            == MerkleProof.consistency(from: 300, to: size, source: reference))
    }

    /// `synchronize()` checks each full tile against the level above before it anchors: a changed one is
    /// rebuilt first (while the log still starts at 0), so the anchor never covers a wrong tile.
    @Test func synchronizeChecksTheTilesItMakesDurable() async throws {
        let directory = TemporaryDirectory()
        let (reference, store, merkle) = try await Self.makeTiles(directory)
        try TestFiles.flipByte(merkle + "/level-0.tiles", at: 100)
        #expect(try store.synchronize() == UInt64(Self.eventCount))
        let tile = Array(try Self.contents(merkle + "/level-0.tiles").prefix(8192))
        #expect(tile == (0..<256).flatMap { reference.leafHashes[$0] }, "rebuilt before it was made durable")
    }

    /// Between checkpoints the server folds without persisting: full tiles are written as they fill,
    /// `tree-size` (with the partial tiles) only when persisting.
    @Test func treeSizeIsWrittenOnlyWhenPersisting() async throws {
        let directory = TemporaryDirectory()
        _ = try await Self.makeLog(directory)
        let merkle = directory.appending("merkle")
        let level0 = merkle + "/level-0.tiles"
        let store = MerkleTileStore(directory: merkle, logDirectory: directory.appending("log"))
        #expect(try store.update(to: 300, persisting: false) == 300)
        #expect(try TestFiles.sizeBytes(level0) == 8192)
        #expect(!Self.exists(merkle + "/tree-size"))
        #expect(try store.update(to: 300) == 300)
        #expect(try Self.storedTree(merkle).edge.map(\.count) == [44 * 32, 1 * 32])
        #expect(try store.update(to: 513, persisting: false) == 513)
        #expect(try TestFiles.sizeBytes(level0) == 2 * 8192)
        #expect(try Self.storedTree(merkle).treeSize == 300, "the stored size stays until the next persist")
        #expect(try store.update(to: 513) == 513)
        #expect(try Self.storedTree(merkle).edge.map(\.count) == [1 * 32, 2 * 32])
    }

    /// Writes the earlier layout for the first `size` leaves: a file per tile (`tile/<L>/<N>[.p/<W>]`) and
    /// `tree-size` of the size and root only.
    static func writeLegacyTiles(_ reference: MerkleLeafHashes, size: Int, to merkle: String) throws {
        func write(_ bytes: [UInt8], _ path: String) throws {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        }
        var builder = MerkleTileBuilder()
        for index in 0..<size {
            try builder.append(leafHash: reference.leafHashes[index]) { tile, bytes in try write(bytes, merkle + "/" + tile.path) }
        }
        for (tile, bytes) in builder.partialTiles { try write(bytes, merkle + "/" + tile.path) }
        try write(Array("\(size)\n\(Data(builder.rootHash).base64EncodedString())\n".utf8), merkle + "/tree-size")
    }

    /// A directory of the earlier layout is converted at the first update: its tiles are the only copy
    /// once retention removed the log's start, so the proofs that need them must come from the copy.
    @Test func theEarlierLayoutIsConverted() async throws {
        let directory = TemporaryDirectory()
        let reference = try await Self.makeLog(directory)
        let merkle = directory.appending("merkle")
        let log = directory.appending("log")
        try Self.writeLegacyTiles(reference, size: Self.eventCount, to: merkle)
        // The anchor retention left (the same form before and after), and a stray name far beyond the tree.
        var anchor = MerkleTileBuilder()
        for index in 0..<300 { anchor.append(leafHash: reference.leafHashes[index]) { _, _ in } }
        try Data(StoredMerkleTree(anchor).text).write(to: URL(fileURLWithPath: merkle + "/anchor"))
        try FileManager.default.createDirectory(atPath: merkle + "/tile/0/x999/x999/x999/x999/x999", withIntermediateDirectories: true)
        try Data(count: 8192).write(to: URL(fileURLWithPath: merkle + "/tile/0/x999/x999/x999/x999/x999/999"))
        #expect(try Self.retain(from: 300, log: log) > 0)
        let size = UInt64(Self.eventCount)
        let store = MerkleTileStore(directory: merkle, logDirectory: log)
        #expect(try store.update() == size)
        #expect(!Self.exists(merkle + "/tile"), "the earlier layout is removed once copied")
        #expect(try Self.contents(merkle + "/level-0.tiles") == Array((0..<512).map { reference.leafHashes[$0] }.joined()),
                "the tiles the stored sizes cover, and nothing beyond them")
        #expect(try Self.storedTree(merkle).treeSize == 600)
        #expect(try store.synchronize() == size, "the copies are whole: the anchor moves on")
        #expect(try Self.storedTree(merkle).edge.map(\.count) == [88 * 32, 2 * 32], "the partial tiles moved into tree-size")
        #expect(try store.inclusionProof(leafIndex: 3, treeSize: size) == MerkleProof.inclusion(leafIndex: 3, treeSize: size, source: reference))
        #expect(try store.consistencyProof(from: 10, to: size) == MerkleProof.consistency(from: 10, to: size, source: reference))
    }

    /// A conversion cut short (level files written, `tile/` still there) is done again at the next open;
    /// `verify`'s audit converts too, and then finds nothing wrong.
    @Test func anInterruptedConversionIsDoneAgain() async throws {
        let directory = TemporaryDirectory()
        let reference = try await Self.makeLog(directory)
        let merkle = directory.appending("merkle")
        try Self.writeLegacyTiles(reference, size: Self.eventCount, to: merkle)
        try Data(repeating: 0xFF, count: 3 * 8192 + 17).write(to: URL(fileURLWithPath: merkle + "/level-0.tiles"))
        let audit = try MerkleTileStore(directory: merkle, logDirectory: directory.appending("log")).audit()
        #expect(audit.problems.isEmpty, "\(audit.problems)")
        #expect(audit.treeSize == 600 && audit.checkedTileCount == 4)
        #expect(!Self.exists(merkle + "/tile"))
        #expect(try Array(Self.contents(merkle + "/level-0.tiles").prefix(2 * 8192)) == Array((0..<512).map { reference.leafHashes[$0] }.joined()))
    }

    /// A conversion that a crash cut short after renaming `tile/` away leaves `tile.migrated-<pid>`: the next
    /// open removes it, following no symbolic link (one inside, or one of that name, leaves its target alone).
    @Test func aConversionsLeftoverIsRemovedAtOpen() async throws {
        let directory = TemporaryDirectory()
        let (reference, _, merkle) = try await Self.makeTiles(directory)
        let outside = directory.appending("outside")
        try FileManager.default.createDirectory(atPath: outside + "/sub", withIntermediateDirectories: true)
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: outside + "/keep"))
        try Data([4]).write(to: URL(fileURLWithPath: outside + "/sub/keep"))
        let leftover = merkle + "/tile.migrated-4242"
        try FileManager.default.createDirectory(atPath: leftover + "/0", withIntermediateDirectories: true)
        try Data(count: 8192).write(to: URL(fileURLWithPath: leftover + "/0/000"))
        try FileManager.default.createSymbolicLink(atPath: leftover + "/0/link", withDestinationPath: outside)
        try FileManager.default.createSymbolicLink(atPath: merkle + "/tile.migrated-1", withDestinationPath: outside)
        try Data([9]).write(to: URL(fileURLWithPath: merkle + "/tile.migrated-7"))
        let reopened = MerkleTileStore(directory: merkle, logDirectory: directory.appending("log"))
        #expect(try reopened.update() == UInt64(Self.eventCount))
        #expect(!Self.exists(leftover), "the leftover directory is removed")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: merkle + "/tile.migrated-1") == outside,
                "a link of that name is not a leftover directory: left as it is")
        #expect(try Self.contents(outside + "/keep") == [1, 2, 3] && Self.contents(outside + "/sub/keep") == [4],
                "no link is followed")
        #expect(try Self.contents(merkle + "/tile.migrated-7") == [9], "a file of that name is left")
        #expect(try reopened.rootHash(treeSize: 600) == MerkleTree.rootHash(of: reference, treeSize: 600))
    }

    /// Tile paths of the earlier layout with more than three digits (`x001/234` is tile 1234) land at their
    /// index; partial tiles, temporary files, short tiles and foreign names are left out.
    @Test func theEarlierLayoutsPathsAreRead() throws {
        let directory = TemporaryDirectory()
        let merkle = directory.appending("merkle")
        let first = [UInt8](repeating: 1, count: 8192)
        let second = [UInt8](repeating: 2, count: 8192)
        // tree-size of the earlier form names a tree of 70,000,000 leaves: level 0 holds 273,437 full tiles,
        // level 1 holds 1,068, level 2 holds 4.
        let files: [(String, [UInt8])] = [
            ("tile/0/x001/234", first), ("tile/0/005", second), ("tile/0/006", [UInt8](repeating: 3, count: 100)),
            ("tile/0/x001/235.tmp-77", first), ("tile/0/007.p/3", first), ("tile/0/xabc/007", first), ("tile/1/x001/000", second),
            ("tile/0/x999/x999/000", first), ("tile/1/x001/068", first), ("tile/00/008", first), ("tile/2/004", first),
            ("tree-size", Array("70000000\n\(Data(count: 32).base64EncodedString())\n".utf8)),
        ]
        for (path, bytes) in files {
            let full = merkle + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(bytes).write(to: URL(fileURLWithPath: full))
        }
        let store = MerkleTileStore(directory: merkle, logDirectory: directory.appending("log"))
        try store.locked { _ in }
        #expect(!Self.exists(merkle + "/tile"))
        let level0 = try Self.contents(merkle + "/level-0.tiles")
        #expect(level0.count == 1235 * 8192)
        #expect(Array(level0[(1234 * 8192)...]) == first)
        #expect(Array(level0[(5 * 8192)..<(6 * 8192)]) == second)
        #expect(level0[(6 * 8192)..<(1234 * 8192)].allSatisfy { $0 == 0 }, "nothing else copied (level 00 is no level)")
        let level1 = try Self.contents(merkle + "/level-1.tiles")
        #expect(level1.count == 1001 * 8192 && Array(level1[(1000 * 8192)...]) == second, "tile 1/1068 is beyond the tree")
        #expect(!Self.exists(merkle + "/level-2.tiles"), "tile 2/004 is beyond the tree")
    }

    /// Zeros where a full tile belongs (a crash after a later tile extended the level file) are never
    /// handed out: the archive's read checks each tile against the level above and rebuilds.
    @Test func aZeroedTileIsCaughtBeforeItIsHandedOut() async throws {
        let directory = TemporaryDirectory()
        let (reference, store, merkle) = try await Self.makeTiles(directory)
        let level0 = try FileHandle(forWritingTo: URL(fileURLWithPath: merkle + "/level-0.tiles"))
        try level0.write(contentsOf: Data(count: 8192))
        try level0.close()
        let tile = MerkleTile(level: 0, index: 0, width: 256)
        #expect(try store.hashes(of: tile) == Array((0..<256).map { reference.leafHashes[$0] }.joined()))
        #expect(try Array(Self.contents(merkle + "/level-0.tiles").prefix(8192)) == Array((0..<256).map { reference.leafHashes[$0] }.joined()),
                "rebuilt")
        // A partial tile of an earlier size is the prefix of a full tile now: checked the same way.
        try TestFiles.flipByte(merkle + "/level-0.tiles", at: 8192 + 7)
        #expect(try store.hashes(of: MerkleTile(level: 0, index: 1, width: 10)) == Array((256..<266).map { reference.leafHashes[$0] }.joined()))
    }

    /// The archive's pass over many tiles: one damaged tile rebuilds the tiles once, and every tile handed
    /// out is the log's (full, partial, and the partial tile of an earlier size).
    @Test func aPassOverManyTilesRebuildsADamagedOne() async throws {
        let directory = TemporaryDirectory()
        let (reference, store, merkle) = try await Self.makeTiles(directory)
        try TestFiles.flipByte(merkle + "/level-0.tiles", at: 8192 + 40)
        let tiles = MerkleTile.tiles(treeSize: 600) + [MerkleTile(level: 0, index: 1, width: 10)]
        #expect(tiles.count == 5)
        let expected = try tiles.map { tile in
            try (0..<UInt64(tile.width)).flatMap { try reference.subtreeHash(level: 8 * tile.level, index: tile.index * 256 + $0) }
        }
        #expect(try store.hashes(of: tiles) == expected)
        #expect(try Array(Self.contents(merkle + "/level-0.tiles")[8192...]) == expected[1], "rebuilt")
    }

    /// A level file that lost tiles below the anchor (removed, cut short) is noticed before the anchor
    /// moves on: the tiles are rebuilt first (the log still starts at 0), and the anchor is never removed.
    @Test func synchronizeNoticesALevelFileThatLostTiles() async throws {
        let directory = TemporaryDirectory()
        let reference = try await Self.makeLog(directory)
        let merkle = directory.appending("merkle")
        let store = MerkleTileStore(directory: merkle, logDirectory: directory.appending("log"))
        try store.update(to: 300, persisting: false)
        #expect(try store.synchronize() == 300)
        try FileManager.default.removeItem(atPath: merkle + "/level-0.tiles")
        try store.update()
        #expect(try store.synchronize() == UInt64(Self.eventCount))
        #expect(try Self.contents(merkle + "/level-0.tiles") == Array((0..<512).map { reference.leafHashes[$0] }.joined()))
        #expect(Self.exists(merkle + "/anchor"))
        try store.rebuild()
        #expect(Self.exists(merkle + "/anchor"), "a rebuild deletes nothing")
    }

    /// `tree-size` larger than its form allows (or with more lines than a 64-bit tree has levels) is not
    /// read as a tree: the store rebuilds, and `verify`'s audit names it unreadable.
    @Test func anOversizedTreeSizeIsNotATree() async throws {
        let directory = TemporaryDirectory()
        let (reference, store, merkle) = try await Self.makeTiles(directory)
        var good = try Self.contents(merkle + "/tree-size")
        #expect(StoredMerkleTree(text: good) != nil)
        #expect(StoredMerkleTree(text: good + Array(repeating: UInt8(ascii: "\n"), count: 9)) == nil, "more lines than levels")
        good += Array(repeating: UInt8(ascii: "A"), count: StoredMerkleTree.textSizeBytesMax) + [UInt8(ascii: "\n")]
        try Data(good).write(to: URL(fileURLWithPath: merkle + "/tree-size"))
        let audit = try store.audit()
        #expect(audit.problems.contains(.unreadableTreeSize(path: merkle + "/tree-size")), "\(audit.problems)")
        let reopened = MerkleTileStore(directory: merkle, logDirectory: directory.appending("log"))
        #expect(try reopened.update() == UInt64(Self.eventCount))
        #expect(try reopened.rootHash(treeSize: 600) == MerkleTree.rootHash(of: reference, treeSize: 600))
    }
}
