import Crypto

/// A C2SP signed-note Ed25519 verifier key: its name, 4-byte key id and public key; reads and
/// writes the `vkey` form `<name>+<hex key id>+<base64(0x01 || public key)>`.
public struct NoteVerifier: Sendable, Equatable {
    /// Signature type byte of Ed25519 in signed-note.
    package static let ed25519Type: UInt8 = 0x01
    /// Largest note `verify` reads, in bytes.
    package static let noteByteCountMax = 64 * 1024
    /// Most signature lines `verify` reads.
    package static let signatureLineCountMax = 100

    /// The key name (for checkpoints, the log's origin).
    public let name: String
    /// `SHA-256(name || 0x0A || 0x01 || public key)[0..<4]`.
    public let keyID: [UInt8]
    /// The Ed25519 public key.
    public let publicKey: Ed25519PublicKey

    /// A verifier for `publicKey` under `name`.
    /// - Throws: `SignedNoteError.invalidName`.
    public init(name: String, publicKey: Ed25519PublicKey) throws(SignedNoteError) {
        guard Self.isValidName(name) else { throw .invalidName(name) }
        self.name = name
        self.publicKey = publicKey
        self.keyID = Self.keyID(name: name, publicKey: publicKey)
    }

    /// Parses a `vkey` string.
    /// - Throws: `SignedNoteError.malformed(.verifierKey, ...)` (wrong shape, key id that does not match).
    public init(verifierKey text: String) throws(SignedNoteError) {
        let parts = text.split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, Self.isValidName(parts[0]) else { throw .malformed(.verifierKey, reason: "expected name+keyid+key") }
        guard let id = try? Hex.decode(parts[1]), id.count == 4 else { throw .malformed(.verifierKey, reason: "the key id is not 8 hex digits") }
        guard let key = try? Base64.decode(parts[2]), key.count == 33, key[0] == Self.ed25519Type,
              let publicKey = try? Ed25519PublicKey(rawRepresentation: key.dropFirst()) else {
            throw .malformed(.verifierKey, reason: "the key is not base64 of 0x01 and a 32-byte Ed25519 public key")
        }
        try self.init(name: parts[0], publicKey: publicKey)
        guard keyID == id else { throw .malformed(.verifierKey, reason: "the key id does not match the name and key") }
    }

    /// The `vkey` form.
    public var verifierKey: String {
        name + "+" + Hex.encode(keyID) + "+" + Base64.encode([Self.ed25519Type] + publicKey.rawRepresentation)
    }

    /// Checks `note` (text, blank line, signature lines) and returns its text (ending in a newline)
    /// when it carries a valid signature from this key; other keys' lines are ignored.
    /// - Throws: `SignedNoteError`.
    public func verify(note: String) throws(SignedNoteError) -> String {
        let bytes = Array(note.utf8)
        guard bytes.count <= Self.noteByteCountMax else { throw .malformed(.note, reason: "larger than \(Self.noteByteCountMax) bytes") }
        guard let split = (0..<max(0, bytes.count - 1)).last(where: { bytes[$0] == 0x0A && bytes[$0 + 1] == 0x0A }) else {
            throw .malformed(.note, reason: "no blank line before the signatures")
        }
        let text = String(decoding: bytes[...split], as: UTF8.self)
        let lines = String(decoding: bytes[(split + 2)...], as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        guard bytes.last == 0x0A, lines.count >= 2, lines.count - 1 <= Self.signatureLineCountMax else {
            throw .malformed(.note, reason: "expected 1 to \(Self.signatureLineCountMax) signature lines ending in a newline")
        }
        var found = false
        for line in lines.dropLast() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count == 3, fields[0] == "\u{2014}", let signature = try? Base64.decode(String(fields[2])),
                  signature.count >= 5 else {
                throw .malformed(.note, reason: "a signature line is not \"\u{2014} <name> <base64>\"")
            }
            guard fields[1] == name, Array(signature.prefix(4)) == keyID else { continue }
            found = true
            if publicKey.isValidSignature(signature.dropFirst(4), for: Array(text.utf8)) { return text }
        }
        throw found ? .badSignature(name: name) : .noSignatureFromKey(name: name)
    }

    static func keyID(name: String, publicKey: Ed25519PublicKey) -> [UInt8] {
        Array(SHA256.hash(Array(name.utf8) + [0x0A, ed25519Type] + publicKey.rawRepresentation).prefix(4))
    }

    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && !name.contains(where: { $0 == " " || $0 == "+" || $0.isNewline || $0 == "\t" })
    }
}
