import Delivery
import Foundation
import Testing
import WebhookSigning

/// The production transport against receivers that drop connections: one attempt, one POST, and a
/// connection closed without a complete response fails the attempt at once.
@Suite(.serialized) struct TransportConnectionTests {
    static func post(_ url: String, attempt: Int, timeoutSeconds: Double = 15) async -> TransportResult {
        await URLSessionTransport.shared.post(url: URL(string: url)!,
                                              headers: [HeaderField(name: "x-argus-attempt", value: "\(attempt)"),
                                                        HeaderField(name: "content-type", value: "application/json")],
                                              body: Array(#"{"n":\#(attempt)}"#.utf8), timeoutSeconds: timeoutSeconds)
    }

    @Test(.timeLimit(.minutes(1)), arguments: [DroppingReceiver.Action.closeAfterBody, .closeBeforeBody, .closeMidResponse])
    func aDropFailsTheAttemptOnceWithConnectionClosed(_ drop: DroppingReceiver.Action) async throws {
        let receiver = try DroppingReceiver { number in number == 2 ? drop : .respond(204) }
        defer { receiver.stop() }
        #expect(await Self.post(receiver.url, attempt: 1).statusCode == 204)
        // A 60 s deadline: were the drop seen only at the deadline, the test's 1-minute limit would fail it.
        let second = await Self.post(receiver.url, attempt: 2, timeoutSeconds: 60)
        #expect(second.statusCode == nil)
        #expect(second.failure == .connectionClosed)
        #expect(second.error?.hasPrefix("connection_closed: the receiver closed the connection") == true, "\(second.error ?? "")")
        #expect(await Self.post(receiver.url, attempt: 3).statusCode == 204)
        let requests = receiver.requests
        #expect(requests.compactMap(\.attempt) == [1, 2, 3], "one POST per attempt")
        #expect(requests.filter { $0.action.readsBody }.allSatisfy { $0.complete }, "no request without its body")
    }

    @Test(.timeLimit(.minutes(1)))
    func aReceiverThatKeepsConnectionsOpenAnywayGetsNoSecondCompleteCopy() async throws {
        let receiver = try DroppingReceiver(honoursClose: false) { number in number == 2 ? .closeAfterBody : .respond(204) }
        defer { receiver.stop() }
        #expect(await Self.post(receiver.url, attempt: 1).statusCode == 204)
        let second = await Self.post(receiver.url, attempt: 2, timeoutSeconds: 60)
        #expect(second.failure == .connectionClosed, "\(second.error ?? "")")
        #expect(await Self.post(receiver.url, attempt: 3).statusCode == 204)
        // libcurl may start a resend on a new connection; it is cancelled before its body: at most a head arrives.
        let complete = receiver.requests.filter { $0.complete }
        #expect(complete.compactMap(\.attempt) == [1, 2, 3], "one complete POST per attempt")
    }
}
