import Crypto
import Foundation
import Merkle
import Testing

@Suite struct SignedNoteTests {
    // The C2SP signed-note test vector (C2SP/C2SP signed-note.md, tag signed-note/v1.0.0).
    static let vectorKey = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
    static let vectorNote = "This is an example message.\n\n\u{2014} example.com/foo "
        + "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"

    @Test func c2spVectorVerifies() throws {
        let verifier = try NoteVerifier(verifierKey: Self.vectorKey)
        #expect(verifier.name == "example.com/foo")
        #expect(Hex.encode(verifier.keyID) == "530d903a")
        #expect(verifier.verifierKey == Self.vectorKey)
        #expect(try verifier.verify(note: Self.vectorNote) == "This is an example message.\n")
        let tampered = Self.vectorNote.replacingFirst("example message", with: "example massage")
        #expect(throws: SignedNoteError.badSignature(name: "example.com/foo")) { try verifier.verify(note: tampered) }
        // Another key's line is ignored; with no line of ours the note is refused.
        let other = "This is an example message.\n\n\u{2014} other.example/x AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
        #expect(throws: SignedNoteError.noSignatureFromKey(name: "example.com/foo")) { try verifier.verify(note: other) }
        #expect(throws: SignedNoteError.malformed(.verifierKey, reason: "the key id does not match the name and key")) {
            try NoteVerifier(verifierKey: "example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")
        }
        #expect(throws: SignedNoteError.malformed(.note, reason: "no blank line before the signatures")) { try verifier.verify(note: "no blank line\n") }
        #expect(SignedNoteError.malformed(.verifierKey, reason: "x").description == "malformed verifier key: x")
    }

    @Test func checkpointsRoundTripAndAFlippedByteFails() throws {
        let key = try Ed25519PrivateKey(rawRepresentation: [UInt8](repeating: 7, count: 32))
        let signer = try NoteSigner(name: "argus.local/test", privateKey: key)
        let expectedID = Array(SHA256.hash(Array("argus.local/test".utf8) + [0x0A, 0x01] + key.publicKey.rawRepresentation).prefix(4))
        #expect(signer.verifier.keyID == expectedID)
        // A base64 key may hold "+": the verifier key still parses (name and key id hold none).
        for seed in 0..<64 {
            let other = try NoteSigner(name: "a.example/\(seed)", privateKey: try Ed25519PrivateKey(rawRepresentation: [UInt8](repeating: UInt8(seed), count: 32)))
            #expect(try NoteVerifier(verifierKey: other.verifier.verifierKey) == other.verifier)
        }
        #expect(signer.verifier.verifierKey == "argus.local/test+\(Hex.encode(expectedID))+\(Base64.encode([1] + key.publicKey.rawRepresentation))")
        let checkpoint = Checkpoint(origin: "argus.local/test", treeSize: 600, rootHash: [UInt8](repeating: 0xab, count: 32))
        let note = signer.sign(checkpoint.body)
        #expect(note.hasPrefix("argus.local/test\n600\n\(Base64.encode([UInt8](repeating: 0xab, count: 32)))\n\n\u{2014} argus.local/test "))
        let verifier = try NoteVerifier(verifierKey: signer.verifier.verifierKey)
        #expect(try Checkpoint(signedNote: note, verifier: verifier) == checkpoint)
        var bytes = Array(note.utf8)
        bytes[20] ^= 0x01
        #expect(throws: SignedNoteError.badSignature(name: "argus.local/test")) {
            try Checkpoint(signedNote: String(decoding: bytes, as: UTF8.self), verifier: verifier)
        }
        #expect(throws: SignedNoteError.malformed(.checkpoint, reason: "the tree size is not a decimal number without leading zeros")) {
            try Checkpoint(body: "argus.local/test\n0600\nAAAA\n")
        }
        #expect(throws: SignedNoteError.invalidName("a b")) { try NoteSigner(name: "a b", privateKey: key) }
    }
}

extension String {
    fileprivate func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target) else { return self }
        return replacingCharacters(in: range, with: replacement)
    }
}
