import Glibc
import Merkle
import SystemIO

extension MerkleTileStore {
    /// The tiles of the earlier layout, one file per tile (`tile/<L>/<N>[.p/<W>]`).
    var legacyTilesPath: String { directory + "/tile" }

    /// Converts a directory of the earlier layout: one file per full tile (`tile/<L>/<N>`), the partial
    /// tiles in files too (`tile/<L>/<N>.p/<W>`) and `tree-size` holding only the size and root.
    ///
    /// Each full tile of the right size is copied into its level file; the partial tiles of
    /// `tree-size`'s size go into `tree-size` (left as it is when they do not give its root: the load
    /// then rebuilds, or refuses as before). The level files, `tree-size` and the directory are
    /// flushed, and only then is `tile/` removed: tiles below a retention anchor cannot be made again
    /// from the log. A crash midway leaves `tile/` in place, and the next call copies the same bytes to
    /// the same places again. A missing or damaged tile stays missing or damaged, and is rebuilt from
    /// the log when a proof reads it, as before. Call under the lock.
    /// - Throws: `EventLogError` when a file cannot be read, written or flushed (nothing is removed then).
    func migrateLegacyTiles() throws {
        var writer = files.writer()
        var levels: [Int] = []
        for (name, isDirectory) in try systemCall({ try FileSystem.list(legacyTilesPath) }) where isDirectory {
            guard name.count <= 2, let level = Self.digits(name[...]) else { continue }
            levels.append(Int(level))
            try copyLegacyTiles(in: legacyTilesPath + "/" + name, level: Int(level), indexPrefix: 0, depth: 0, writer: &writer)
        }
        if let text = try systemCall({ try FileSystem.contents(of: statePath) }), var stored = StoredMerkleTree(text: text),
           stored.builder == nil {
            var edge: [[UInt8]] = []
            var hashCount = stored.treeSize
            while hashCount > 0 {
                let width = Int(hashCount % UInt64(MerkleTile.fullWidth))
                hashCount /= UInt64(MerkleTile.fullWidth)
                guard width > 0 else { edge.append([]); continue }
                let tile = MerkleTile(level: edge.count, index: hashCount, width: width)
                guard let bytes = try systemCall({ try FileSystem.contents(of: directory + "/" + tile.path) }) else { break }
                edge.append(bytes)
            }
            stored.edge = edge
            if stored.builder != nil {
                try systemCall { try FileSystem.writeAtomically(stored.text, to: statePath, mode: 0o644) }
            }
        }
        try systemCall {
            try files.synchronize(levels: levels)
            try FileSystem.synchronizeDirectory(directory)
            try FileSystem.removeTree(legacyTilesPath)
        }
    }

    /// Copies the full tiles below `path` (`x001/x234/067`: groups of three digits, `x` before all but
    /// the last) into level `level`'s file; partial tiles (`067.p/`), temporary files and tiles of the
    /// wrong size are left out.
    private func copyLegacyTiles(in path: String, level: Int, indexPrefix: UInt64, depth: Int,
                                 writer: inout MerkleTileFiles.Writer) throws {
        for (name, isDirectory) in try systemCall({ try FileSystem.list(path) }) {
            if isDirectory {
                // At most 6 groups: 18 digits stay below 2^64.
                guard depth < 5, name.count == 4, name.hasPrefix("x"), let group = Self.digits(name.dropFirst()) else { continue }
                try copyLegacyTiles(in: path + "/" + name, level: level, indexPrefix: indexPrefix * 1000 + group, depth: depth + 1, writer: &writer)
            } else if name.count == 3, let group = Self.digits(name[...]) {
                guard let bytes = try systemCall({ try FileSystem.contents(of: path + "/" + name) }),
                      bytes.count == MerkleTileFiles.tileSizeBytes else { continue }
                let tile = MerkleTile(level: level, index: indexPrefix * 1000 + group, width: MerkleTile.fullWidth)
                try systemCall { try writer.write(bytes, of: tile) }
            }
        }
    }

    /// `text` as a number when it is only ASCII digits.
    private static func digits(_ text: Substring) -> UInt64? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        return UInt64(text)
    }
}
