import Crypto
import Merkle
import Testing

/// Known vectors from transparency-dev/merkle (commit 582a6ad1, `testonly/constants.go` for the
/// leaves and roots; `proof/verify_test.go` for the inclusion and consistency proofs), which
/// follow RFC 6962 / RFC 9162 section 2.1 hashing.
@Suite struct MerkleProofTests {
    static func hex(_ text: String) -> [UInt8] { (try? Hex.decode(text)) ?? [] }

    static let leaves: [[UInt8]] = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                    "606162636465666768696a6b6c6d6e6f"].map(hex)

    /// Roots for tree sizes 0 to 8 over `leaves`.
    static let roots: [[UInt8]] = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ].map(hex)

    /// Inclusion proofs (0-based leaf index; the Go file numbers leaves from 1).
    static let inclusionVectors: [(leafIndex: UInt64, treeSize: UInt64, proof: [String])] = [
        (0, 1, []),
        (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
        (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
        (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
        (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    ]

    static let consistencyVectors: [(from: UInt64, to: UInt64, proof: [String])] = [
        (1, 1, []),
        (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
        (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
        (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
        (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    ]

    static func source(size: Int) -> MerkleLeafHashes {
        MerkleLeafHashes(leaves: (0..<size).map { Array("leaf \($0)".utf8) })
    }

    @Test func rootsOfTheStandardLeaves() throws {
        #expect(MerkleTree.emptyRootHash == Self.roots[0])
        for size in 0...8 {
            let source = MerkleLeafHashes(leaves: Array(Self.leaves.prefix(size)))
            #expect(try MerkleTree.rootHash(of: source, treeSize: UInt64(size)) == Self.roots[size], "size \(size)")
        }
    }

    @Test func knownInclusionProofs() throws {
        let source = MerkleLeafHashes(leaves: Self.leaves)
        for vector in Self.inclusionVectors {
            let expected = vector.proof.map(Self.hex)
            let built = try MerkleProof.inclusion(leafIndex: vector.leafIndex, treeSize: vector.treeSize, source: source)
            #expect(built == expected, "leaf \(vector.leafIndex) of \(vector.treeSize)")
            try MerkleProof.verifyInclusion(leafIndex: vector.leafIndex, treeSize: vector.treeSize,
                                            leafHash: source.leafHashes[Int(vector.leafIndex)], proof: expected,
                                            rootHash: Self.roots[Int(vector.treeSize)])
        }
    }

    @Test func knownConsistencyProofs() throws {
        let source = MerkleLeafHashes(leaves: Self.leaves)
        for vector in Self.consistencyVectors {
            let expected = vector.proof.map(Self.hex)
            let built = try MerkleProof.consistency(from: vector.from, to: vector.to, source: source)
            #expect(built == expected, "\(vector.from) to \(vector.to)")
            try MerkleProof.verifyConsistency(from: vector.from, to: vector.to, fromRoot: Self.roots[Int(vector.from)],
                                              toRoot: Self.roots[Int(vector.to)], proof: expected)
        }
    }

    @Test func everyInclusionProofUpTo64VerifiesAndAFlippedByteFails() throws {
        for size in 1...64 {
            let source = Self.source(size: size)
            let treeSize = UInt64(size)
            let root = try MerkleTree.rootHash(of: source, treeSize: treeSize)
            for index in 0..<treeSize {
                let leafHash = source.leafHashes[Int(index)]
                let proof = try MerkleProof.inclusion(leafIndex: index, treeSize: treeSize, source: source)
                try MerkleProof.verifyInclusion(leafIndex: index, treeSize: treeSize, leafHash: leafHash, proof: proof, rootHash: root)
                for position in proof.indices {
                    var bad = proof
                    bad[position][position % 32] ^= 0x01
                    #expect(throws: MerkleProofError.rootMismatch) {
                        try MerkleProof.verifyInclusion(leafIndex: index, treeSize: treeSize, leafHash: leafHash, proof: bad, rootHash: root)
                    }
                }
                var badLeaf = leafHash
                badLeaf[31] ^= 0x80
                #expect(throws: MerkleProofError.rootMismatch) {
                    try MerkleProof.verifyInclusion(leafIndex: index, treeSize: treeSize, leafHash: badLeaf, proof: proof, rootHash: root)
                }
                #expect(throws: MerkleProofError.self) {
                    try MerkleProof.verifyInclusion(leafIndex: index, treeSize: treeSize, leafHash: leafHash,
                                                    proof: proof + [root], rootHash: root)
                }
                if size > 1 {
                    let otherIndex = (index + 1) % treeSize
                    #expect(throws: MerkleProofError.self, "leaf \(index) of \(size) as \(otherIndex)") {
                        try MerkleProof.verifyInclusion(leafIndex: otherIndex, treeSize: treeSize, leafHash: leafHash, proof: proof, rootHash: root)
                    }
                }
            }
        }
    }

    @Test func everyConsistencyProofUpTo64VerifiesAndAFlippedByteFails() throws {
        let source = Self.source(size: 64)
        let roots = try (0...64).map { try MerkleTree.rootHash(of: source, treeSize: UInt64($0)) }
        for to in UInt64(1)...64 {
            for from in UInt64(0)...to {
                let proof = try MerkleProof.consistency(from: from, to: to, source: source)
                try MerkleProof.verifyConsistency(from: from, to: to, fromRoot: roots[Int(from)], toRoot: roots[Int(to)], proof: proof)
                for position in proof.indices {
                    var bad = proof
                    bad[position][(position * 7) % 32] ^= 0x10
                    #expect(throws: MerkleProofError.rootMismatch, "\(from) to \(to), hash \(position)") {
                        try MerkleProof.verifyConsistency(from: from, to: to, fromRoot: roots[Int(from)], toRoot: roots[Int(to)], proof: bad)
                    }
                }
                if from > 0 && from < to {
                    var badRoot = roots[Int(from)]
                    badRoot[0] ^= 0x01
                    #expect(throws: MerkleProofError.rootMismatch) {
                        try MerkleProof.verifyConsistency(from: from, to: to, fromRoot: badRoot, toRoot: roots[Int(to)], proof: proof)
                    }
                    #expect(throws: MerkleProofError.self) {
                        try MerkleProof.verifyConsistency(from: from, to: to, fromRoot: roots[Int(from)], toRoot: roots[Int(to)],
                                                          proof: Array(proof.dropLast()))
                    }
                }
            }
        }
    }

    @Test func boundsAreChecked() throws {
        let source = Self.source(size: 4)
        #expect(throws: MerkleProofError.leafIndexOutOfRange(leafIndex: 4, treeSize: 4)) {
            try MerkleProof.inclusion(leafIndex: 4, treeSize: 4, source: source)
        }
        #expect(throws: MerkleProofError.treeSizesOutOfOrder(from: 3, to: 2)) {
            try MerkleProof.consistency(from: 3, to: 2, source: source)
        }
        #expect(throws: MerkleProofError.subtreeUnavailable(level: 0, index: 4, treeSize: 4)) {
            try MerkleProof.inclusion(leafIndex: 0, treeSize: 5, source: source)
        }
        #expect(throws: MerkleProofError.badHashLength(what: "leaf hash", byteCount: 3)) {
            try MerkleProof.verifyInclusion(leafIndex: 0, treeSize: 1, leafHash: [1, 2, 3], proof: [], rootHash: MerkleTree.emptyRootHash)
        }
    }
}
