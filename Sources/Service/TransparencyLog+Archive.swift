import Archive
import Crypto
import EventLog
import Foundation
import Merkle

extension TransparencyLog {
    /// What `publish(to:treeSize:)` did.
    public struct ArchivePublication: Sendable, Equatable {
        /// The size of the checkpoint the archive holds now (0: none, the archive holds no tree from offset 0).
        public var treeSize: UInt64
        /// Tiles uploaded in this call.
        public var uploadedTileCount: Int
        /// Whether the archive already held a checkpoint of that size (nothing was uploaded).
        public var alreadyThere: Bool
    }

    /// Makes the archive a transparency log of its segments: uploads the C2SP `tlog-tiles` hash tiles of
    /// the first `treeSize` events (`tile/<L>/<N>[.p/<W>]`; full tiles only when the archive's checkpoint
    /// did not cover them yet) and then the signed checkpoint of that size (`checkpoint`), so an auditor
    /// verifies any archived event from the archive and the verifier key alone.
    ///
    /// A checkpoint the archive already holds is kept when it is at least as large; one that is not
    /// signed by this log's key, or whose root the log does not give at its size, is an integrity
    /// error (nothing is overwritten).
    /// - Parameter treeSize: the offset after the archive's last segment (`ArchiveState.archivedSize`).
    /// - Throws: `ArchiveError` (target, integrity), tile and log errors.
    public func publish(to target: any ArchiveTarget, treeSize: UInt64) async throws -> ArchivePublication {
        guard treeSize > 0 else { return ArchivePublication(treeSize: 0, uploadedTileCount: 0, alreadyThere: false) }
        let key = ArchiveLayout.checkpointKey
        var coveredSize: UInt64 = 0
        if let data = try await target.get(key: key) {
            let stored: Checkpoint
            do {
                stored = try Checkpoint(signedNote: String(decoding: data, as: UTF8.self), verifier: signer.verifier)
            } catch {
                throw ArchiveError(.integrity, key: key, "the archive's checkpoint does not verify with this log's key: \(error)")
            }
            let storedRoot = try await BlockingIO.run { [self] () throws -> [UInt8] in
                _ = try tiles.update(to: stored.treeSize)
                return try tiles.rootHash(treeSize: stored.treeSize)
            }
            guard storedRoot == stored.rootHash else {
                throw ArchiveError(.integrity, key: key, "the archive's checkpoint at size \(stored.treeSize) is not a tree of this log")
            }
            if stored.treeSize >= treeSize {
                return ArchivePublication(treeSize: stored.treeSize, uploadedTileCount: 0, alreadyThere: true)
            }
            coveredSize = stored.treeSize
        }
        let covered = coveredSize
        let (uploads, note) = try await BlockingIO.run { [self] () throws -> ([(MerkleTile, [UInt8])], String) in
            _ = try tiles.update(to: treeSize)
            let pending = MerkleTile.tiles(treeSize: treeSize).filter { tile in
                // A full tile the archive's checkpoint covered was uploaded with it; partial tiles are new.
                !(tile.isFull && MerkleTile.tile(level: tile.level, holding: tile.index * UInt64(MerkleTile.fullWidth) + 255,
                                                 treeSize: covered)?.isFull == true)
            }
            // One pass: each tile (and each level file) read once, the level above not once per tile.
            return (Array(zip(pending, try tiles.hashes(of: pending))), try signedCheckpoint(treeSize: treeSize))
        }
        for (tile, bytes) in uploads {
            try await target.put(key: tile.path, body: Data(bytes), sha256: SHA256.hash(bytes))
        }
        // The checkpoint last: an archive never names a tree whose tiles it does not hold.
        let body = Array(note.utf8)
        let digest = SHA256.hash(body)
        try await target.put(key: key, body: Data(body), sha256: digest)
        try await target.verifyStored(key: key, sizeBytes: Int64(body.count), sha256: digest)
        return ArchivePublication(treeSize: treeSize, uploadedTileCount: uploads.count, alreadyThere: false)
    }
}
