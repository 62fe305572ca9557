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

    static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

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
        for path in ["tile/0/000", "tile/0/001", "tile/0/002.p/88", "tile/1/000.p/2"] {
            #expect(Self.exists(merkle + "/" + path), "\(path)")
        }
        #expect(!Self.exists(merkle + "/tile/0/002.p/1"), "the partial tile of an older size is removed")
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

        // A short full tile: the proof that reads it rebuilds the tiles.
        try Data(count: 100).write(to: URL(fileURLWithPath: merkle + "/tile/0/000"))
        let store = MerkleTileStore(directory: merkle, logDirectory: directory.appending("log"))
        try store.update()
        #expect(try store.inclusionProof(leafIndex: 3, treeSize: size) == expectedProof)

        // A flipped byte in a partial tile: the stored root no longer matches, so opening rebuilds.
        let partial = merkle + "/tile/0/002.p/88"
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: partial)))
        bytes[5] ^= 1
        try Data(bytes).write(to: URL(fileURLWithPath: partial))
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

    static func flipByte(_ path: String, at index: Int = 5) throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[index] ^= 1
        try Data(bytes).write(to: URL(fileURLWithPath: path))
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
        try Self.flipByte(merkle + "/tile/0/002.p/88")
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
        #expect(Self.exists(merkle + "/tile/0/000"))
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
        try Self.flipByte(merkle + "/tile/0/002.p/88")
        let reopened = MerkleTileStore(directory: merkle, logDirectory: log)
        #expect(try reopened.update() == size)
        #expect(try reopened.rootHash(treeSize: size) == MerkleTree.rootHash(of: reference, treeSize: size))
        // A full tile above the anchor changed on disk: a proof that reads it rebuilds from the anchor.
        try Self.flipByte(merkle + "/tile/0/001", at: 40)
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
        let reference = try await Self.makeLog(directory)
        let merkle = directory.appending("merkle")
        let store = MerkleTileStore(directory: merkle, logDirectory: directory.appending("log"))
        try store.update()
        try Self.flipByte(merkle + "/tile/0/000", at: 100)
        #expect(try store.synchronize() == UInt64(Self.eventCount))
        let tile = [UInt8](try Data(contentsOf: URL(fileURLWithPath: merkle + "/tile/0/000")))
        #expect(tile == (0..<256).flatMap { reference.leafHashes[$0] }, "rebuilt before it was made durable")
    }

    /// Between checkpoints the server folds without persisting: full tiles are written as they fill, the
    /// partial tiles and `tree-size` only when persisting.
    @Test func partialTilesAreWrittenOnlyWhenPersisting() async throws {
        let directory = TemporaryDirectory()
        _ = try await Self.makeLog(directory)
        let merkle = directory.appending("merkle")
        let store = MerkleTileStore(directory: merkle, logDirectory: directory.appending("log"))
        #expect(try store.update(to: 300, persisting: false) == 300)
        #expect(Self.exists(merkle + "/tile/0/000"))
        #expect(!Self.exists(merkle + "/tile/0/001.p/44"))
        #expect(!Self.exists(merkle + "/tree-size"))
        #expect(try store.update(to: 300) == 300)
        #expect(Self.exists(merkle + "/tile/0/001.p/44"))
        #expect(Self.exists(merkle + "/tree-size"))
        #expect(try store.update(to: 513, persisting: false) == 513)
        #expect(Self.exists(merkle + "/tile/0/001"))
        #expect(Self.exists(merkle + "/tile/0/001.p/44"), "the stored size's partial tile stays until the next persist")
        #expect(try store.update(to: 513) == 513)
        #expect(!Self.exists(merkle + "/tile/0/001.p/44"))
        #expect(Self.exists(merkle + "/tile/0/002.p/1"))
    }
}
