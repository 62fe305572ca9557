import ArgusTestSupport
import Crypto
import EventLog
import Foundation
import JSON
import Merkle
import Service
import Testing

/// `checkpoint`, `prove` and `verify --checkpoint` run as the real executable, their output checked
/// with the Merkle and signed-note verifiers.
@Suite(.timeLimit(.minutes(3))) struct ProofCommandLineTests {
    static func run(_ arguments: [String]) async throws -> (status: Int32?, output: String, errors: String) {
        try await ChildProcess.run(BuiltProduct.argusEvents, arguments, standardInput: [], timeoutSeconds: 60)
    }

    static func base64s(_ value: JSONValue?) -> [[UInt8]] {
        (value?.arrayValue ?? []).compactMap { $0.stringValue.flatMap { try? Base64.decode($0) } }
    }

    @Test func checkpointProveAndVerify() async throws {
        let root = NSTemporaryDirectory() + "argus-prove-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try await TransparencyLogTests.append(300, from: 0, to: root + "/log")
        let data = ["--data-dir", root]

        let checkpointRun = try await Self.run(["checkpoint"] + data)
        #expect(checkpointRun.status == 0, "\(checkpointRun.errors)")
        let vkeyRun = try await Self.run(["checkpoint", "--vkey"] + data)
        let verifier = try NoteVerifier(verifierKey: vkeyRun.output.trimmingCharacters(in: .newlines))
        let latest = try Checkpoint(signedNote: checkpointRun.output, verifier: verifier)
        #expect(latest.treeSize == 300)

        // Inclusion: the leaf is the tail line, the proof leads to the checkpoint's root.
        let tail = try await Self.run(["tail", "--format", "json"] + data)
        let line = tail.output.split(separator: "\n")[5]
        let proveRun = try await Self.run(["prove", "--offset", "5", "--tree-size", "100"] + data)
        #expect(proveRun.status == 0, "\(proveRun.errors)")
        let proof = try JSONParser.parse(Array(proveRun.output.utf8))
        #expect(proof["leaf"]?.stringValue == String(line))
        #expect(proof["tree_size"]?.int64Value == 100)
        let checkpoint100 = try Checkpoint(signedNote: try #require(proof["checkpoint"]?.stringValue), verifier: verifier)
        #expect(checkpoint100.treeSize == 100)
        try MerkleProof.verifyInclusion(leafIndex: 5, treeSize: 100, leafHash: MerkleTree.leafHash(Array(line.utf8)),
                                        proof: Self.base64s(proof["inclusion"]), rootHash: checkpoint100.rootHash)

        // Consistency from 100 to 300.
        let consistencyRun = try await Self.run(["prove", "--from", "100", "--tree-size", "300"] + data)
        #expect(consistencyRun.status == 0, "\(consistencyRun.errors)")
        let consistency = try JSONParser.parse(Array(consistencyRun.output.utf8))
        try MerkleProof.verifyConsistency(from: 100, to: 300, fromRoot: checkpoint100.rootHash, toRoot: latest.rootHash,
                                          proof: Self.base64s(consistency["consistency"]))

        // verify --checkpoint: the old checkpoint still holds; a tampered one fails.
        let file = root + "/checkpoint-100"
        try Data(try #require(proof["checkpoint"]?.stringValue).utf8).write(to: URL(fileURLWithPath: file))
        #expect(try await Self.run(["verify", "--checkpoint", file] + data).status == 0)
        let forged = try #require(proof["checkpoint"]?.stringValue).replacingOccurrences(of: "\n100\n", with: "\n101\n")
        try Data(forged.utf8).write(to: URL(fileURLWithPath: file))
        let forgedRun = try await Self.run(["verify", "--checkpoint", file] + data)
        #expect(forgedRun.status == 1)
        #expect(forgedRun.output.contains("FAILED"))

        // Bounds are usage errors.
        for arguments in [["prove", "--offset", "300"], ["prove", "--offset", "0", "--tree-size", "301"], ["prove", "--from", "5"],
                          ["prove", "--offset", "-1"], ["prove", "--from", "200", "--tree-size", "100"], ["prove"]] {
            let result = try await Self.run(arguments + data)
            #expect(result.status == 2, "\(arguments): \(result.errors)")
        }
    }

    @Test func verifyChecksTheTilesAndTheStoredCheckpoint() async throws {
        let root = NSTemporaryDirectory() + "argus-verify-tiles-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try await TransparencyLogTests.append(600, from: 0, to: root + "/log")
        let data = ["--data-dir", root]
        #expect(try await Self.run(["checkpoint"] + data).status == 0)
        let clean = try await Self.run(["verify"] + data)
        #expect(clean.status == 0, "\(clean.output)\(clean.errors)")
        #expect(clean.output.contains("the hash tiles match the log (4 checked, tree size 600)"), "\(clean.output)")
        #expect(clean.output.contains("the checkpoint at size 600 is signed by"), "\(clean.output)")

        // A flipped byte in a full tile (level 0's file, tile 1), and in a partial tile (tree-size's line for
        // level 0): both named, exit 1.
        let tiles = root + "/merkle/level-0.tiles"
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: tiles)))
        bytes[8192 + 40] ^= 1
        try Data(bytes).write(to: URL(fileURLWithPath: tiles))
        let treeSize = root + "/merkle/tree-size"
        var lines = try String(contentsOfFile: treeSize, encoding: .utf8).components(separatedBy: "\n")
        var edge = [UInt8](try #require(Data(base64Encoded: lines[2])))
        edge[3] ^= 1
        lines[2] = Data(edge).base64EncodedString()
        try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: treeSize))
        let damaged = try await Self.run(["verify"] + data)
        #expect(damaged.status == 1)
        #expect(damaged.output.contains("level-0.tiles at byte 8192 (tile/0/001): differs from the hashes of the log"), "\(damaged.output)")
        #expect(damaged.output.contains("tree-size (tile/0/002.p/88): differs from the hashes of the log"), "\(damaged.output)")

        // The next checkpoint rebuilds the tiles; then a checkpoint the log does not hold (signed by the
        // log's own key over another root) is reported.
        #expect(try await Self.run(["prove", "--offset", "300"] + data).status == 0)
        #expect(try await Self.run(["verify"] + data).status == 0, "rebuilt")
        let transparency = try Service.TransparencyLog(layout: DataLayout(root: root))
        let forged = transparency.signer.sign(Checkpoint(origin: transparency.signer.verifier.name, treeSize: 599,
                                                         rootHash: [UInt8](repeating: 7, count: 32)).body)
        try Data(forged.utf8).write(to: URL(fileURLWithPath: root + "/merkle/checkpoint"))
        let rewritten = try await Self.run(["verify"] + data)
        #expect(rewritten.status == 1)
        #expect(rewritten.output.contains("the log's root at size 599 differs"), "\(rewritten.output)")
    }
}
