import ArgusTestSupport
import Foundation
import JSON
import NATS
import Service
import Testing

/// `EngineBinding.shareCheckpointKey` against a real nats-server: the first data directory publishes its key, the
/// next adopts it, and a key this process made but could not publish is removed again (it signed nothing and must
/// not bind the data directory to a key the engine does not hold).
@Suite(.timeLimit(.minutes(2)), .enabled(if: NATSServerCluster.unavailableReason == nil, "\(NATSServerCluster.unavailableReason ?? "")"))
struct EngineCheckpointKeyTests {
    /// The checkpoint key path of a fresh temporary data directory.
    static func keyPath() -> (directory: String, path: String) {
        let directory = NSTemporaryDirectory() + "argus-checkpoint-key-\(UUID().uuidString.prefix(8))"
        return (directory, DataLayout(root: directory).checkpointKey)
    }

    @Test func theFirstDirectoryPublishesItsKeyAndTheNextAdoptsIt() async throws {
        let cluster = try await NATSServerCluster(nodeCount: 1)
        defer { cluster.stop() }
        let engine = try await EngineBinding.open(servers: cluster.url, logger: .discarding)
        defer { engine.connection.close() }
        let (first, firstPath) = Self.keyPath(), (second, secondPath) = Self.keyPath()
        defer { try? FileManager.default.removeItem(atPath: first); try? FileManager.default.removeItem(atPath: second) }

        try await engine.shareCheckpointKey(path: firstPath, logger: .discarding)
        let published = try #require(try CheckpointKeyFile.load(path: firstPath), "the first directory made a key")
        try await engine.shareCheckpointKey(path: secondPath, logger: .discarding)
        let adopted = try #require(try CheckpointKeyFile.load(path: secondPath), "the next directory holds the engine's key")
        #expect(adopted.seed == published.seed)
    }

    @Test func aKeyTheEngineRefusedIsRemovedFromTheDataDirectory() async throws {
        let cluster = try await NATSServerCluster(nodeCount: 1)
        defer { cluster.stop() }
        let engine = try await EngineBinding.open(servers: cluster.url, logger: .discarding)
        defer { engine.connection.close() }
        // ARGUS_META again, with values too small for a key (44 base64 bytes): the publish is refused.
        try await engine.jetStream.deleteStream(engine.meta.streamName)
        _ = try await KeyValueBucket.create(engine.meta.name, in: engine.jetStream, limits: KeyValueBucket.Limits(valueBytesMax: 8))
        let (directory, path) = Self.keyPath()
        defer { try? FileManager.default.removeItem(atPath: directory) }

        await #expect(throws: JetStreamError.self, "the engine refused the key") {
            try await engine.shareCheckpointKey(path: path, logger: .discarding)
        }
        #expect(!FileManager.default.fileExists(atPath: path), "the key made here and not published is removed")
    }
}
