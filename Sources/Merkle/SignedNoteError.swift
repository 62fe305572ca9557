/// Why a signed note, verifier key or checkpoint was refused.
public enum SignedNoteError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The text is not of its format (`reason` says how): a note that is not `text\n` + blank line +
    /// signature lines or is too large, a verifier key not `<name>+<hex key id>+<base64(0x01 || key)>`,
    /// a note text that is not a C2SP tlog-checkpoint body.
    case malformed(SignedNoteFormat, reason: String)
    /// No signature line from this key (name and key id).
    case noSignatureFromKey(name: String)
    /// A signature line from this key that does not verify.
    case badSignature(name: String)
    /// A key name that a note cannot carry (empty, spaces, `+`, newline).
    case invalidName(String)

    public var description: String {
        switch self {
        case .malformed(let format, let reason): return "malformed \(format): \(reason)"
        case .noSignatureFromKey(let name): return "the note carries no signature from key \(name)"
        case .badSignature(let name): return "the signature from key \(name) does not verify"
        case .invalidName(let name): return "invalid key name \"\(name)\" (no spaces, + or newlines)"
        }
    }
}
