import ArgusTestSupport
import JSON
import NATS
import Testing
@testable import Service

/// The `ARGUS_TOKENS` bucket as `serve --engine` creates it on a real nats-server: at its entry limit it
/// refuses a write and never drops its oldest entries (a revocation is a delete marker: dropped, it would
/// let the token be adopted again from an older issuance). Skipped, with the reason printed, when
/// nats-server is not installed.
@Suite(.timeLimit(.minutes(2)),
       .enabled(if: NATSServerCluster.unavailableReason == nil, "\(NATSServerCluster.unavailableReason ?? "")"))
struct EngineTokensBucketTests {
    @Test func theTokensBucketRefusesWritesAtItsLimitAndKeepsItsOldestEntries() async throws {
        let cluster = try await NATSServerCluster(nodeCount: 1)
        defer { cluster.stop() }
        let binding = try await EngineBinding.open(servers: cluster.url, logger: .discarding)
        defer { binding.connection.close() }
        let stream = binding.tokens.streamName
        // What the server holds for the bucket (not what the code meant to send): discard "new" at the limit.
        let info = try await binding.jetStream.apiRequest("STREAM.INFO." + stream, nil)
        let configuration = try #require(info["config"])
        #expect(configuration["discard"]?.stringValue == "new")
        #expect(configuration["max_msgs"]?.int64Value == Int64(ServiceLimits.Tokens.liveCountMax))

        // The same stream with its limit lowered to two entries (all else as created): the oldest stay.
        guard case .object(let members) = configuration else { Issue.record("config is not an object: \(configuration)"); return }
        let lowered = JSONValue.object(members.map { $0.0 == "max_msgs" ? ($0.0, .integer(2)) : $0 })
        _ = try await binding.jetStream.apiRequest("STREAM.UPDATE." + stream, lowered)
        try await binding.tokens.put("a", [1])
        try await binding.tokens.delete("b")  // a revocation marker
        await #expect(throws: JetStreamError.self, "a full bucket refuses a new entry") { try await binding.tokens.put("c", [3]) }
        #expect(try await binding.tokens.get("a")?.value == [1], "the oldest entry is kept")
        #expect(try await binding.tokens.entry("b")?.isDeleted == true, "the revocation marker is kept")
        #expect(try await binding.tokens.get("c") == nil)
    }
}
