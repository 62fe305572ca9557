import Crypto
import EventLog
import Foundation
import Merkle
import Service
import Testing

/// Signed checkpoints over the log: the key file, signing only when the log grew, refusing to sign
/// a history that disagrees with the stored checkpoint.
@Suite(.timeLimit(.minutes(2))) struct TransparencyLogTests {
    static func append(_ count: Int, from first: Int, to directory: String) async throws {
        let log = try EventLog(directory: directory)
        for number in first..<(first + count) {
            _ = try await log.append(NewEvent(organizationID: "org_1", type: "user.created", eventID: "evt_\(number)",
                                              data: Array("{\"n\":\(number)}".utf8)))
        }
        log.close()
    }

    @Test func checkpointsAreSignedWhenTheLogGrowsAndStayConsistent() async throws {
        let root = NSTemporaryDirectory() + "argus-tlog-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let layout = DataLayout(root: root)
        try await Self.append(300, from: 0, to: layout.log)
        let transparency = try TransparencyLog(layout: layout)
        let mode = try FileManager.default.attributesOfItem(atPath: layout.checkpointKey)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(transparency.signer.verifier.name.hasPrefix("argus.local/"))

        let verifier = try NoteVerifier(verifierKey: transparency.verifierKey)
        let first = try transparency.latestCheckpoint()
        let firstCheckpoint = try Checkpoint(signedNote: first, verifier: verifier)
        #expect(firstCheckpoint.treeSize == 300)
        #expect(try transparency.latestCheckpoint() == first, "no new signature while the log did not grow")

        try await Self.append(50, from: 300, to: layout.log)
        let reopened = try TransparencyLog(layout: layout)
        #expect(reopened.verifierKey == transparency.verifierKey, "the key is kept")
        let second = try Checkpoint(signedNote: try reopened.latestCheckpoint(), verifier: verifier)
        #expect(second.treeSize == 350)
        let proof = try reopened.tiles.consistencyProof(from: 300, to: 350)
        try MerkleProof.verifyConsistency(from: 300, to: 350, fromRoot: firstCheckpoint.rootHash, toRoot: second.rootHash, proof: proof)

        // A stored checkpoint the log does not contain: nothing more is signed.
        let forged = reopened.signer.sign(Checkpoint(origin: reopened.signer.verifier.name, treeSize: 350,
                                                     rootHash: [UInt8](repeating: 1, count: 32)).body)
        try Data(forged.utf8).write(to: URL(fileURLWithPath: layout.merkle + "/checkpoint"))
        #expect(throws: TransparencyLogError.inconsistent(storedSize: 350, logSize: 350, cause: .rootMismatch)) {
            try reopened.latestCheckpoint()
        }
        // Stored larger than the log: no proof was made, so no cause.
        let larger = reopened.signer.sign(Checkpoint(origin: reopened.signer.verifier.name, treeSize: 351, rootHash: second.rootHash).body)
        try Data(larger.utf8).write(to: URL(fileURLWithPath: layout.merkle + "/checkpoint"))
        #expect(throws: TransparencyLogError.inconsistent(storedSize: 351, logSize: 350, cause: nil)) { try reopened.latestCheckpoint() }

        // The same notes presented by an auditor (`check(note:)`) are told apart from a refusal to sign.
        #expect(throws: TransparencyLogError.checkpointNotInLog(treeSize: 350, logSize: 350)) { try reopened.check(note: forged) }
        #expect(throws: TransparencyLogError.checkpointNotInLog(treeSize: 351, logSize: 350)) { try reopened.check(note: larger) }
        #expect("\(TransparencyLogError.checkpointNotInLog(treeSize: 351, logSize: 350))".contains("larger than the log"))
        let held = reopened.signer.sign(Checkpoint(origin: reopened.signer.verifier.name, treeSize: 350, rootHash: second.rootHash).body)
        #expect(try reopened.check(note: held).logSize == 350)
    }

    /// A consistency proof is verified before it is handed out: when a tile changed on disk and a
    /// rebuild cannot mend it (retention removed the events below the durable anchor), it is refused.
    @Test func aConsistencyProofThatDoesNotVerifyIsRefused() async throws {
        let root = NSTemporaryDirectory() + "argus-tlog-refuse-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let layout = DataLayout(root: root)
        var options = EventLogOptions()
        options.segmentSizeBytesMax = 16 * 1024
        options.fsyncPolicy = .none
        let log = try EventLog(directory: layout.log, options: options)
        for number in 0..<600 {
            _ = try await log.append(NewEvent(organizationID: "org_1", type: "user.created", eventID: "evt_\(number)",
                                              data: Array("{\"n\":\(number)}".utf8)))
        }
        log.close()
        let transparency = try TransparencyLog(layout: layout)
        _ = try transparency.latestCheckpoint()
        let good = try transparency.consistencyProof(from: 10, to: 600)
        #expect(try transparency.tiles.synchronize() == 600)
        let bases = try SegmentCatalog.baseOffsets(directory: layout.log)
        for (base, next) in zip(bases, bases.dropFirst()) where next <= 300 {
            try FileManager.default.removeItem(atPath: layout.log + "/" + SegmentName.log(baseOffset: base))
        }
        let tile = layout.merkle + "/level-0.tiles"
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: tile)))
        bytes[0] ^= 1
        try Data(bytes).write(to: URL(fileURLWithPath: tile))

        #expect(throws: TransparencyLogError.unverifiedProof(.consistency, cause: .rootMismatch)) { try transparency.consistencyProof(from: 10, to: 600) }
        #expect(throws: TransparencyLogError.unverifiedProof(.consistency, cause: .rootMismatch)) { try transparency.signedCheckpoint(treeSize: 10) }
        // The tile mended: served again, the same proof.
        bytes[0] ^= 1
        try Data(bytes).write(to: URL(fileURLWithPath: tile))
        #expect(try transparency.consistencyProof(from: 10, to: 600) == good)
    }
}
