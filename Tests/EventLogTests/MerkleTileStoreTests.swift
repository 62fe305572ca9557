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
}
