import Foundation
import Testing
import WebhookSigning
@testable import Delivery

/// The frames between the server and its delivery worker: every kind survives a round trip whole and
/// byte by byte, and a stream that breaks the format is an error, never a trap or a wrong frame.
@Suite struct WorkerFrameTests {
    static let frames: [WorkerFrame] = [
        .request(id: 1, url: "https://example.com/hook?a=1", headers: [HeaderField(name: "webhook-id", value: "msg_1"),
                                                                      HeaderField(name: "content-type", value: "application/json")],
                 body: Array(#"{"é":"ü"}"#.utf8), timeoutSeconds: 15),
        .request(id: UInt64.max, url: "", headers: [], body: [], timeoutSeconds: 0.5),
        .cancel(id: 42),
        .result(id: 7, TransportResult(statusCode: 204, durationMs: 1.25)),
        .result(id: 8, TransportResult(statusCode: 429, bodyPrefix: Array("slow down".utf8), retryAfter: "120", durationMs: 3)),
        .result(id: 9, .failed(.connectionClosed, "the receiver closed the connection without a response", bodyPrefix: [0, 255], durationMs: 9)),
        .result(id: 10, .failed(.timedOut, "no complete response within 15 s", durationMs: 15_000)),
        .result(id: 11, .failed(.networkError, "connect failed", durationMs: 0)),
    ]

    static func decodeAll(_ bytes: [UInt8], step: Int) throws -> [WorkerFrame] {
        var decoder = WorkerFrame.Decoder()
        var frames: [WorkerFrame] = []
        var index = 0
        while index < bytes.count {
            let end = min(bytes.count, index + step)
            bytes[index..<end].withUnsafeBytes { decoder.append($0) }
            index = end
            while let frame = try decoder.next() { frames.append(frame) }
        }
        return frames
    }

    @Test(arguments: [1, 7, 1 << 20])
    func everyFrameSurvivesARoundTrip(step: Int) throws {
        let stream = try Self.frames.flatMap { try $0.encoded() }
        #expect(try Self.decodeAll(stream, step: step) == Self.frames)
    }

    @Test func anIncompleteFrameWaitsForTheRest() throws {
        let bytes = try Self.frames[0].encoded()
        var decoder = WorkerFrame.Decoder()
        bytes.dropLast().withUnsafeBytes { decoder.append($0) }
        #expect(try decoder.next() == nil)
        bytes.suffix(1).withUnsafeBytes { decoder.append($0) }
        #expect(try decoder.next() == Self.frames[0])
    }

    @Test(arguments: [
        ("length below the header", [0, 0, 0, 3, 1, 0, 0]),
        ("length above the limit", [0xFF, 0xFF, 0xFF, 0xFF]),
        ("unknown kind", [0, 0, 0, 9, 9, 0, 0, 0, 0, 0, 0, 0, 1]),
        ("cancel with trailing bytes", [0, 0, 0, 10, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0]),
        ("request cut inside", [0, 0, 0, 12, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0x40, 0x2E, 0]),
        ("result with an unknown failure code", [0, 0, 0, 14, 3, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 204, 9]),
    ] as [(String, [UInt8])])
    func aBrokenStreamIsAnError(_ name: String, _ bytes: [UInt8]) {
        var decoder = WorkerFrame.Decoder()
        bytes.withUnsafeBytes { decoder.append($0) }
        #expect(throws: WorkerFrame.Malformed.self, "\(name)") { _ = try decoder.next() }
    }

    @Test func invalidUTF8AndAbsurdTimeoutsAreRefused() throws {
        var badURL = try WorkerFrame.request(id: 1, url: "x", headers: [], body: [], timeoutSeconds: 1).encoded()
        // The URL's single byte sits after length(4) kind(1) id(8) timeout(8) url-length(4).
        badURL[25] = 0xFF
        var decoder = WorkerFrame.Decoder()
        badURL.withUnsafeBytes { decoder.append($0) }
        #expect(throws: WorkerFrame.Malformed.self) { _ = try decoder.next() }
        for timeout in [0.0, -1, .nan, .infinity] {
            var decoder = WorkerFrame.Decoder()
            try WorkerFrame.request(id: 1, url: "x", headers: [], body: [], timeoutSeconds: timeout).encoded().withUnsafeBytes { decoder.append($0) }
            #expect(throws: WorkerFrame.Malformed.self, "timeout \(timeout)") { _ = try decoder.next() }
        }
    }

    @Test func moreHeadersThanTheLimitAreAnErrorNeverCutSilently() async throws {
        let limit = WorkerFrame.headerCountMax
        let headers = (0...limit).map { HeaderField(name: "x-h\($0)", value: "v") }
        let full = WorkerFrame.request(id: 1, url: "https://example.com/", headers: Array(headers.prefix(limit)), body: [], timeoutSeconds: 1)
        #expect(try Self.decodeAll(try full.encoded(), step: 1 << 20) == [full], "exactly the limit goes through whole")
        let over = WorkerFrame.request(id: 1, url: "https://example.com/", headers: headers, body: [], timeoutSeconds: 1)
        #expect(throws: WorkerFrame.Malformed(reason: "\(limit + 1) headers, at most \(limit)")) { _ = try over.encoded() }
        // The transport answers a failed attempt that says why, before starting any worker.
        let transport = WorkerProcessTransport(configuration: .init(executable: "/nonexistent/argus-events"))
        let result = await transport.post(url: URL(string: "https://example.com/")!, headers: headers, body: [], timeoutSeconds: 1)
        #expect(result.failure == .networkError && result.error?.contains("\(limit + 1) headers") == true)
        #expect(transport.workersStarted == 0)
    }
}
