import ArgusTestSupport
import Delivery
import Foundation
import Testing
import WebhookSigning
#if canImport(Glibc)
import Glibc
#endif

/// The delivery worker process (`argus-events delivery-worker`) behind `WorkerProcessTransport`: requests
/// go through it, workers are replaced after their quota without losing a request, a worker that dies
/// fails only its own attempts, and a cancelled attempt returns at once.
@Suite(.serialized) struct DeliveryWorkerTests {
    static func transport(requestsPerWorkerMax: Int = 50_000) -> WorkerProcessTransport {
        var configuration = WorkerProcessTransport.Configuration(executable: BuiltProduct.argusEvents)
        configuration.requestsPerWorkerMax = requestsPerWorkerMax
        return WorkerProcessTransport(configuration: configuration)
    }

    static func post(_ transport: WorkerProcessTransport, _ url: String, attempt: Int, timeoutSeconds: Double = 10) async -> TransportResult {
        await transport.post(url: URL(string: url)!, headers: [HeaderField(name: "x-argus-attempt", value: "\(attempt)")],
                             body: Array(#"{"n":\#(attempt)}"#.utf8), timeoutSeconds: timeoutSeconds)
    }

    static func isRunning(_ pid: pid_t) -> Bool { kill(pid, 0) == 0 }

    @Test(.timeLimit(.minutes(1)))
    func requestsGoThroughTheWorkerWhichIsReplacedAfterItsQuota() async throws {
        let receiver = try DroppingReceiver { number in number == 5 ? .respond(503) : .respond(204) }
        defer { receiver.stop() }
        let transport = Self.transport(requestsPerWorkerMax: 3)
        defer { transport.shutdown() }
        var statuses: [Int?] = []
        var pids: [pid_t] = []
        for attempt in 1...7 {
            statuses.append(await Self.post(transport, receiver.url, attempt: attempt).statusCode)
            if let pid = transport.currentWorkerPID, !pids.contains(pid) { pids.append(pid) }
        }
        #expect(statuses == [204, 204, 204, 204, 503, 204, 204], "every answer comes back through the worker")
        #expect(receiver.requests.compactMap(\.attempt) == Array(1...7), "one request each, in order")
        #expect(transport.workersStarted == 3, "7 requests at 3 per worker")
        #expect(pids.count == 3)
        #expect(pids.allSatisfy { $0 != getpid() })
        // Retired workers get the end of their input and exit; the current one stays.
        let deadline = ContinuousClock.now + .seconds(20)
        while pids.dropLast().contains(where: Self.isRunning), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(!pids.dropLast().contains(where: Self.isRunning), "retired workers exited")
        #expect(Self.isRunning(pids.last!))
    }

    @Test(.timeLimit(.minutes(1)))
    func aWorkerKilledMidAttemptFailsThatAttemptOnlyAndIsReplaced() async throws {
        // The receiver reads the request and never answers (closeAfterBody would close; a long-held answer is
        // simulated with a listening socket that accepts nothing).
        let silent = try SilentListener()
        defer { silent.stop() }
        let receiver = try DroppingReceiver { _ in .respond(204) }
        defer { receiver.stop() }
        let transport = Self.transport()
        defer { transport.shutdown() }
        #expect(await Self.post(transport, receiver.url, attempt: 1).statusCode == 204)
        let pid = try #require(transport.currentWorkerPID)
        try await Task.sleep(for: .milliseconds(1100)) // past the 1-second restart guard
        async let hanging = Self.post(transport, silent.url, attempt: 2, timeoutSeconds: 50)
        try await Task.sleep(for: .milliseconds(300))
        kill(pid, SIGKILL)
        let started = ContinuousClock.now
        let failed = await hanging
        #expect(ContinuousClock.now - started < .seconds(20), "the attempt ends with the worker, not at its 50 s deadline")
        #expect(failed.failure == .networkError)
        #expect(failed.error?.contains("the delivery worker exited (signal 9)") == true, "\(failed.error ?? "")")
        #expect(await Self.post(transport, receiver.url, attempt: 3).statusCode == 204, "a new worker takes the next request")
        #expect(transport.workersStarted == 2)
    }

    @Test(.timeLimit(.minutes(1)))
    func shutdownEndsTheWorkerAndItKeepsNoDescriptorOfOurs() async throws {
        let receiver = try DroppingReceiver { _ in .respond(204) }
        defer { receiver.stop() }
        let transport = Self.transport()
        #expect(await Self.post(transport, receiver.url, attempt: 1).statusCode == 204)
        let pid = try #require(transport.currentWorkerPID)
        // The worker holds only its pipes and what URLSession opened, never one of this process's sockets.
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
        let ours = Set(((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).compactMap { name -> String? in
            let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + name)
            return target?.hasPrefix("socket:") == true ? target : nil
        })
        let inherited = descriptors.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/" + $0) }
            .filter { ours.contains($0) }
        #expect(inherited.isEmpty, "sockets of the test process inside the worker: \(inherited)")
        transport.shutdown()
        let deadline = ContinuousClock.now + .seconds(20)
        while Self.isRunning(pid), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(!Self.isRunning(pid), "the retired worker exited")
    }

    @Test(.timeLimit(.minutes(1)))
    func aCancelledAttemptReturnsAtOnce() async throws {
        let silent = try SilentListener()
        defer { silent.stop() }
        let transport = Self.transport()
        defer { transport.shutdown() }
        let attempt = Task { await Self.post(transport, silent.url, attempt: 1, timeoutSeconds: 50) }
        try await Task.sleep(for: .milliseconds(500))
        let started = ContinuousClock.now
        attempt.cancel()
        let result = await attempt.value
        #expect(ContinuousClock.now - started < .seconds(10), "cancellation reaches the worker's request")
        #expect(result.statusCode == nil)
    }
}

/// A socket that listens on 127.0.0.1 and never accepts: connections complete (the kernel's backlog) and
/// requests are never answered.
final class SilentListener: Sendable {
    let port: Int
    private let descriptor: Int32

    init() throws {
        (descriptor, port) = try DroppingReceiver.listen(backlog: 16)
    }

    var url: String { "http://127.0.0.1:\(port)/silent" }

    func stop() { close(descriptor) }
}
