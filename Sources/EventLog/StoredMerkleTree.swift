import Crypto
import Merkle

/// A tree size, its root and its right edge, as `MerkleTileStore` stores them in `tree-size` (the
/// size the stored tiles are of) and `anchor` (the durable size retention may delete below):
///
/// ```
///  600                                             the tree size, decimal digits
///  3bF0...Yk=                                      its root, base64 (32 bytes)
///  Xw2y...Q==                                      the partial tile of level 0, base64 (88 hashes here)
///  kP0s...g=                                       of level 1 (2 hashes), ... one line per tile level
///                                                  (an empty line for a level with no partial tile)
/// ```
///
/// Every line ends with `\n`. Parsing checks the form only; `builder` checks the edge against the size
/// and the root.
struct StoredMerkleTree: Equatable {
    /// The most bytes the text may have.
    static let textSizeBytesMax = 128 * 1024
    /// The most tile levels a tree of a 64-bit size has.
    static let levelCountMax = 8

    var treeSize: UInt64
    var rootHash: [UInt8]
    var edge: [[UInt8]]

    /// The size, root and edge of `builder`.
    init(_ builder: MerkleTileBuilder) {
        treeSize = builder.treeSize
        rootHash = builder.rootHash
        edge = builder.edge
    }

    /// Parses the stored text; nil when it is not of the form above. A file of only the size and the
    /// root (as written before the edge moved into it) parses with an empty edge.
    init?(text bytes: [UInt8]) {
        // A size, a root and one line per tile level (at most 8 levels for a 64-bit size), each at most
        // 255 hashes in base64 (about 11 KB): anything larger is not this file.
        guard bytes.count <= Self.textSizeBytesMax else { return nil }
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        guard lines.count >= 3, lines.count <= 2 + Self.levelCountMax + 1, lines.removeLast().isEmpty else { return nil }
        let sizeLine = lines[0]
        guard (1...20).contains(sizeLine.count), sizeLine.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              let size = UInt64(String(decoding: sizeLine, as: UTF8.self)),
              let root = try? Base64.decode(String(decoding: lines[1], as: UTF8.self)), root.count == MerkleTree.hashByteCount
        else { return nil }
        var edge: [[UInt8]] = []
        for line in lines.dropFirst(2) {
            guard let hashes = try? Base64.decode(String(decoding: line, as: UTF8.self)) else { return nil }
            edge.append(hashes)
        }
        treeSize = size
        rootHash = root
        self.edge = edge
    }

    /// The text stored.
    var text: [UInt8] {
        var text = "\(treeSize)\n\(Base64.encode(rootHash))\n"
        for hashes in edge { text += Base64.encode(hashes) + "\n" }
        return Array(text.utf8)
    }

    /// The tree, when the edge has the widths the size gives and its root is the stored root.
    var builder: MerkleTileBuilder? {
        guard let builder = MerkleTileBuilder(treeSize: treeSize, edge: edge), builder.rootHash == rootHash else { return nil }
        return builder
    }
}
