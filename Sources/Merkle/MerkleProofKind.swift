/// Which of the two Merkle proofs (RFC 9162 §2.1.3, §2.1.4); its description is the name texts use.
public enum MerkleProofKind: String, Equatable, Sendable, CustomStringConvertible {
    /// A leaf is in a tree of a given size.
    case inclusion
    /// A tree of one size is a prefix of a tree of a larger size.
    case consistency

    public var description: String { rawValue }
}
