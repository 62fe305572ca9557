/// The three texts of the signed-note world a `SignedNoteError.malformed` refuses; its description names it
/// as the error texts do.
public enum SignedNoteFormat: String, Equatable, Sendable, CustomStringConvertible {
    /// A signed note: text, a blank line, signature lines (C2SP signed-note).
    case note = "signed note"
    /// A verifier key: `<name>+<hex key id>+<base64(0x01 || key)>`.
    case verifierKey = "verifier key"
    /// A note text that is a C2SP tlog-checkpoint body (origin, tree size, root).
    case checkpoint = "checkpoint"

    public var description: String { rawValue }
}
