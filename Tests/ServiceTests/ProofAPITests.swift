import Crypto
import Foundation
import JSON
import Merkle
import Testing
@testable import Service

/// `GET /v1/log/checkpoint`, `/v1/log/vkey`, `/v1/events/{id}/proof` and `/v1/log/consistency`,
/// checked with the independent verifiers.
@Suite(.timeLimit(.minutes(2))) struct ProofAPITests {
    static func hashes(_ value: JSONValue?) -> [[UInt8]] {
        (value?.arrayValue ?? []).compactMap { $0.stringValue.flatMap { try? Base64.decode($0) } }
    }

    @Test func proofsVerifyAndStayWithinTheOrganizationAndTheLog() async throws {
        let harness = try ServiceHarness()
        defer { harness.close(); harness.removeDirectory() }
        let tokenA = try await harness.token(organization: "org_a")
        let tokenB = try await harness.token(organization: "org_b")
        var ids: [String] = []
        var offsets: [UInt64] = []
        for (number, token) in [tokenA, tokenB, tokenA, tokenA].enumerated() {
            let reply = await harness.send("POST", "/v1/events", token: token, body: #"{"type":"user.login","data":{"n":\#(number)}}"#)
            ids.append(try #require(reply.json?["id"]?.stringValue))
            offsets.append(UInt64(try #require(reply.json?["offset"]?.int64Value)))
        }
        // The OAuth server logs its own events too, so the third event's offset is not 2.
        let offset = offsets[2]
        let size = offset + 1
        let vkeyReply = await harness.send("GET", "/v1/log/vkey", token: tokenB)
        #expect(vkeyReply.status == 200)
        let verifier = try NoteVerifier(verifierKey: String(decoding: vkeyReply.response.body, as: UTF8.self).trimmingCharacters(in: .newlines))
        let checkpointReply = await harness.send("GET", "/v1/log/checkpoint", token: tokenB)
        #expect(checkpointReply.status == 200 && checkpointReply.response.headers["content-type"]?.hasPrefix("text/plain") == true)
        let latest = try Checkpoint(signedNote: String(decoding: checkpointReply.response.body, as: UTF8.self), verifier: verifier)
        #expect(latest.treeSize > offsets[3])

        // Inclusion of org_a's second event in the tree that ends with it.
        let proof = await harness.send("GET", "/v1/events/\(ids[2])/proof?tree_size=\(size)", token: tokenA)
        #expect(proof.status == 200, "\(proof.code ?? "")")
        let leaf = try #require(proof.json?["leaf"]?.stringValue)
        let checkpointAtSize = try Checkpoint(signedNote: try #require(proof.json?["checkpoint"]?.stringValue), verifier: verifier)
        #expect(proof.json?["offset"]?.int64Value == Int64(offset) && checkpointAtSize.treeSize == size)
        try MerkleProof.verifyInclusion(leafIndex: offset, treeSize: size, leafHash: MerkleTree.leafHash(Array(leaf.utf8)),
                                        proof: Self.hashes(proof.json?["inclusion"]), rootHash: checkpointAtSize.rootHash)

        // Consistency from that size to the latest size.
        let consistency = await harness.send("GET", "/v1/log/consistency?from=\(size)&to=\(latest.treeSize)", token: tokenB)
        #expect(consistency.status == 200)
        try MerkleProof.verifyConsistency(from: size, to: latest.treeSize, fromRoot: checkpointAtSize.rootHash, toRoot: latest.rootHash,
                                          proof: Self.hashes(consistency.json?["consistency"]))

        // Another organization's event, an unknown id: 404. Bounds: 400.
        #expect(await harness.send("GET", "/v1/events/\(ids[1])/proof", token: tokenA).status == 404)
        #expect(await harness.send("GET", "/v1/events/evt_nope/proof", token: tokenA).status == 404)
        #expect(await harness.send("GET", "/v1/events/\(ids[2])/proof?tree_size=\(offset)", token: tokenA).status == 400)
        #expect(await harness.send("GET", "/v1/events/\(ids[2])/proof?tree_size=99999", token: tokenA).status == 400)
        #expect(await harness.send("GET", "/v1/events/\(ids[2])/proof?tree_size=-1", token: tokenA).status == 400)
        #expect(await harness.send("GET", "/v1/log/consistency?from=3&to=99999", token: tokenA).status == 400)
        #expect(await harness.send("GET", "/v1/log/consistency?from=4&to=3", token: tokenA).status == 400)
        #expect(await harness.send("GET", "/v1/log/consistency?from=1", token: tokenA).status == 400)
    }
}
