import Glibc
import Merkle
import SystemIO

extension MerkleTileFiles {
    /// Reads, examines and flushes the level files through one descriptor per level, opened at first
    /// use and kept until the reader goes: a pass over many tiles (`synchronize`, an archive pass) opens
    /// each level file once, not once per tile and again to flush it.
    ///
    /// A class so that a hash source's closure can share it; for one pass on one thread (not `Sendable`).
    /// A level file missing at first use stays missing for this reader.
    package final class Reader {
        let files: MerkleTileFiles
        /// `open` flags: read-only, or read-write for a reader that flushes (`synchronize(level:)`).
        let flags: Int32
        /// Each level used so far: its descriptor, or nil when it has no file.
        private var open: [Int: FileDescriptor?] = [:]

        init(files: MerkleTileFiles, flags: Int32) {
            self.files = files
            self.flags = flags
        }

        private func file(level: Int) throws(SystemError) -> FileDescriptor? {
            if let file = open[level] { return file }
            let file = try FileDescriptor.openIfExists(files.path(level: level), flags)
            open[level] = file
            return file
        }

        /// The 256 hashes of full tile `tile`, or nil when its level file does not hold all of them.
        /// - Throws: `SystemError` when the file cannot be opened or read.
        package func read(_ tile: MerkleTile) throws(SystemError) -> [UInt8]? {
            guard let offset = MerkleTileFiles.offset(of: tile), let file = try file(level: tile.level) else { return nil }
            let bytes = try file.read(count: MerkleTileFiles.tileSizeBytes, at: offset)
            return bytes.count == MerkleTileFiles.tileSizeBytes ? bytes : nil
        }

        /// How many bytes from the start of level `level`'s file hold data: up to its first hole
        /// (`lseek(SEEK_HOLE)`; the end of the file when it has none, 0 when there is no file). A tile
        /// lost with its file and a later one written again leaves a hole where it was.
        /// - Throws: `SystemError` when the file cannot be opened or examined.
        package func dataPrefixBytes(level: Int) throws(SystemError) -> Int64 {
            guard let file = try file(level: level) else { return 0 }
            let hole = lseek(file.rawValue, 0, 4 /* SEEK_HOLE */)
            if hole >= 0 { return Int64(hole) }
            if errno == ENXIO { return 0 }  // an empty file
            if errno == EINVAL { return try file.size() }  // a file system without SEEK_HOLE
            throw .current("lseek(SEEK_HOLE)", files.path(level: level))
        }

        /// Flushes level `level`'s file (`fsync`); a level without a file is skipped.
        /// - Throws: `SystemError` when it cannot be opened or flushed.
        package func synchronize(level: Int) throws(SystemError) {
            try file(level: level)?.synchronize()
        }
    }

    /// A reader for one pass; `flushing`: opened read-write, for `Reader.synchronize(level:)`.
    package func reader(flushing: Bool = false) -> Reader { Reader(files: self, flags: flushing ? O_RDWR : O_RDONLY) }
}
