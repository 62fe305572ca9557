import Crypto
import Glibc
import Merkle
import Synchronization
import SystemIO

/// The log as an RFC 9162 Merkle tree, stored as C2SP `tlog-tiles` hash tiles (tile height 8) in
/// `directory` (`tile/<L>/<N>[.p/<W>]`, plus `tree-size`: the size the tiles cover and its root).
///
/// Leaf `i` is the event at offset `i`; its input is the envelope line `tail --format json` prints
/// (`EventRecord.envelope()`). Upkeep is lazy: `update(to:)` brings the tiles from the stored size
/// up to the log (reading only the new events), so appends pay nothing; a reader calls it before
/// asking for a root or proof. The tiles are derived data: when `tree-size`, a partial tile or the
/// root they give disagree, or a full tile is missing or short, they are rebuilt from the log.
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
        var treeSize: UInt64 = 0
        var edge: [[UInt8]] = []
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
    public var treeSize: UInt64 { state.withLock { $0.treeSize } }

    /// Brings the tiles up to `treeSize` leaves (nil: every event readable now) and returns the size
    /// they now cover (never less than before: a tree only grows).
    /// - Throws: `MerkleProofError.treeSizeBeyondLog` when the log holds fewer events,
    ///   `EventLogError` when the log cannot be read (an offset retention already removed locally).
    @discardableResult
    public func update(to treeSize: UInt64? = nil) throws -> UInt64 {
        try state.withLock { state in
            let lock = try systemCall { () throws -> FileDescriptor in
                try FileSystem.createDirectory(directory)
                return try FileDescriptor.open(directory + "/lock", O_RDWR | O_CREAT)
            }
            guard flock(lock.rawValue, LOCK_EX) == 0 else { throw EventLogError.system(SystemError.current("flock", directory + "/lock")) }
            defer { flock(lock.rawValue, LOCK_UN) }
            state = try load()
            if let treeSize, treeSize <= state.treeSize { return state.treeSize }
            try append(upTo: treeSize, into: &state)
            return state.treeSize
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
        let reader = state.withLock { MerkleTileReader(directory: directory, treeSize: $0.treeSize, edge: $0.edge) }
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
        guard edge.count >= byteCount else { throw MerkleTileError(path: tile.path, reason: "the right edge in memory is shorter") }
        return Array(edge.prefix(byteCount))
    }

    /// Removes every tile and rebuilds them from the log up to the size covered before.
    /// - Throws: as `update`.
    public func rebuild() throws {
        let size = treeSize
        // The tiles are derived from offset 0 on: once retention removed the log's start they cannot
        // be made again here, so keep what there is rather than delete it for nothing.
        let first = try LogReader(directory: logDirectory, start: .beginning).nextOffset
        guard first == 0 else {
            throw MerkleTileError(path: "tile", reason: "the local log starts at offset \(first) (retention): the tiles cannot be rebuilt from it and are kept")
        }
        try systemCall { try FileSystem.removeTree(directory + "/tile"); try? FileSystem.remove(statePath) }
        try update(to: size)
    }

    private func withReader<T>(treeSize: UInt64, _ body: (MerkleTileReader) throws -> T) throws -> T {
        let reader = state.withLock { MerkleTileReader(directory: directory, treeSize: $0.treeSize, edge: $0.edge) }
        guard treeSize <= reader.treeSize else {
            throw MerkleProofError.treeSizeBeyondLog(treeSize: treeSize, logSize: reader.treeSize)
        }
        do {
            return try body(reader)
        } catch is MerkleTileError {
            try rebuild()
            return try body(state.withLock { MerkleTileReader(directory: directory, treeSize: $0.treeSize, edge: $0.edge) })
        }
    }

    var statePath: String { directory + "/tree-size" }

    /// The stored size and right edge, checked against the stored root; an empty state (and no
    /// tiles) when anything disagrees, so the caller rebuilds.
    private func load() throws -> State {
        guard let text = try systemCall({ try FileSystem.contents(of: statePath) }) else { return State() }
        let lines = String(decoding: text, as: UTF8.self).split(separator: "\n").map(String.init)
        if lines.count == 2, let size = UInt64(lines[0]), let root = try? Base64.decode(lines[1]) {
            var edge: [[UInt8]] = []
            var hashCount = size
            var intact = true
            while hashCount > 0 {
                let width = Int(hashCount % UInt64(MerkleTile.fullWidth))
                hashCount /= UInt64(MerkleTile.fullWidth)
                guard width > 0 else { edge.append([]); continue }
                let tile = MerkleTile(level: edge.count, index: hashCount, width: width)
                let bytes = try systemCall { try FileSystem.contents(of: directory + "/" + tile.path) }
                guard let bytes, bytes.count == width * MerkleTree.hashByteCount else { intact = false; break }
                edge.append(bytes)
            }
            if intact, (try? MerkleTree.rootHash(of: MerkleTileReader(directory: directory, treeSize: size, edge: edge), treeSize: size)) == root {
                return State(treeSize: size, edge: edge)
            }
        }
        try systemCall { try FileSystem.removeTree(directory + "/tile"); try FileSystem.remove(statePath) }
        return State()
    }

    /// Hashes the events from `state.treeSize` on, writing each tile as it fills, then the partial
    /// tiles and `tree-size`, then removes the partial tiles of the old size.
    private func append(upTo target: UInt64?, into state: inout State) throws {
        let old = state
        // The writer's hashes first (in chunks, so the lock is never held long), then the log for the rest.
        while let recentLeafHashes, target.map({ state.treeSize < $0 }) ?? true {
            let wanted = target.map { Int(min($0 - state.treeSize, 65_536)) } ?? 65_536
            let hashes = recentLeafHashes.concatenatedHashes(from: state.treeSize, countMax: wanted)
            if hashes.isEmpty { break }
            for start in stride(from: 0, to: hashes.count, by: MerkleTree.hashByteCount) {
                try appendLeaf(hashes[start..<(start + MerkleTree.hashByteCount)], to: &state)
            }
        }
        if target.map({ state.treeSize < $0 }) ?? true {
            var reader = try LogReader(directory: logDirectory, start: .offset(state.treeSize))
            while target.map({ state.treeSize < $0 }) ?? true, let record = try reader.next() {
                guard record.offset == state.treeSize else {
                    throw EventLogError.offsetOutOfRange(offset: state.treeSize, firstOffset: record.offset, nextOffset: reader.nextOffset)
                }
                try appendLeaf(RecentLeafHashes.leafHash(of: record), to: &state)
            }
        }
        if let target, state.treeSize < target {
            throw MerkleProofError.treeSizeBeyondLog(treeSize: target, logSize: state.treeSize)
        }
        guard state.treeSize != old.treeSize else { return }
        let newPartials = Self.partialTiles(of: state)
        for (tile, bytes) in newPartials {
            try writeTile(bytes, to: directory + "/" + tile.path)
        }
        // One flush for every tile written above (not one fsync per tile), before `tree-size` names them.
        try systemCall { () throws in
            let handle = try FileDescriptor.open(directory, O_RDONLY | O_DIRECTORY)
            guard linuxSyncFileSystem(handle.rawValue) == 0 else { throw SystemError.current("syncfs", directory) }
        }
        let root = try Self.rootHash(of: state)
        try systemCall {
            try FileSystem.writeAtomically(Array("\(state.treeSize)\n\(Base64.encode(root))\n".utf8), to: statePath, mode: 0o644)
        }
        let kept = Set(newPartials.map(\.tile))
        for (tile, _) in Self.partialTiles(of: old) where !kept.contains(tile) {
            try? systemCall { try FileSystem.remove(directory + "/" + tile.path) }
        }
    }

    private func appendLeaf(_ leafHash: some Collection<UInt8>, to state: inout State) throws {
        try Self.appendLeaf(leafHash, to: &state) { tile, bytes in try writeTile(bytes, to: directory + "/" + tile.path) }
    }

    /// Adds one leaf to the right edge, handing every tile that fills to `emit` (the 256 hashes).
    static func appendLeaf(_ leafHash: some Collection<UInt8>, to state: inout State,
                           emit: (MerkleTile, [UInt8]) throws -> Void) throws {
        state.treeSize += 1
        if state.edge.isEmpty { state.edge.append([]) }
        state.edge[0] += leafHash
        var level = 0
        var levelSize = state.treeSize
        while state.edge[level].count == MerkleTile.fullWidth * MerkleTree.hashByteCount {
            levelSize /= UInt64(MerkleTile.fullWidth)
            let bytes = state.edge[level]
            try emit(MerkleTile(level: level, index: levelSize - 1, width: MerkleTile.fullWidth), bytes)
            state.edge[level] = []
            level += 1
            if state.edge.count == level { state.edge.append([]) }
            state.edge[level] += Self.rootOfFullTile(bytes)
        }
    }

    /// The root of the 256 hashes of a full tile (the hash the next tile level holds for it), folded
    /// pairwise in one buffer.
    static func rootOfFullTile(_ bytes: [UInt8]) -> [UInt8] {
        let size = MerkleTree.hashByteCount
        var hashes = bytes
        var count = MerkleTile.fullWidth
        hashes.withUnsafeMutableBytes { buffer in
            while count > 1 {
                for pair in 0..<(count / 2) {
                    var hasher = SHA256()
                    hasher.update(CollectionOfOne(UInt8(0x01)))
                    hasher.update(UnsafeRawBufferPointer(rebasing: buffer[(2 * pair * size)..<((2 * pair + 2) * size)]))
                    let node = hasher.finalize()
                    for index in 0..<size { buffer[pair * size + index] = node[index] }
                }
                count /= 2
            }
        }
        return Array(hashes[0..<size])
    }

    /// The root of `state`'s tree from its right edge alone (the complete subtrees a root needs all lie
    /// in the partial tiles; no file is read).
    static func rootHash(of state: State) throws -> [UInt8] {
        try MerkleTree.rootHash(of: MerkleTileReader(directory: "/nonexistent", treeSize: state.treeSize, edge: state.edge),
                                treeSize: state.treeSize)
    }

    /// Writes a tile through a temporary file and a rename (readers see the old file or the new one),
    /// without an fsync: `append` flushes every tile with one `syncfs` before `tree-size` names them.
    private func writeTile(_ bytes: [UInt8], to path: String) throws {
        try systemCall { () throws in
            try FileSystem.createDirectory(FileSystem.parent(of: path))
            let temporary = path + ".tmp-\(getpid())"
            let file = try FileDescriptor.open(temporary, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
            try file.write(bytes, at: 0)
            if rename(temporary, path) != 0 { throw SystemError.current("rename", path) }
        }
    }

    static func partialTiles(of state: State) -> [(tile: MerkleTile, bytes: [UInt8])] {
        var hashCount = state.treeSize
        var result: [(tile: MerkleTile, bytes: [UInt8])] = []
        for level in state.edge.indices {
            let width = Int(hashCount % UInt64(MerkleTile.fullWidth))
            hashCount /= UInt64(MerkleTile.fullWidth)
            if width > 0 { result.append((MerkleTile(level: level, index: hashCount, width: width), state.edge[level])) }
        }
        return result
    }
}

/// glibc's `syncfs(2)` (flushes the file system holding `descriptor`), which the Glibc module does not export.
@_silgen_name("syncfs")
private func linuxSyncFileSystem(_ descriptor: Int32) -> Int32
