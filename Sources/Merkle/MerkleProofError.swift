/// Why a Merkle proof could not be built or did not verify.
public enum MerkleProofError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The leaf index is not below the tree size.
    case leafIndexOutOfRange(leafIndex: UInt64, treeSize: UInt64)
    /// A consistency proof was asked from a larger tree to a smaller one.
    case treeSizesOutOfOrder(from: UInt64, to: UInt64)
    /// A tree size beyond what the log holds.
    case treeSizeBeyondLog(treeSize: UInt64, logSize: UInt64)
    /// A hash that is not 32 bytes long (which one, its length).
    case badHashLength(what: String, byteCount: Int)
    /// The proof has the wrong number of hashes for these sizes.
    case wrongProofLength(count: Int)
    /// The proof leads to another root than the one given.
    case rootMismatch
    /// A source does not hold the subtree asked for.
    case subtreeUnavailable(level: Int, index: UInt64, treeSize: UInt64)

    /// Whether this says a proof does not verify (a hash of the wrong length, the wrong number of hashes,
    /// another root), as opposed to a request out of bounds.
    package var isVerificationFailure: Bool {
        switch self {
        case .badHashLength, .wrongProofLength, .rootMismatch: return true
        case .leafIndexOutOfRange, .treeSizesOutOfOrder, .treeSizeBeyondLog, .subtreeUnavailable: return false
        }
    }

    public var description: String {
        switch self {
        case let .leafIndexOutOfRange(leafIndex, treeSize):
            return "leaf index \(leafIndex) is not below tree size \(treeSize)"
        case let .treeSizesOutOfOrder(from, to):
            return "tree size \(from) is larger than tree size \(to)"
        case let .treeSizeBeyondLog(treeSize, logSize):
            return "tree size \(treeSize) is larger than the log (\(logSize) events)"
        case let .badHashLength(what, byteCount):
            return "\(what) is \(byteCount) bytes long, not 32"
        case let .wrongProofLength(count):
            return "a proof of \(count) hashes does not fit these tree sizes"
        case .rootMismatch:
            return "the proof does not lead to the given root"
        case let .subtreeUnavailable(level, index, treeSize):
            return "no subtree at level \(level), index \(index) in a tree of \(treeSize) leaves"
        }
    }
}
