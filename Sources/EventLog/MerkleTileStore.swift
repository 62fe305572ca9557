import Crypto
import Glibc
import Merkle
import Synchronization
import SystemIO

/// The log as an RFC 9162 Merkle tree, stored as C2SP `tlog-tiles` hash tiles (tile height 8) in
/// `directory` (`tile/<L>/<N>[.p/<W>]`, plus `tree-size`: the size the stored partial tiles are of,
/// and its root).
///
/// Leaf `i` is the event at offset `i`; its input is the envelope line `tail --format json` prints
/// (`EventRecord.envelope()`). Upkeep is lazy: `update(to:)` folds the new events' leaf hashes (the
/// writer's `recentLeafHashes`, else read from the log) into the right edge kept in memory and writes
/// each full tile once, as it fills (full tiles never change). The partial tiles and `tree-size` are
/// written only when asked (`persisting`: `serve` does it when it signs a checkpoint; a command run
/// beside it on every update).
///
/// The tiles are derived data, so they are written without `fsync`: at load `tree-size` and its
/// partial tiles are checked against its root, full tiles are checked as proofs read them (a proof
/// that does not lead to the root is rebuilt), and anything damaged is rebuilt from the log. Only
/// local retention makes them irreplaceable: before it deletes segments, `synchronize()` checks and
/// flushes every full tile and records the right edge durably in `anchor`, and retention deletes
/// nothing above that size; a damaged tile set is then rebuilt from the anchor, and never deleted
/// when it cannot be rebuilt.
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

    struct State: Sendable {
        /// The tree so far (its right edge); valid once `loaded`.
        var builder = MerkleTileBuilder()
        var loaded = false
        /// The size whose partial tiles and `tree-size` this process found intact or wrote.
        var persistedSize: UInt64?
        /// The last tile directory created (consecutive tiles share one, so `mkdir` runs once per directory).
        var createdDirectory: String?
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
    }

    /// The size the tiles covered after the last `update` in this process.
    public var treeSize: UInt64 { state.withLock { $0.builder.treeSize } }

    var statePath: String { directory + "/tree-size" }
    var anchorPath: String { directory + "/anchor" }

    /// Brings the tiles up to `treeSize` leaves (nil: every event readable now) and returns the size
    /// they now cover (never less than before: a tree only grows).
    /// - Parameter persisting: also write the partial tiles and `tree-size` of the new size (so another
    ///   process starts from there); full tiles are written as they fill either way.
    /// - Throws: `MerkleProofError.treeSizeBeyondLog` when the log holds fewer events,
    ///   `EventLogError` when the log cannot be read (an offset retention already removed locally),
    ///   `MerkleTileError` when the stored tiles are damaged and cannot be rebuilt (retention).
    @discardableResult
    public func update(to treeSize: UInt64? = nil, persisting: Bool = true) throws -> UInt64 {
        try locked { state in
            let stored = try storedState()
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
                try persist(state.builder, replacing: stored)
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
    /// tile's file, or the first `width` hashes of the full tile or of the right edge that holds them
    /// (for the partial tile of an earlier size).
    /// - Throws: `MerkleProofError.treeSizeBeyondLog` when the tiles do not hold it yet, `MerkleTileError`.
    public func hashes(of tile: MerkleTile) throws -> [UInt8] {
        let reader = currentReader()
        let byteCount = tile.width * MerkleTree.hashByteCount
        let full = MerkleTile(level: tile.level, index: tile.index, width: MerkleTile.fullWidth)
        var hashCount = reader.treeSize
        for _ in 0..<tile.level { hashCount /= UInt64(MerkleTile.fullWidth) }
        guard tile.index * UInt64(MerkleTile.fullWidth) + UInt64(tile.width) <= hashCount else {
            throw MerkleProofError.treeSizeBeyondLog(treeSize: (tile.index * UInt64(MerkleTile.fullWidth) + UInt64(tile.width)) << UInt64(8 * tile.level),
                                                     logSize: reader.treeSize)
        }
        if hashCount >= (tile.index + 1) * UInt64(MerkleTile.fullWidth) {
            return Array(try reader.hashes(of: full).prefix(byteCount))
        }
        let edge = tile.level < reader.edge.count ? reader.edge[tile.level] : []
        guard edge.count >= byteCount else { throw MerkleTileError.edgeIncomplete(path: tile.path, hashCount: byteCount / MerkleTree.hashByteCount) }
        return Array(edge.prefix(byteCount))
    }

    /// Rebuilds the tiles from the log up to the size covered before: from offset 0 when the local log
    /// still starts there (everything is removed and made again), else from the durable `anchor`
    /// (the tiles above it are made again; those below were checked and flushed before retention).
    /// - Throws: `MerkleTileError` when the log no longer holds what a rebuild needs (nothing is
    ///   deleted then); as `update`.
    public func rebuild() throws {
        try locked { state in
            let size = state.builder.treeSize
            let first = try LogReader(directory: logDirectory, start: .beginning).nextOffset
            if first == 0 {
                try systemCall { try FileSystem.removeTree(directory + "/tile"); try FileSystem.remove(statePath); try FileSystem.remove(anchorPath) }
                state.builder = MerkleTileBuilder()
            } else if let anchor = try storedAnchor(), anchor.treeSize >= first {
                state.builder = anchor
            } else {
                // The tiles are derived from offset 0 on: once retention removed the log's start they cannot
                // be made again here, so keep what there is rather than delete it for nothing.
                throw MerkleTileError.notRebuildable(path: directory + "/tile", firstOffset: first, storedTreeDamaged: false)
            }
            state.loaded = true
            state.createdDirectory = nil
            try append(upTo: size, into: &state)
            try persist(state.builder, replacing: try storedState())
            state.persistedSize = state.builder.treeSize
        }
    }

    /// Makes the tiles of the current size durable, for local retention: checks every full tile written
    /// since the last anchor against the level above it (rebuilding once when one is wrong), flushes
    /// each and its directory, then records the size and right edge in `anchor` (written atomically and
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
            let source = reader(of: builder)
            var directories: Set<String> = [directory, directory + "/tile"]
            var level = 0
            var (from, to) = (anchored, builder.treeSize)
            while to >= UInt64(MerkleTile.fullWidth) {
                from /= UInt64(MerkleTile.fullWidth)
                to /= UInt64(MerkleTile.fullWidth)
                directories.insert(directory + "/tile/\(level)")
                for index in from..<to {
                    let tile = MerkleTile(level: level, index: index, width: MerkleTile.fullWidth)
                    let path = directory + "/" + tile.path
                    let bytes = try source.hashes(of: tile)
                    let parent = try source.subtreeHash(level: MerkleTile.height * (level + 1), index: index)
                    guard MerkleTileBuilder.foldedRoot(of: bytes[...]) == parent else {
                        throw MerkleTileError.differsFromLevelAbove(path: path)
                    }
                    try systemCall { try FileDescriptor.open(path, O_RDONLY).synchronize() }
                    directories.insert(FileSystem.parent(of: path))
                }
                level += 1
            }
            try persist(builder, replacing: try storedState())
            state.persistedSize = builder.treeSize
            for path in directories.sorted() { try systemCall { try FileSystem.synchronizeDirectory(path) } }
            var text = "\(builder.treeSize)\n\(Base64.encode(builder.rootHash))\n"
            for hashes in builder.edge { text += Base64.encode(hashes) + "\n" }
            try systemCall { try FileSystem.writeAtomically(Array(text.utf8), to: anchorPath, mode: 0o644) }
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
    private func locked<T>(_ body: (inout State) throws -> T) throws -> T {
        try state.withLock { state in
            let lock = try systemCall { () throws -> FileDescriptor in
                try FileSystem.createDirectory(directory)
                return try FileDescriptor.open(directory + "/lock", O_RDWR | O_CREAT)
            }
            guard flock(lock.rawValue, LOCK_EX) == 0 else { throw EventLogError.system(SystemError.current("flock", directory + "/lock")) }
            defer { flock(lock.rawValue, LOCK_UN) }
            return try body(&state)
        }
    }

    /// `tree-size`: the stored size and root (nil when missing or unreadable).
    private func storedState() throws -> (treeSize: UInt64, root: [UInt8])? {
        guard let text = try systemCall({ try FileSystem.contents(of: statePath) }) else { return nil }
        let lines = String(decoding: text, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.count >= 2, let size = UInt64(lines[0]), let root = try? Base64.decode(lines[1]),
              root.count == MerkleTree.hashByteCount else { return nil }
        return (size, root)
    }

    /// `anchor`: the durable size and right edge, checked against its root (nil when missing or not intact).
    private func storedAnchor() throws -> MerkleTileBuilder? {
        guard let text = try systemCall({ try FileSystem.contents(of: anchorPath) }) else { return nil }
        let lines = String(decoding: text, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.count >= 3, lines.last == "", let size = UInt64(lines[0]), let root = try? Base64.decode(lines[1]) else { return nil }
        var edge: [[UInt8]] = []
        for line in lines[2..<(lines.count - 1)] {
            guard let hashes = try? Base64.decode(line) else { return nil }
            edge.append(hashes)
        }
        guard let builder = MerkleTileBuilder(treeSize: size, edge: edge), builder.rootHash == root else { return nil }
        return builder
    }

    /// The stored tree: `tree-size` and its partial tiles when they agree with its root (or the anchor
    /// when it is larger), else the anchor, else (when the log still starts at offset 0) an empty tree
    /// (nothing is deleted: every tile is written again as the tree is folded anew).
    /// - Throws: `MerkleTileError` when nothing stored is intact and the log no longer starts at 0: the
    ///   tiles cannot be rebuilt, so they are kept as they are.
    /// - Returns: the tree, and whether it is the one `tree-size` names (intact on disk).
    private func load() throws -> (builder: MerkleTileBuilder, intact: Bool) {
        if let stored = try storedState() {
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
            if let builder = MerkleTileBuilder(treeSize: stored.treeSize, edge: edge), builder.rootHash == stored.root {
                // The anchor is never above what is stored unless a crash lost the later `tree-size`.
                if let anchor = try storedAnchor(), anchor.treeSize > builder.treeSize { return (anchor, false) }
                return (builder, true)
            }
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

    /// Writes the partial tiles and `tree-size` of `builder`, then removes the partial tiles of the size
    /// stored before. Without `fsync`: a torn state is rebuilt at load.
    private func persist(_ builder: MerkleTileBuilder, replacing stored: (treeSize: UInt64, root: [UInt8])?) throws {
        let partials = builder.partialTiles
        for (tile, bytes) in partials { try writeTile(bytes, to: directory + "/" + tile.path) }
        try writeTile(Array("\(builder.treeSize)\n\(Base64.encode(builder.rootHash))\n".utf8), to: statePath)
        guard let stored, stored.treeSize != builder.treeSize else { return }
        let kept = Set(partials.map(\.tile))
        for tile in MerkleTile.partialTiles(treeSize: stored.treeSize) where !kept.contains(tile) {
            try? systemCall { try FileSystem.remove(directory + "/" + tile.path) }
        }
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
        var created = state.createdDirectory
        defer { state.createdDirectory = created }
        try state.builder.append(concatenatedLeafHashes: hashes) { tile, bytes in
            let path = directory + "/" + tile.path
            let parent = FileSystem.parent(of: path)
            if parent != created {
                try systemCall { try FileSystem.createDirectory(parent) }
                created = parent
            }
            try writeTile(bytes, to: path)
        }
    }

    /// Writes a file through a temporary file and a rename (readers see the old file or the new one),
    /// without `fsync` (derived data; see the type's comment).
    private func writeTile(_ bytes: [UInt8], to path: String) throws {
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
                unlink(temporary) // a full disk must not leave partial tiles behind
                throw error
            }
        }
    }

    // MARK: Reading

    /// A hash source over `builder`'s edge and the full tile files.
    private func reader(of builder: MerkleTileBuilder) -> MerkleTileHashSource {
        let directory = directory
        return MerkleTileHashSource(treeSize: builder.treeSize, edge: builder.edge) { tile in
            let path = directory + "/" + tile.path
            guard let bytes = try systemCall({ try FileSystem.contents(of: path) }) else {
                throw MerkleTileError.missing(path: path)
            }
            return bytes
        }
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
