/// Why a signed note, verifier key or checkpoint was refused.
public enum SignedNoteError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The note is not `text\n` + blank line + signature lines, or is too large.
    case malformedNote(String)
    /// The verifier key is not `<name>+<hex key id>+<base64(0x01 || key)>`.
    case malformedVerifierKey(String)
    /// No signature line from this key (name and key id).
    case noSignatureFromKey(name: String)
    /// A signature line from this key that does not verify.
    case badSignature(name: String)
    /// The note text is not a C2SP tlog-checkpoint body.
    case malformedCheckpoint(String)
    /// A key name that a note cannot carry (empty, spaces, `+`, newline).
    case invalidName(String)

    public var description: String {
        switch self {
        case .malformedNote(let reason): return "malformed signed note: \(reason)"
        case .malformedVerifierKey(let reason): return "malformed verifier key: \(reason)"
        case .noSignatureFromKey(let name): return "the note carries no signature from key \(name)"
        case .badSignature(let name): return "the signature from key \(name) does not verify"
        case .malformedCheckpoint(let reason): return "malformed checkpoint: \(reason)"
        case .invalidName(let name): return "invalid key name \"\(name)\" (no spaces, + or newlines)"
        }
    }
}
