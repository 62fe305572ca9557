import Crypto

/// Signs C2SP signed-notes with an Ed25519 key under a key name.
public struct NoteSigner: Sendable {
    /// The matching verifier (name, key id, public key).
    public let verifier: NoteVerifier
    private let privateKey: Ed25519PrivateKey

    /// A signer for `privateKey` under `name`.
    /// - Throws: `SignedNoteError.invalidName`.
    public init(name: String, privateKey: Ed25519PrivateKey) throws(SignedNoteError) {
        self.verifier = try NoteVerifier(name: name, publicKey: privateKey.publicKey)
        self.privateKey = privateKey
    }

    /// The signed note: `text`, a blank line, `— <name> <base64(key id || signature)>\n`.
    /// - Precondition: `text` is non-empty and ends in a newline.
    public func sign(_ text: String) -> String {
        precondition(text.hasSuffix("\n"), "a note text ends in a newline")
        let signature = privateKey.signature(for: Array(text.utf8))
        return text + "\n\u{2014} " + verifier.name + " " + Base64.encode(verifier.keyID + signature) + "\n"
    }
}
