import Crypto
import EventLog
import Glibc
import JSON
import NATS
import SystemIO

extension EngineBinding {
    /// The key of the log's checkpoint signing key in `ARGUS_META` (the base64 Ed25519 seed).
    static let checkpointKeyName = "checkpoint-key"
    /// The refusal's code when a data directory signs with another key than the engine's.
    static let checkpointKeyMismatch = "checkpoint_key_mismatch"

    /// Makes every `serve --engine` process sign checkpoints (local and of the archive) with one key, so
    /// the archive one sealer started can be continued by another and verifies with one key: the first
    /// process publishes its data directory's key to `ARGUS_META` by compare-and-set, the others write it
    /// into their data directory (`keys/checkpoint.key`) before the service opens it. Runs before
    /// `ArgusServer` is made. Its file reads, writes and removals run on `BlockingIO`.
    /// - Throws: `JoinRefusal` (`checkpoint_key_mismatch`) when the data directory already holds another key (it signed
    ///   checkpoints of its own: use a fresh data directory); key file and engine errors.
    package func shareCheckpointKey(path: String, logger: Logger) async throws {
        let local = try await BlockingIO.run { () throws -> Ed25519PrivateKey? in try CheckpointKeyFile.load(path: path) }
        for _ in 0..<3 {
            let entry = try await Self.retrying("checkpoint key", logger: logger) { () throws(JetStreamError) in
                try await meta.get(Self.checkpointKeyName)
            }
            if let entry {
                guard let seed = try? Base64.decode(String(decoding: entry.value, as: UTF8.self)), seed.count == Ed25519PrivateKey.seedByteCount else {
                    throw JoinRefusal(code: Self.checkpointKeyMismatch, "the engine's \(Self.checkpointKeyName) in ARGUS_META is not a base64 Ed25519 seed")
                }
                if let local {
                    guard local.seed == seed else {
                        throw JoinRefusal(code: Self.checkpointKeyMismatch, "this data directory signs checkpoints with another key than the engine's processes; start it with a fresh data directory")
                    }
                    return
                }
                try await BlockingIO.run { () throws(SystemError) in
                    try FileSystem.createDirectory(FileSystem.parent(of: path))
                    try FileSystem.writeAtomically(Array((Base64.encode(seed) + "\n").utf8), to: path, mode: 0o600)
                }
                return
            }
            let key = try await BlockingIO.run { () throws -> Ed25519PrivateKey in try local ?? CheckpointKeyFile.loadOrCreate(path: path) }
            do {
                _ = try await Self.retrying("checkpoint key", logger: logger) { () throws(JetStreamError) in
                    try await meta.create(Self.checkpointKeyName, Array(Base64.encode(key.seed).utf8))
                }
                return
            } catch JetStreamError.keyExists {
                // Another process published first: its key is the service's (a key made here a moment ago goes).
                guard local == nil else { continue }
                await Self.removeUnpublishedKey(path)
            } catch {
                // Not published: a key made here a moment ago signed nothing and must not bind this directory.
                if local == nil { await Self.removeUnpublishedKey(path) }
                throw error
            }
        }
        throw JoinRefusal(code: Self.checkpointKeyMismatch, "the engine's checkpoint key changed while this process read it")
    }

    /// Removes the key file at `path` that this process made and did not publish (on `BlockingIO`).
    private static func removeUnpublishedKey(_ path: String) async {
        await BlockingIO.run { _ = unlink(path) }
    }
}
