import Glibc
import Merkle
import SystemIO

extension MerkleTileStore {
    /// The tiles of the earlier layout, one file per tile (`tile/<L>/<N>[.p/<W>]`).
    var legacyTilesPath: String { directory + "/tile" }

    /// Converts a directory of the earlier layout: one file per full tile (`tile/<L>/<N>`), the partial
    /// tiles in files too (`tile/<L>/<N>.p/<W>`) and `tree-size` holding only the size and root.
    ///
    /// Each full tile of the right size that the stored sizes cover (`tree-size`'s, `anchor`'s; a name
    /// beyond them, a temporary file or an unreadable file is left out, so no stray name can make a
    /// huge sparse file) is copied into its level file. The partial tiles of `tree-size`'s size go into
    /// `tree-size` when they give its root (else `tree-size` is left as it is, and the load rebuilds or
    /// refuses as for a damaged one; the partial tiles can be made again from the full tiles and the
    /// log). The level files, `tree-size` and the directory are flushed, and only then is `tile/` renamed
    /// away (`tile.migrated-<pid>`) and removed, a symbolic link inside never followed: tiles below a
    /// retention anchor cannot be made again from the log. A crash before the rename leaves `tile/` in
    /// place, and the next call copies the same bytes to the same places again; one after it can leave
    /// the renamed directory behind, which nothing reads and the next open removes
    /// (`removeConversionLeftovers`). Call under the lock (every `locked` call and
    /// `audit` do it first).
    /// - Throws: `EventLogError` when a level file cannot be written or flushed, or `tile/` cannot be
    ///   renamed (it stays then, and the next call tries again).
    func migrateLegacyTiles() throws {
        var covered: UInt64 = 0
        for path in [statePath, anchorPath] {
            if let stored = try? Self.storedTree(at: path) { covered = max(covered, stored.treeSize) }
        }
        var writer = files.writer()
        var levels: [Int] = []
        var fullCount = covered / UInt64(MerkleTile.fullWidth)
        var level = 0
        while fullCount > 0 {
            if FileSystem.isDirectory(legacyTilesPath + "/\(level)", followingLinks: false) {
                levels.append(level)
                try copyLegacyTiles(in: legacyTilesPath + "/\(level)", level: level, below: fullCount, indexPrefix: 0, depth: 0, writer: &writer)
            }
            fullCount /= UInt64(MerkleTile.fullWidth)
            level += 1
        }
        if var stored = try storedTree(), stored.builder == nil {
            var edge: [[UInt8]] = []
            var hashCount = stored.treeSize
            while hashCount > 0 {
                let width = Int(hashCount % UInt64(MerkleTile.fullWidth))
                hashCount /= UInt64(MerkleTile.fullWidth)
                guard width > 0 else { edge.append([]); continue }
                let tile = MerkleTile(level: edge.count, index: hashCount, width: width)
                guard let bytes = try? FileSystem.contents(of: directory + "/" + tile.path) else { break }
                edge.append(bytes)
            }
            stored.edge = edge
            if stored.builder != nil {
                try systemCall { try FileSystem.writeAtomically(stored.text, to: statePath, mode: 0o644) }
            }
        }
        let migrated = legacyTilesPath + ".migrated-\(getpid())"
        try systemCall {
            try files.synchronize(levels: levels)
            try FileSystem.synchronizeDirectory(directory)
            try FileSystem.move(legacyTilesPath, to: migrated)
        }
        try? removeConversionLeftovers()
    }

    /// The prefix of the name `tile/` is renamed to before it is removed (`tile.migrated-<pid>`).
    static let migratedNamePrefix = "tile.migrated-"

    /// Removes every `tile.migrated-*` directory in `directory`: the earlier layout renamed away by a
    /// conversion that a crash cut short before it was removed (nothing reads it). A name that is not a
    /// directory (a file, a symbolic link) is left as it is; a symbolic link inside is removed, never
    /// followed. Call under the lock (`locked` does it once per store, and the conversion after its rename).
    /// - Throws: `EventLogError` naming the call, errno and path when the directory cannot be listed or a
    ///   leftover cannot be removed (the rest are still removed; the first error is thrown).
    func removeConversionLeftovers() throws {
        var firstError: (any Error)?
        for name in try systemCall({ try FileSystem.names(in: directory) }) where name.hasPrefix(Self.migratedNamePrefix) {
            let path = directory + "/" + name
            guard FileSystem.isDirectory(path, followingLinks: false) else { continue }
            do {
                try systemCall { try FileSystem.removeTree(path) }
            } catch {
                firstError = firstError ?? error
            }
        }
        if let firstError { throw firstError }
    }

    /// Copies the full tiles below `path` with an index below `indexEnd` (`x001/x234/067`: groups of three
    /// digits, `x` before all but the last) into level `level`'s file; partial tiles (`067.p/`),
    /// temporary files, symbolic links, tiles of the wrong size and unreadable files are left out.
    private func copyLegacyTiles(in path: String, level: Int, below indexEnd: UInt64, indexPrefix: UInt64, depth: Int,
                                 writer: inout MerkleTileFiles.Writer) throws {
        for name in try systemCall({ try FileSystem.names(in: path) }) {
            let child = path + "/" + name
            if FileSystem.isDirectory(child, followingLinks: false) {
                // At most 6 groups: 18 digits stay below 2^64.
                guard depth < 5, name.count == 4, name.hasPrefix("x"), let group = Self.threeDigits(name.dropFirst()) else { continue }
                let prefix = indexPrefix * 1000 + group
                guard prefix * 1000 < indexEnd else { continue }
                try copyLegacyTiles(in: child, level: level, below: indexEnd, indexPrefix: prefix, depth: depth + 1, writer: &writer)
            } else if let group = Self.threeDigits(name[...]) {
                let index = indexPrefix * 1000 + group
                var status = stat()
                guard index < indexEnd, lstat(child, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG,
                      status.st_size == MerkleTileFiles.tileSizeBytes,  // checked before reading: a huge stray file is never read
                      let bytes = try? FileSystem.contents(of: child), bytes.count == MerkleTileFiles.tileSizeBytes else { continue }
                try systemCall { try writer.write(bytes, of: MerkleTile(level: level, index: index, width: MerkleTile.fullWidth)) }
            }
        }
    }

    /// `text` as a number when it is exactly three ASCII digits.
    private static func threeDigits(_ text: Substring) -> UInt64? {
        guard text.utf8.count == 3, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        return UInt64(text)
    }
}
