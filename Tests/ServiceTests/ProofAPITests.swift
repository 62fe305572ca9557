import Crypto
import EventLog
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

    /// Without upkeep (the benchmark's `ARGUS_PROOF_UPKEEP=off`) the writer keeps no leaf hashes, and
    /// a proof is still served, computed from the log, and verifies against the signed root.
    @Test func proofsWithoutUpkeepAreComputedFromTheLog() async throws {
        let harness = try ServiceHarness { $0.proofUpkeep = false }
        defer { harness.close(); harness.removeDirectory() }
        #expect(harness.service.log.recentLeafHashes == nil)
        let token = try await harness.token(organization: "org_a")
        let reply = await harness.send("POST", "/v1/events", token: token, body: #"{"type":"user.login","data":{}}"#)
        let id = try #require(reply.json?["id"]?.stringValue)
        let size = UInt64(try #require(reply.json?["offset"]?.int64Value)) + 1
        let proof = await harness.send("GET", "/v1/events/\(id)/proof?tree_size=\(size)", token: token)
        #expect(proof.status == 200, "\(proof.code ?? "")")
        #expect(proof.json?["inclusion"]?.arrayValue != nil)
        let withUpkeep = try ServiceHarness()
        defer { withUpkeep.close(); withUpkeep.removeDirectory() }
        #expect(withUpkeep.service.log.recentLeafHashes != nil)
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

    @Test func lookupByOffsetIsExactAndTheSearchIsBoundedWithAMachineReadableCode() async throws {
        let harness = try ServiceHarness()
        defer { harness.close(); harness.removeDirectory() }
        let token = try await harness.token(organization: "org_a")
        let first = await harness.send("POST", "/v1/events", token: token, body: #"{"type":"user.login","data":{"n":0}}"#)
        let id = try #require(first.json?["id"]?.stringValue)
        let offset = try #require(first.json?["offset"]?.int64Value)
        // 10,000 more events at the same time: an id from that time that is not in the log is searched
        // for among 10,000 events at most.
        let log = harness.service.log
        for batch in 0..<10 {
            _ = try await log.append(batch: (0..<1000).map { number in
                NewEventFactory.make(organization: "org_a", number: batch * 1000 + number)
            })
        }
        let exact = await harness.send("GET", "/v1/events/\(id)/proof?offset=\(offset)", token: token)
        #expect(exact.status == 200, "\(exact.code ?? "")")
        #expect(exact.json?["offset"]?.int64Value == offset)
        #expect(await harness.send("GET", "/v1/events/\(id)/proof", token: token).status == 200, "found by the search too")
        let wrongOffset = await harness.send("GET", "/v1/events/\(id)/proof?offset=\(offset + 1)", token: token)
        #expect(wrongOffset.status == 404 && wrongOffset.code == "not_found", "the event at that offset is another")
        #expect(await harness.send("GET", "/v1/events/\(id)/proof?offset=99999999", token: token).status == 404)
        #expect(await harness.send("GET", "/v1/events/\(id)/proof?offset=x", token: token).status == 400)

        // Same time as the first event, never published: the search stops at the bound and says so.
        let absent = String(id.prefix(14)) + "0000000000000000"
        let limited = await harness.send("GET", "/v1/events/\(absent)/proof", token: token)
        #expect(limited.status == 404)
        #expect(limited.code == "event_lookup_limit", "\(String(decoding: limited.response.body, as: UTF8.self))")
        #expect(limited.json?["error"]?["scanned_count"]?.int64Value == Int64(ServiceLimits.Events.scanCountMax))
    }

    /// Every failure a proof or checkpoint route can meet answers with its status and machine-readable
    /// code (never a bare 500): bounds 400, events retention removed 410, an offset beyond the log 404,
    /// the log unreadable 503 `log_unavailable`, tiles that give no verified proof 503 `proof_unavailable`.
    @Test func proofFailuresAnswerWithStatusAndCode() async throws {
        let harness = try ServiceHarness()
        defer { harness.close(); harness.removeDirectory() }
        let cases: [(any Error, Int, String)] = [
            (MerkleProofError.treeSizeBeyondLog(treeSize: 9, logSize: 3), 400, "invalid_query"),
            (MerkleProofError.leafIndexOutOfRange(leafIndex: 5, treeSize: 3), 400, "invalid_query"),
            (EventLogError.offsetOutOfRange(offset: 2, firstOffset: 100, nextOffset: 200), 410, "events_unavailable"),
            (EventLogError.offsetOutOfRange(offset: 300, firstOffset: 0, nextOffset: 200), 404, "not_found"),
            (EventLogError.corruptSegment(segment: "x", reason: "y"), 503, "log_unavailable"),
            (MerkleTileError.notRebuildable(path: "tile", firstOffset: 5, storedTreeDamaged: false), 503, "proof_unavailable"),
            (TransparencyLogError.unverifiedProof(.consistency, cause: .rootMismatch), 503, "proof_unavailable"),
            (TransparencyLogError.inconsistent(storedSize: 5, logSize: 4), 503, "proof_unavailable"),
            (MerkleProofError.rootMismatch, 503, "proof_unavailable"),
        ]
        for (error, status, code) in cases {
            let answer = try #require(harness.service.proofError(error) as? APIError, "\(error)")
            #expect(answer.status == status && answer.code == code, "\(error): \(answer)")
        }
    }
}

/// Events for the tests above (the time in their ids is the harness clock's).
enum NewEventFactory {
    static func make(organization: String, number: Int) -> NewEvent {
        NewEvent(organizationID: organization, type: "user.login", eventID: "evt_filler_\(number)", data: Array("{\"n\":\(number)}".utf8))
    }
}
