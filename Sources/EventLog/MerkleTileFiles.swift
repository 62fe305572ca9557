import Glibc
import Merkle
import SystemIO

/// The full hash tiles of a `MerkleTileStore`, packed: one file per tile level, holding that level's
/// full tiles in index order.
///
/// ```
///  level-0.tiles  +------------+------------+-- ... --+------------+
///                 | tile 0/000 | tile 0/001 |         | tile 0/N   |   8,192 bytes each (256 hashes)
///                 +------------+------------+-- ... --+------------+
///                 0            8,192        16,384    N × 8,192
///  level-1.tiles  one tile per 65,536 events, the same way
/// ```
///
/// Full tiles never change, so a tile is written once, by one `pwrite` into a file that is already
/// there (a rebuild writes the same bytes again in place). (One file per tile cost an inode allocation per 256 events: on ext4 without a
/// journal that scan took 3 % of the server's CPU under load.) The archive keeps the C2SP
/// `tlog-tiles` layout (`tile/<L>/<N>`); only the local copy is packed.
///
/// Written without `fsync` (derived data, see `MerkleTileStore`) except by `synchronize(levels:)` and
/// `Reader.synchronize(level:)`.
/// A tile the file does not hold entirely (a torn write, a lost file) reads as missing; a changed
/// one, or zeros a crash left where it belonged (a later tile extended the file), reads as it is and
/// is caught by the check against the level above that every reader makes.
///
/// Blocking file I/O: call from a dedicated thread.
package struct MerkleTileFiles: Sendable {
    /// Where the level files live.
    package let directory: String

    /// Bytes in a full tile (256 hashes of 32 bytes).
    package static let tileSizeBytes = MerkleTile.fullWidth * MerkleTree.hashByteCount

    package init(directory: String) {
        self.directory = directory
    }

    /// The file of tile level `level`.
    package func path(level: Int) -> String { directory + "/level-\(level).tiles" }

    /// Where `tile` lives, for errors: the level file, the byte offset, and its tlog-tiles name.
    package func location(of tile: MerkleTile) -> String {
        "\(path(level: tile.level)) at byte \(Self.offset(of: tile).map(String.init) ?? "beyond 2^63") (\(tile.path))"
    }

    /// The byte offset of full tile `tile` in its level file (nil beyond what a file can hold).
    static func offset(of tile: MerkleTile) -> Int64? {
        let (offset, overflow) = tile.index.multipliedReportingOverflow(by: UInt64(tileSizeBytes))
        return overflow || offset > UInt64(Int64.max) - UInt64(tileSizeBytes) ? nil : Int64(offset)
    }

    /// The 256 hashes of full tile `tile`, or nil when its level file does not hold all of them.
    /// (One tile; a pass over many reads them through one `reader()`.)
    /// - Throws: `SystemError` when the file cannot be opened or read.
    package func read(_ tile: MerkleTile) throws(SystemError) -> [UInt8]? {
        try reader().read(tile)
    }

    /// Flushes the files of `levels` (`fsync`); a level without a file is skipped.
    /// - Throws: `SystemError` when one cannot be opened or flushed.
    package func synchronize(levels: some Sequence<Int>) throws(SystemError) {
        let reader = reader(flushing: true)
        for level in levels { try reader.synchronize(level: level) }
    }

    /// Writes full tiles, keeping each level's file open until the writer goes (one `open` per level
    /// and batch of tiles, not per tile).
    package struct Writer {
        let files: MerkleTileFiles
        private var open: [Int: FileDescriptor] = [:]

        init(files: MerkleTileFiles) {
            self.files = files
        }

        /// Writes the 256 hashes of full tile `tile` at its place in its level file (creating the file
        /// and the directory when missing).
        /// - Throws: `SystemError` (a full disk: the file may then hold part of the tile, which reads as
        ///   missing or is caught by a proof, and is written again by a rebuild).
        mutating func write(_ bytes: [UInt8], of tile: MerkleTile) throws(SystemError) {
            precondition(tile.isFull && bytes.count == MerkleTileFiles.tileSizeBytes, "only full tiles are packed")
            guard let offset = MerkleTileFiles.offset(of: tile) else {
                throw SystemError(call: "pwrite", path: files.path(level: tile.level), errno: EFBIG, offset: Int64.max)
            }
            try file(level: tile.level).write(bytes, at: offset)
        }

        private mutating func file(level: Int) throws(SystemError) -> FileDescriptor {
            if let file = open[level] { return file }
            let path = files.path(level: level)
            let file: FileDescriptor
            do {
                file = try FileDescriptor.open(path, O_WRONLY | O_CREAT, mode: 0o644)
            } catch where error.errno == ENOENT {
                try FileSystem.createDirectory(files.directory)
                file = try FileDescriptor.open(path, O_WRONLY | O_CREAT, mode: 0o644)
            }
            open[level] = file
            return file
        }
    }

    /// A writer for a batch of tiles.
    package func writer() -> Writer { Writer(files: self) }
}
