import Crypto
import Glibc
import Merkle
import Synchronization
import SystemIO

/// The log as an RFC 9162 Merkle tree, stored as C2SP `tlog-tiles` hash tiles (tile height 8) in
/// `directory`: the full tiles packed one file per tile level (`level-<L>.tiles`, `MerkleTileFiles`),
/// and `tree-size`: a size, its root and its right edge (the partial tiles), `StoredMerkleTree`.
///
/// Leaf `i` is the event at offset `i`; its input is the envelope line `tail --format json` prints
/// (`EventRecord.envelope()`). Upkeep is lazy: `update(to:)` folds the new events' leaf hashes (the
/// writer's `recentLeafHashes`, else read from the log) into the right edge kept in memory and writes
/// each full tile once, as it fills (full tiles never change). `tree-size` is written only when asked
/// (`persisting`: `serve` does it when it signs a checkpoint; a command run beside it on every update).
///
/// The tiles are derived data, so they are written without `fsync`: at load `tree-size` is checked
/// against its root, full tiles are checked as proofs read them (a proof that does not lead to the
/// root is rebuilt), and anything damaged is rebuilt from the log. Only local retention makes them
/// irreplaceable: before it deletes segments, `synchronize()` checks and flushes every full tile and
/// records the size and right edge durably in `anchor`, and retention deletes nothing above that size;
/// a damaged tile set is then rebuilt from the anchor, and never deleted when it cannot be rebuilt.
///
/// A directory of the earlier layout (one file per tile, `tile/<L>/<N>[.p/<W>]`) is converted by the
/// first call that takes the lock (`update`, `synchronize`, `rebuild`, `audit`; `migrateLegacyTiles`).
///
/// Blocking file I/O: call from a dedicated thread, never the cooperative pool. Several processes
/// may use one directory (an exclusive `flock` on `lock` serialises updates).
public final class MerkleTileStore: Sendable {
    /// Where the tiles live.
    public let directory: String
    /// The log's segment directory.
    public let logDirectory: String
    /// Leaf hashes the log writer computed at append time; upkeep takes them from here and reads
    /// (and formats) from the log only the events they do not hold.
    public let recentLeafHashes: RecentLeafHashes?
    /// The full tiles, one file per level.
    package let files: MerkleTileFiles

    struct State: Sendable {
        /// The tree so far (its right edge); valid once `loaded`.
        var builder = MerkleTileBuilder()
        var loaded = false
        /// The size whose `tree-size` this process found intact or wrote.
        var persistedSize: UInt64?
        /// Whether this store looked for the leftovers of a cut-short conversion (`removeConversionLeftovers`).
        var leftoversChecked = false
    }

    private let state = Mutex(State())

    /// Opens (creating when missing) the tiles of the log in `logDirectory` under `directory`.
    /// Nothing is read until the first `update`.
    /// - Parameter recentLeafHashes: the writer's leaf hashes (`EventLog.recentLeafHashes`) when this
    ///   process writes the log.
    public init(directory: String, logDirectory: String, recentLeafHashes: RecentLeafHashes? = nil) {
        self.directory = directory
        self.logDirectory = logDirectory
        self.recentLeafHashes = recentLeafHashes
        files = MerkleTileFiles(directory: directory)
    }

    /// The size the tiles covered after the last `update` in this process.
    public var treeSize: UInt64 { state.withLock { $0.builder.treeSize } }

    var statePath: String { directory + "/tree-size" }
    var anchorPath: String { directory + "/anchor" }

    /// Brings the tiles up to `treeSize` leaves (nil: every event readable now) and returns the size
    /// they now cover (never less than before: a tree only grows).
    /// - Parameter persisting: also write `tree-size` (with the partial tiles) of the new size (so another
    ///   process starts from there); full tiles are written as they fill either way.
    /// - Throws: `MerkleProofError.treeSizeBeyondLog` when the log holds fewer events,
    ///   `EventLogError` when the log cannot be read (an offset retention already removed locally),
    ///   `MerkleTileError` when the stored tiles are damaged and cannot be rebuilt (retention).
    @discardableResult
    public func update(to treeSize: UInt64? = nil, persisting: Bool = true) throws -> UInt64 {
        try locked { state in
            let stored = try storedTree()
            // Another process went further (or this one has not read the tiles yet): start from the files.
            if !state.loaded || (stored?.treeSize ?? 0) > state.builder.treeSize {
                try reload(&state)
            }
            if treeSize.map({ $0 > state.builder.treeSize }) ?? true {
                let before = state.builder
                do {
                    try append(upTo: treeSize, into: &state)
                } catch {
                    // Not beyond what was asked (the server asks for the durable size only); the full tiles
                    // written meanwhile are of the log and stay.
                    state.builder = before
                    throw error
                }
            }
            if persisting, state.persistedSize != state.builder.treeSize || stored?.treeSize != state.builder.treeSize {
                try persist(state.builder)
                state.persistedSize = state.builder.treeSize
            }
            return state.builder.treeSize
        }
    }

    /// The root of the first `treeSize` leaves (at most the size of the last `update`).
    /// - Throws: `MerkleProofError.treeSizeBeyondLog`, `MerkleTileError` for a damaged tile.
    public func rootHash(treeSize: UInt64) throws -> [UInt8] {
        try withReader(treeSize: treeSize) { try MerkleTree.rootHash(of: $0, treeSize: treeSize) }
    }

    /// The inclusion proof of leaf `leafIndex` in the first `treeSize` leaves.
    /// - Throws: `MerkleProofError` for bounds, `MerkleTileError` for a damaged tile.
    public func inclusionProof(leafIndex: UInt64, treeSize: UInt64) throws -> [[UInt8]] {
        try withReader(treeSize: treeSize) { try MerkleProof.inclusion(leafIndex: leafIndex, treeSize: treeSize, source: $0) }
    }

    /// The consistency proof from the first `from` leaves to the first `to` leaves.
    /// - Throws: `MerkleProofError` for bounds, `MerkleTileError` for a damaged tile.
    public func consistencyProof(from: UInt64, to: UInt64) throws -> [[UInt8]] {
        try withReader(treeSize: to) { try MerkleProof.consistency(from: from, to: to, source: $0) }
    }

    /// The hashes of `tile` (concatenated) in a tree of at most the size of the last `update`: a full
    /// tile's, or the first `width` hashes of the full tile or of the right edge that holds them (for the
    /// partial tile of an earlier size). A full tile is checked first against the level above it, up to
    /// the right edge in memory (`MerkleTileChecker`); a damaged one is rebuilt once. The archive uploads
    /// these, so nothing read from a tile file is handed out unchecked.
    /// - Throws: `MerkleProofError.treeSizeBeyondLog` when the tiles do not hold it yet, `MerkleTileError`
    ///   when it is still wrong after a rebuild.
    public func hashes(of tile: MerkleTile) throws -> [UInt8] {
        try hashes(of: [tile])[0]
    }

    /// The hashes of each of `tiles`, as `hashes(of:)` gives them, in one pass: each level file is opened
    /// once and each tile read once (the tile above a run of tiles is read and checked once, not once per
    /// tile of the run). A damaged tile rebuilds the tiles once and the pass starts again.
    /// - Throws: as `hashes(of:)`.
    public func hashes(of tiles: [MerkleTile]) throws -> [[UInt8]] {
        do {
            return try checkedHashes(of: tiles)
        } catch MerkleTileError.differsFromLevelAbove, MerkleTileError.missing, MerkleTileError.wrongSize {
            // A tile file damaged or lost: made again from the log (not for an edge that lacks the tile).
            try rebuild()
            return try checkedHashes(of: tiles)
        }
    }

    private func checkedHashes(of tiles: [MerkleTile]) throws -> [[UInt8]] {
        let builder = state.withLock { $0.builder }
        var checker = checker(of: builder, files: files.reader())
        return try tiles.map { tile in
            let byteCount = tile.width * MerkleTree.hashByteCount
            var hashCount = builder.treeSize
            for _ in 0..<tile.level { hashCount /= UInt64(MerkleTile.fullWidth) }
            let (first, overflow) = tile.index.multipliedReportingOverflow(by: UInt64(MerkleTile.fullWidth))
            guard !overflow, first + UInt64(tile.width) <= hashCount else {
                throw MerkleProofError.treeSizeBeyondLog(treeSize: overflow ? .max : (first + UInt64(tile.width)) << UInt64(8 * tile.level),
                                                         logSize: builder.treeSize)
            }
            if hashCount >= first + UInt64(MerkleTile.fullWidth) {
                let full = MerkleTile(level: tile.level, index: tile.index, width: MerkleTile.fullWidth)
                return Array(try checker.hashes(of: full).prefix(byteCount))
            }
            let edge = tile.level < builder.edge.count ? builder.edge[tile.level] : []
            guard edge.count >= byteCount else { throw MerkleTileError.edgeIncomplete(path: tile.path, hashCount: byteCount / MerkleTree.hashByteCount) }
            return Array(edge.prefix(byteCount))
        }
    }

    /// Rebuilds the tiles from the log up to the size covered before: from offset 0 when the local log
    /// still starts there, else from the durable `anchor` (the tiles above it are made again; those
    /// below were checked and flushed before retention). Every tile is written again in place: nothing
    /// is deleted first, so a crash midway, or retention by the server while a command rebuilds beside
    /// it, never finds the tiles (or the anchor) gone.
    /// - Throws: `MerkleTileError` when the log no longer holds what a rebuild needs (nothing is
    ///   deleted then); as `update`.
    public func rebuild() throws {
        try locked { state in
            let size = state.builder.treeSize
            let first = try LogReader(directory: logDirectory, start: .beginning).nextOffset
            if first == 0 {
                state.builder = MerkleTileBuilder()
            } else if let anchor = try storedAnchor(), anchor.treeSize >= first {
                state.builder = anchor
            } else {
                // The tiles are derived from offset 0 on: once retention removed the log's start they cannot
                // be made again here, so keep what there is rather than delete it for nothing.
                throw MerkleTileError.notRebuildable(path: directory, firstOffset: first, storedTreeDamaged: false)
            }
            state.loaded = true
            try append(upTo: size, into: &state)
            try persist(state.builder)
            state.persistedSize = state.builder.treeSize
        }
    }

    /// Makes the tiles of the current size durable, for local retention: checks every full tile written
    /// since the last anchor against the level above it and that each level file still holds all of its
    /// full tiles, with no hole (rebuilding once when one is wrong), flushes the level files and the directory, then records the size and right edge in `anchor` (written atomically and
    /// flushed). Retention may then delete segments below the returned size: the tiles can be rebuilt
    /// from the anchor and the events after it.
    /// - Returns: the anchored size.
    /// - Throws: `MerkleTileError` when a tile is still wrong after a rebuild; file and log errors.
    public func synchronize() throws -> UInt64 {
        do {
            return try synchronizeOnce()
        } catch is MerkleTileError {
            try rebuild()
            return try synchronizeOnce()
        }
    }

    private func synchronizeOnce() throws -> UInt64 {
        try locked { state in
            if !state.loaded { try reload(&state) }
            let anchored = try storedAnchor()?.treeSize ?? 0
            let builder = state.builder
            guard builder.treeSize > anchored else { return anchored }
            // One descriptor per level file for the checks, the hole check and the flush.
            let levelFiles = files.reader(flushing: true)
            var checker = checker(of: builder, files: levelFiles)
            var level = 0
            var (from, to) = (anchored, builder.treeSize)
            while to >= UInt64(MerkleTile.fullWidth) {
                from /= UInt64(MerkleTile.fullWidth)
                to /= UInt64(MerkleTile.fullWidth)
                for index in from..<to {
                    _ = try checker.hashes(of: MerkleTile(level: level, index: index, width: MerkleTile.fullWidth))
                }
                // Those below the anchor were checked before; the file must still hold them all, without a hole.
                if to > 0, try systemCall({ try levelFiles.dataPrefixBytes(level: level) }) < Int64(to) * Int64(MerkleTileFiles.tileSizeBytes) {
                    throw MerkleTileError.missing(path: files.location(of: MerkleTile(level: level, index: to - 1, width: MerkleTile.fullWidth)))
                }
                if from < to { try systemCall { try levelFiles.synchronize(level: level) } }
                level += 1
            }
            try persist(builder)
            state.persistedSize = builder.treeSize
            try systemCall { try FileSystem.synchronizeDirectory(directory) }
            try systemCall { try FileSystem.writeAtomically(StoredMerkleTree(builder).text, to: anchorPath, mode: 0o644) }
            return builder.treeSize
        }
    }

    // MARK: State on disk

    /// Replaces the state with the stored tree (`load`).
    private func reload(_ state: inout State) throws {
        let loaded = try load()
        state.builder = loaded.builder
        state.persistedSize = loaded.intact ? loaded.builder.treeSize : nil
        state.loaded = true
    }

    /// Runs `body` under this process's mutex and the directory's `flock`.
    /// Converts a directory of the earlier layout first (`migrateLegacyTiles`), and the first time removes
    /// what a conversion cut short by a crash left (`removeConversionLeftovers`).
    func locked<T>(_ body: (inout State) throws -> T) throws -> T {
        try state.withLock { state in
            let lock = try systemCall { () throws -> FileDescriptor in
                try FileSystem.createDirectory(directory)
                return try FileDescriptor.open(directory + "/lock", O_RDWR | O_CREAT)
            }
            guard flock(lock.rawValue, LOCK_EX) == 0 else { throw EventLogError.system(SystemError.current("flock", directory + "/lock")) }
            defer { flock(lock.rawValue, LOCK_UN) }
            if access(legacyTilesPath, F_OK) == 0 { try migrateLegacyTiles() }
            if !state.leftoversChecked {
                // Nothing reads a leftover: one that cannot be removed (permissions) must not stop the tiles.
                try? removeConversionLeftovers()
                state.leftoversChecked = true
            }
            return try body(&state)
        }
    }

    /// `tree-size`: the stored size, root and edge (nil when missing or not of the stored form).
    func storedTree() throws -> StoredMerkleTree? {
        try Self.storedTree(at: statePath)
    }

    /// `tree-size` or `anchor` at `path`, parsed (nil when missing, larger than the form allows, or malformed;
    /// the size is checked before the file is read).
    static func storedTree(at path: String) throws -> StoredMerkleTree? {
        guard let size = FileSystem.size(path), size <= Int64(StoredMerkleTree.textSizeBytesMax),
              let text = try systemCall({ try FileSystem.contents(of: path) }) else { return nil }
        return StoredMerkleTree(text: text)
    }

    /// `anchor`: the durable size and right edge, checked against its root (nil when missing or not intact).
    private func storedAnchor() throws -> MerkleTileBuilder? {
        try Self.storedTree(at: anchorPath)?.builder
    }

    /// The stored tree: `tree-size` when its edge agrees with its root (or the anchor when it is larger),
    /// else the anchor, else (when the log still starts at offset 0) an empty tree (nothing is deleted:
    /// every tile is written again as the tree is folded anew).
    /// - Throws: `MerkleTileError` when nothing stored is intact and the log no longer starts at 0: the
    ///   tiles cannot be rebuilt, so they are kept as they are.
    /// - Returns: the tree, and whether it is the one `tree-size` names (intact on disk).
    private func load() throws -> (builder: MerkleTileBuilder, intact: Bool) {
        if let builder = try storedTree()?.builder {
            // The anchor is never above what is stored unless a crash lost the later `tree-size`.
            if let anchor = try storedAnchor(), anchor.treeSize > builder.treeSize { return (anchor, false) }
            return (builder, true)
        }
        let anchor = try storedAnchor()
        guard anchor != nil || access(statePath, F_OK) == 0 else { return (MerkleTileBuilder(), false) }  // nothing stored yet
        let first = try LogReader(directory: logDirectory, start: .beginning).nextOffset
        if let anchor, anchor.treeSize >= first { return (anchor, false) }
        guard first == 0 else {
            throw MerkleTileError.notRebuildable(path: statePath, firstOffset: first, storedTreeDamaged: true)
        }
        // Rebuilt from offset 0 on: the full tiles are written again as they fill, the rest replaced.
        return (MerkleTileBuilder(), false)
    }

    /// Writes `tree-size` (the size, root and partial tiles of `builder`). Without `fsync`: a torn one
    /// is caught at load (its root) and the tree rebuilt.
    private func persist(_ builder: MerkleTileBuilder) throws {
        try writeFile(StoredMerkleTree(builder).text, to: statePath)
    }

    // MARK: Folding

    /// Folds the events from the tree's size on into it, writing each tile as it fills: the writer's
    /// hashes first (in chunks, so its lock is never held long), then the log for the rest.
    private func append(upTo target: UInt64?, into state: inout State) throws {
        func wants() -> Bool { target.map { state.builder.treeSize < $0 } ?? true }
        while let recentLeafHashes, wants() {
            let wanted = target.map { Int(min($0 - state.builder.treeSize, 65_536)) } ?? 65_536
            let hashes = recentLeafHashes.concatenatedHashes(from: state.builder.treeSize, countMax: wanted)
            if hashes.isEmpty { break }
            try appendLeaves(hashes[...], to: &state)
        }
        if wants() {
            var reader = try LogReader(directory: logDirectory, start: .offset(state.builder.treeSize))
            while wants(), let record = try reader.next() {
                guard record.offset == state.builder.treeSize else {
                    throw EventLogError.offsetOutOfRange(offset: state.builder.treeSize, firstOffset: record.offset, nextOffset: reader.nextOffset)
                }
                try appendLeaves(RecentLeafHashes.leafHash(of: record)[...], to: &state)
            }
        }
        if let target, state.builder.treeSize < target {
            throw MerkleProofError.treeSizeBeyondLog(treeSize: target, logSize: state.builder.treeSize)
        }
    }

    /// Folds concatenated leaf hashes into the tree, writing each tile that fills.
    private func appendLeaves(_ hashes: ArraySlice<UInt8>, to state: inout State) throws {
        var writer = files.writer()
        try state.builder.append(concatenatedLeafHashes: hashes) { tile, bytes in
            try systemCall { try writer.write(bytes, of: tile) }
        }
    }

    /// Writes a file through a temporary file and a rename (readers see the old file or the new one),
    /// without `fsync` (derived data; see the type's comment).
    func writeFile(_ bytes: [UInt8], to path: String) throws {
        try systemCall { () throws in
            let temporary = path + ".tmp-\(getpid())"
            let file: FileDescriptor
            do {
                file = try FileDescriptor.open(temporary, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
            } catch let error as SystemError where error.errno == ENOENT {
                try FileSystem.createDirectory(FileSystem.parent(of: path))
                file = try FileDescriptor.open(temporary, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
            }
            do {
                try file.write(bytes, at: 0)
                if rename(temporary, path) != 0 { throw SystemError.current("rename", path) }
            } catch {
                unlink(temporary) // a full disk must not leave a partial file behind
                throw error
            }
        }
    }

    // MARK: Reading

    /// A hash source over `builder`'s edge and the full tile files, read through `levelFiles` (each level
    /// file opened once for the source's life; a new reader by default).
    private func reader(of builder: MerkleTileBuilder, files levelFiles: MerkleTileFiles.Reader? = nil) -> MerkleTileHashSource {
        let files = files
        let levelFiles = levelFiles ?? files.reader()
        return MerkleTileHashSource(treeSize: builder.treeSize, edge: builder.edge) { tile in
            guard let bytes = try systemCall({ try levelFiles.read(tile) }) else { throw MerkleTileError.missing(path: files.location(of: tile)) }
            return bytes
        }
    }

    /// Checks full tiles of `builder`'s tree read through `levelFiles` against the levels above, up to its edge.
    private func checker(of builder: MerkleTileBuilder, files levelFiles: MerkleTileFiles.Reader) -> MerkleTileChecker {
        let files = files
        return MerkleTileChecker(source: reader(of: builder, files: levelFiles), location: { files.location(of: $0) })
    }

    private func currentReader() -> MerkleTileHashSource { reader(of: state.withLock { $0.builder }) }

    private func withReader<T>(treeSize: UInt64, _ body: (MerkleTileHashSource) throws -> T) throws -> T {
        let reader = currentReader()
        guard treeSize <= reader.treeSize else {
            throw MerkleProofError.treeSizeBeyondLog(treeSize: treeSize, logSize: reader.treeSize)
        }
        do {
            return try body(reader)
        } catch is MerkleTileError {
            try rebuild()
            return try body(currentReader())
        }
    }
}
