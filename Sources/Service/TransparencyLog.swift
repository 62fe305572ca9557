import Crypto
import EventLog
import Glibc
import Merkle
import Synchronization
import SystemIO

/// The log as a transparency log: its Merkle hash tiles (`MerkleTileStore`), the checkpoint key, and
/// the latest signed checkpoint (`merkle/checkpoint`, a C2SP tlog-checkpoint in a signed note).
///
/// Never signs two inconsistent checkpoints: before signing a larger size it checks that the tiles
/// still give the stored checkpoint's root at its size, and it never signs a smaller size as latest.
/// Blocking file I/O: call from a dedicated thread.
public final class TransparencyLog: Sendable {
    /// The hash tiles.
    public let tiles: MerkleTileStore
    /// The signer (origin, key id, key).
    package let signer: NoteSigner
    let checkpointPath: String
    private let signing = Mutex(())
    /// The log's durable size (a running server passes its acknowledged head, so nothing that a
    /// crash could still lose is ever signed); nil: every event readable now.
    private let durableSize: (@Sendable () -> UInt64)?

    /// The default origin for `key`: `argus.local/<log id>`, the log id being the first 8 bytes of
    /// SHA-256 of the public key, in hex.
    package static func defaultOrigin(for key: Ed25519PrivateKey) -> String {
        "argus.local/" + Hex.encode(SHA256.hash(key.publicKey.rawRepresentation).prefix(8))
    }

    /// Opens the transparency log of the data directory `layout` (creating the key when missing).
    /// - Parameter origin: the checkpoint origin and key name, remembered in `keys/checkpoint.origin`
    ///   for later commands; nil for the remembered one, else `defaultOrigin`.
    /// - Throws: key file errors, `SignedNoteError.invalidName` for an origin with spaces or `+`.
    /// - Parameter recentLeafHashes: the writer's leaf hashes (`EventLog.recentLeafHashes`), when this
    ///   process writes the log.
    public init(layout: DataLayout, origin: String? = nil, durableSize: (@Sendable () -> UInt64)? = nil,
                recentLeafHashes: RecentLeafHashes? = nil) throws {
        self.durableSize = durableSize
        let key = try CheckpointKeyFile.loadOrCreate(path: layout.checkpointKey)
        let originPath = layout.checkpointKey.replacingSuffix(".key", with: ".origin")
        let remembered = try FileSystem.contents(of: originPath).map { String(decoding: $0, as: UTF8.self).filter { !$0.isNewline } }
        let name = origin ?? remembered ?? Self.defaultOrigin(for: key)
        signer = try NoteSigner(name: name, privateKey: key)
        if let origin, origin != remembered {
            try FileSystem.writeAtomically(Array((origin + "\n").utf8), to: originPath, mode: 0o600)
        }
        tiles = MerkleTileStore(directory: layout.merkle, logDirectory: layout.log, recentLeafHashes: recentLeafHashes)
        checkpointPath = layout.merkle + "/checkpoint"
    }

    /// The verifier key (`vkey` form).
    public var verifierKey: String { signer.verifier.verifierKey }

    /// The latest signed checkpoint when one is stored and verifies with this key.
    package func storedCheckpoint() throws -> (note: String, checkpoint: Checkpoint)? {
        guard let bytes = try FileSystem.contents(of: checkpointPath) else { return nil }
        let note = String(decoding: bytes, as: UTF8.self)
        guard let checkpoint = try? Checkpoint(signedNote: note, verifier: signer.verifier) else { return nil }
        return (note, checkpoint)
    }

    /// Brings the tiles up to the log and returns the latest signed checkpoint, signing (and storing)
    /// a new one when the log grew since the stored one.
    /// - Throws: tile and log errors; `TransparencyLogError.inconsistent` when the tiles no longer give
    ///   the stored checkpoint's root (the log was rewritten: nothing is signed).
    public func latestCheckpoint() throws -> String {
        try sign(treeSize: nil)
    }

    /// Signs (and stores as the latest, when it is larger than the stored one) a checkpoint for the
    /// first `treeSize` events, such as the offset after a segment that was just sealed; returns it.
    /// - Throws: as `latestCheckpoint`; `MerkleProofError.treeSizeBeyondLog` when the log is smaller.
    @discardableResult
    public func checkpoint(treeSize: UInt64) throws -> String {
        try sign(treeSize: treeSize)
    }

    private func sign(treeSize: UInt64?) throws -> String {
        try signing.withLock { _ in
            // Another process (`argus-events checkpoint` beside `serve`) may sign too: one at a time.
            try FileSystem.createDirectory(tiles.directory)
            let lock = try FileDescriptor.open(checkpointPath + ".lock", O_RDWR | O_CREAT, mode: 0o644)
            guard flock(lock.rawValue, LOCK_EX) == 0 else { throw SystemError.current("flock", checkpointPath + ".lock") }
            defer { flock(lock.rawValue, LOCK_UN) }
            // The partial tiles and `tree-size` are written here, at most once per checkpoint.
            let size = try updateTiles(persisting: true)
            let wanted = treeSize ?? size
            guard wanted <= size else { throw MerkleProofError.treeSizeBeyondLog(treeSize: wanted, logSize: size) }
            // The root of the whole tree comes from the right edge alone (never from a full tile file), so
            // it is the log's. Every checkpoint signed is proven a prefix of it first (consistency proofs made
            // from the tiles and verified): the stored one and the new one, hence consistent with each other.
            let currentRoot = try tiles.rootHash(treeSize: size)
            let stored = try storedCheckpoint()
            if let stored {
                guard stored.checkpoint.treeSize <= size else {
                    throw TransparencyLogError.inconsistent(storedSize: stored.checkpoint.treeSize, logSize: size)
                }
                do {
                    _ = try verifiedConsistencyProof(from: stored.checkpoint.treeSize, to: size, fromRoot: stored.checkpoint.rootHash, toRoot: currentRoot)
                } catch TransparencyLogError.unverifiedProof {
                    throw TransparencyLogError.inconsistent(storedSize: stored.checkpoint.treeSize, logSize: size)
                }
                if stored.checkpoint.treeSize == wanted { return stored.note }
            }
            let note = try signedCheckpoint(treeSize: wanted)
            if wanted > stored?.checkpoint.treeSize ?? 0 || stored == nil {
                // Replaced atomically but not flushed: every checkpoint is of a durable prefix of the one log, so
                // one lost in a power cut leaves an older one that is consistent with it, and signing the same
                // size again gives the same note (Ed25519 is deterministic). No `fsync` beside the log's.
                let temporary = checkpointPath + ".tmp-\(getpid())"
                let file = try FileDescriptor.open(temporary, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
                try file.write(Array(note.utf8), at: 0)
                try FileSystem.move(temporary, to: checkpointPath)
            }
            return note
        }
    }

    /// Brings the tiles up to the durable size (for a process that is not the writer: the readable
    /// size, made durable first with `EventLog.syncedReadableSize`); returns the size they cover.
    /// - Parameter persisting: write the partial tiles and `tree-size` too (nil: only in a process that
    ///   does not write the log; the server writes them when it signs a checkpoint).
    /// - Throws: tile and log errors.
    package func updateTiles(persisting: Bool? = nil) throws -> UInt64 {
        try tiles.update(to: durableSize?() ?? EventLog.syncedReadableSize(directory: tiles.logDirectory),
                         persisting: persisting ?? (durableSize == nil))
    }

    /// A signed checkpoint for the first `treeSize` events (at most what the tiles cover; call
    /// `tiles.update` first). It is a prefix of the log, so it is consistent with every other one.
    /// - Throws: `MerkleProofError.treeSizeBeyondLog`, tile errors.
    package func signedCheckpoint(treeSize: UInt64) throws -> String {
        signer.sign(Checkpoint(origin: signer.verifier.name, treeSize: treeSize, rootHash: try verifiedRoot(treeSize: treeSize)).body)
    }

    /// The root of the first `treeSize` events (at most what the tiles cover), proven a prefix of the whole
    /// tree the tiles cover, whose root comes from the right edge in memory alone (never from a full tile
    /// file): a full tile changed on disk can then never make a root that is signed.
    /// - Throws: `TransparencyLogError.unverifiedProof` when the proof fails even after a rebuild; tile errors.
    func verifiedRoot(treeSize: UInt64) throws -> [UInt8] {
        let size = tiles.treeSize
        let currentRoot = try tiles.rootHash(treeSize: size)
        guard treeSize < size else { return treeSize == size ? currentRoot : try tiles.rootHash(treeSize: treeSize) }
        let root = try tiles.rootHash(treeSize: treeSize)
        do {
            _ = try verifiedConsistencyProof(from: treeSize, to: size, fromRoot: root, toRoot: currentRoot)
            return root
        } catch TransparencyLogError.unverifiedProof {
            // The proof was made again after a rebuild, and the root may have been the damaged part.
            let rebuilt = try tiles.rootHash(treeSize: treeSize)
            _ = try verifiedConsistencyProof(from: treeSize, to: size, fromRoot: rebuilt, toRoot: currentRoot)
            return rebuilt
        }
    }
}

extension String {
    fileprivate func replacingSuffix(_ suffix: String, with replacement: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) + replacement : self + replacement
    }
}

/// What `TransparencyLog` refuses to sign.
public enum TransparencyLogError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The log no longer contains the stored checkpoint's tree (it shrank or was rewritten).
    case inconsistent(storedSize: UInt64, logSize: UInt64)
    /// A proof made from the tiles does not verify, even after they were rebuilt: it is not handed out
    /// (`cause`: how the rebuilt tiles' proof failed, a `MerkleProofError` that `isVerificationFailure`).
    case unverifiedProof(MerkleProofKind, cause: MerkleProofError)

    public var description: String {
        switch self {
        case let .inconsistent(storedSize, logSize):
            return "the log (\(logSize) events) is not consistent with the stored checkpoint of size \(storedSize); refusing to sign"
        case let .unverifiedProof(kind, cause):
            return "the \(kind) proof made from the hash tiles does not verify (\(cause)), even after rebuilding them; it is not handed out"
        }
    }
}
