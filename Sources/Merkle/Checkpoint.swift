import Crypto

/// A C2SP tlog-checkpoint (v1.0.0) body: `<origin>\n<tree size>\n<base64 root>\n`.
public struct Checkpoint: Sendable, Equatable {
    /// The log's origin (schema-less URL, also the signing key's name).
    public let origin: String
    /// Number of leaves.
    public let treeSize: UInt64
    /// RFC 9162 root of those leaves (32 bytes).
    public let rootHash: [UInt8]

    public init(origin: String, treeSize: UInt64, rootHash: [UInt8]) {
        self.origin = origin
        self.treeSize = treeSize
        self.rootHash = rootHash
    }

    /// The note text.
    public var body: String { "\(origin)\n\(treeSize)\n\(Base64.encode(rootHash))\n" }

    /// Parses a note text (extension lines after the third are allowed and ignored).
    /// - Throws: `SignedNoteError.malformed(.checkpoint, ...)`.
    public init(body: String) throws(SignedNoteError) {
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard body.hasSuffix("\n"), lines.count >= 4 else { throw .malformed(.checkpoint, reason: "fewer than three lines") }
        guard !lines[0].isEmpty else { throw .malformed(.checkpoint, reason: "empty origin") }
        guard let size = UInt64(lines[1]), lines[1] == String(size) else {
            throw .malformed(.checkpoint, reason: "the tree size is not a decimal number without leading zeros")
        }
        guard let root = try? Base64.decode(lines[2]), root.count == MerkleTree.hashByteCount else {
            throw .malformed(.checkpoint, reason: "the root is not base64 of 32 bytes")
        }
        self.init(origin: lines[0], treeSize: size, rootHash: root)
    }

    /// Verifies `note` with `verifier` and parses its checkpoint; the origin must be the key name.
    /// - Throws: `SignedNoteError`.
    public init(signedNote note: String, verifier: NoteVerifier) throws(SignedNoteError) {
        try self.init(body: try verifier.verify(note: note))
        guard origin == verifier.name else { throw .malformed(.checkpoint, reason: "origin \(origin) is not the key name \(verifier.name)") }
    }
}
