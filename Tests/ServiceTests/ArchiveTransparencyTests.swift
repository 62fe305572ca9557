import Archive
import Crypto
import EventLog
import Foundation
import Merkle
@testable import Service
import Testing

/// The archive as a transparency log: `TransparencyLog.publish` puts the hash tiles and the checkpoint
/// of what the archive holds beside its segments, uploads only what is new, and never overwrites a
/// checkpoint of another key or another history.
@Suite(.timeLimit(.minutes(2))) struct ArchiveTransparencyTests {
    @Test func tilesAndTheCheckpointOfTheArchivedSizeAreUploaded() async throws {
        let root = NSTemporaryDirectory() + "argus-archive-tlog-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let layout = DataLayout(root: root)
        try await TransparencyLogTests.append(600, from: 0, to: layout.log)
        let transparency = try TransparencyLog(layout: layout)
        let target = DirectoryTarget(root: root + "/archive")

        let first = try await transparency.publish(to: target, treeSize: 300)
        #expect(first == .init(treeSize: 300, uploadedTileCount: 3, alreadyThere: false))
        for key in ["tile/0/000", "tile/0/001.p/44", "tile/1/000.p/1", "checkpoint"] {
            #expect(try await target.head(key: key) != nil, "\(key)")
        }
        let note = String(decoding: try #require(try await target.get(key: "checkpoint")), as: UTF8.self)
        let checkpoint = try Checkpoint(signedNote: note, verifier: transparency.signer.verifier)
        #expect(checkpoint.treeSize == 300)
        #expect(checkpoint.rootHash == (try transparency.tiles.rootHash(treeSize: 300)))
        // The tiles the archive holds are the log's: tile/0/000 is the first 256 leaf hashes.
        let leaves = try TestSupportRecords.leafHashes(layout.log)
        #expect(Array(try #require(try await target.get(key: "tile/0/000"))) == Array(leaves[0..<256].joined()))

        #expect(try await transparency.publish(to: target, treeSize: 300) == .init(treeSize: 300, uploadedTileCount: 0, alreadyThere: true))
        #expect(try await transparency.publish(to: target, treeSize: 200).alreadyThere, "never a smaller checkpoint")
        // Grown: tile/0/000 was covered by the archive's checkpoint; 001 and 002.p/88 and 1/000.p/2 are new.
        #expect(try await transparency.publish(to: target, treeSize: 600) == .init(treeSize: 600, uploadedTileCount: 3, alreadyThere: false))

        // A checkpoint of another history (same key, another root) is never overwritten.
        let forged = transparency.signer.sign(Checkpoint(origin: transparency.signer.verifier.name, treeSize: 600,
                                                         rootHash: [UInt8](repeating: 9, count: 32)).body)
        try await target.put(key: "checkpoint", body: Data(forged.utf8), sha256: SHA256.hash(Array(forged.utf8)))
        await #expect(throws: ArchiveError.self) { try await transparency.publish(to: target, treeSize: 600) }
    }
}

/// Leaf hashes of a log as the reader sees it.
enum TestSupportRecords {
    static func leafHashes(_ directory: String) throws -> [[UInt8]] {
        var reader = try LogReader(directory: directory, start: .beginning)
        var hashes: [[UInt8]] = []
        while let record = try reader.next() { hashes.append(MerkleTree.leafHash(record.envelope())) }
        return hashes
    }
}
