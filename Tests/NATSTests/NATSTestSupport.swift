import ArgusTestSupport
import Foundation
import NATS

/// Helpers for the tests against real nats-server processes.
enum NATSTestPeer {
    /// True when nats-server was found (otherwise the suites are disabled and the reason printed).
    static var isAvailable: Bool { NATSServerCluster.unavailableReason == nil }

    /// Client settings for tests: short connect and request deadlines so a killed node is left quickly.
    static var options: NATSConnectionOptions {
        var options = NATSConnectionOptions()
        options.connectTimeoutSeconds = 1
        options.reconnectWaitMaxSeconds = 0.5
        options.requestTimeoutSeconds = 2
        options.initialConnectTimeoutSeconds = 15
        return options
    }

    struct Timeout: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs `body` until it succeeds or fails with a non-transient error, retrying transient JetStream
    /// errors (no leader yet, a lost connection) every 100 ms for at most `seconds`.
    static func retrying<T: Sendable>(_ what: String, seconds: Double = 30, _ body: () async throws(JetStreamError) -> T) async throws -> T {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let failure: JetStreamError
            do {
                return try await body()
            } catch {
                failure = error
            }
            guard failure.isTransient || isStartingUp(failure) else { throw failure }
            do {
                let error = failure
                if Date() >= deadline { throw Timeout(description: "\(what): still failing after \(seconds) s: \(error)") }
                try await Task.sleep(nanoseconds: 100_000_000)
            }
        }
    }

    /// JetStream answers 503/10008-like errors and "insufficient resources" while a cluster forms.
    private static func isStartingUp(_ error: JetStreamError) -> Bool {
        if case .api(_, let code, _, let text) = error {
            return code == 503 || code == 500 || text.contains("insufficient resources") || text.contains("no suitable peers")
                || text.contains("temporarily unavailable")
        }
        return false
    }

    /// One nats-server and a connection to it whose JetStream answers.
    static func singleNodeJetStream() async throws -> (NATSServerCluster, JetStream) {
        let cluster = try await NATSServerCluster(nodeCount: 1)
        let connection = try await NATSConnection.connect(servers: cluster.url, options: options)
        let jetStream = JetStream(connection: connection)
        try await waitForJetStream(jetStream)
        return (cluster, jetStream)
    }

    /// Waits until JetStream answers `$JS.API.INFO` (the cluster has a meta leader).
    static func waitForJetStream(_ jetStream: JetStream, seconds: Double = 30) async throws {
        _ = try await retrying("waiting for $JS.API.INFO", seconds: seconds) { () throws(JetStreamError) in
            try await jetStream.apiRequest("INFO", nil)
        }
    }
}
