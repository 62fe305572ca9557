import Crypto
import Foundation
import HTTPServer
import Synchronization
import Testing
@testable import Archive

/// `S3Target` against an in-process fake S3 (our HTTPServer on 127.0.0.1) that answers from a script:
/// which statuses are retried, how often, and what an error carries.
@Suite(.timeLimit(.minutes(2))) struct S3TargetTests {
    static let secretAccessKey = "argus-test-secret-Q2xvdWRTZWNyZXQ0Mg"

    /// A fake S3 that records each request and answers with `script[n]` for the n-th one (the last entry repeats).
    final class FakeS3: Sendable {
        struct Seen: Sendable {
            var method: String
            var path: String
            var authorization: String
            var expect: String? = nil
            var bodyCount = 0
        }

        private struct Handler: HTTPHandler {
            let fake: FakeS3
            func handle(_ request: HTTPRequest) async -> HTTPResponse {
                let number = fake.seen.withLock { seen in
                    seen.append(Seen(method: request.method, path: request.path, authorization: request.headers["authorization"] ?? "",
                                     expect: request.headers["expect"], bodyCount: request.body.count))
                    return seen.count - 1
                }
                let (status, code) = fake.script[min(number, fake.script.count - 1)]
                if code == "Oversized" {
                    // An answer larger than any a PUT should get (an error document is a few hundred bytes).
                    return HTTPResponse(status: status, headers: ["Content-Type": "application/xml"],
                                        body: [UInt8](repeating: UInt8(ascii: "x"), count: S3Target.errorSizeBytesMax + 1))
                }
                guard status >= 300 else { return HTTPResponse(status: status) }
                let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>\(code)</Code><Message>scripted \(status)</Message></Error>"
                return HTTPResponse(status: status, headers: ["Content-Type": "application/xml"], body: Array(xml.utf8))
            }
        }

        let script: [(Int, String)]
        let seen = Mutex<[Seen]>([])
        private let server: Mutex<HTTPServer?> = Mutex(nil)
        private let boundPort = Mutex(0)

        init(_ script: [(Int, String)]) throws {
            self.script = script
            var configuration = HTTPServerConfiguration()
            configuration.host = "127.0.0.1"
            configuration.port = 0
            configuration.bodySizeBytesMax = { _, _ in 16 << 20 }  // segments are larger than the default
            let server = HTTPServer(configuration: configuration, handler: Handler(fake: self))
            let bound = try server.start()
            self.server.withLock { $0 = server }
            boundPort.withLock { $0 = bound }
        }

        var endpoint: String { "http://127.0.0.1:\(boundPort.withLock { $0 })" }
        var requests: [Seen] { seen.withLock { $0 } }

        func stop() async { await server.withLock { $0 }?.shutdown(graceSeconds: 1) }
    }

    static func target(endpoint: String) throws(ArchiveError) -> S3Target {
        try S3Target(configuration: .init(bucket: "argus-archive", prefix: "compliance/", region: "us-east-1", endpoint: endpoint,
                                          credentials: S3Credentials(accessKeyID: "AKIDARGUSTEST", secretAccessKey: secretAccessKey)))
    }

    static func put(_ target: S3Target) async throws(ArchiveError) {
        let body = Data("segment bytes".utf8)
        try await target.put(key: "segments/00000000000000000000.log", body: body, sha256: SHA256.hash(Array(body)))
    }

    /// A segment (over libcurl's 1 MiB threshold) goes without `Expect: 100-continue`: no round trip,
    /// and no second-long wait at a server that never answers `100 Continue`.
    @Test func largeBodiesAreSentWithoutWaitingFor100Continue() async throws {
        let fake = try FakeS3([(200, "")])
        let body = Data(repeating: 0x5A, count: 2 << 20)
        try await Self.target(endpoint: fake.endpoint).put(key: "segments/00000000000000000000.log", body: body, sha256: SHA256.hash(Array(body)))
        await fake.stop()
        let requests = fake.requests
        #expect(requests.count == 1 && requests.first?.bodyCount == body.count)
        #expect(requests.first?.expect == nil, "\(requests.first?.expect ?? "")")
    }

    @Test(arguments: [429, 500, 502, 503, 504])
    func aTransientStatusIsRetriedUntilItSucceeds(status: Int) async throws {
        let fake = try FakeS3([(status, "SlowDown"), (status, "SlowDown"), (200, "")])
        try await Self.put(try Self.target(endpoint: fake.endpoint))
        await fake.stop()
        let requests = fake.requests
        #expect(requests.count == 3, "two \(status) answers, then success")
        #expect(!requests.isEmpty && requests.allSatisfy { $0.method == "PUT" && $0.path == "/argus-archive/compliance/segments/00000000000000000000.log" })
    }

    @Test func retriesStopAfterThreeAndTheErrorNamesTheStatusAndCode() async throws {
        let fake = try FakeS3([(503, "ServiceUnavailable")])
        do {
            try await Self.put(try Self.target(endpoint: fake.endpoint))
            Issue.record("a put that only ever got 503 succeeded")
        } catch {
            #expect(error.kind == .http && error.httpStatus == 503 && error.s3Code == "ServiceUnavailable", "\(error)")
        }
        await fake.stop()
        #expect(fake.requests.count == 4, "one attempt and three retries")
    }

    @Test(arguments: [400, 403, 404, 409])
    func aClientErrorIsNotRetried(status: Int) async throws {
        let fake = try FakeS3([(status, "AccessDenied")])
        do {
            try await Self.put(try Self.target(endpoint: fake.endpoint))
            Issue.record("accepted \(status)")
        } catch {
            #expect(error.kind == .http && error.httpStatus == status)
        }
        await fake.stop()
        #expect(fake.requests.count == 1)
    }

    @Test func anAnswerLargerThanItsKindAllowsIsRefusedNotRead() async throws {
        let fake = try FakeS3([(403, "Oversized")])
        do {
            try await Self.put(try Self.target(endpoint: fake.endpoint))
            Issue.record("accepted an oversized answer")
        } catch {
            #expect(error.kind == .http && error.httpStatus == 403)
            #expect("\(error)".contains("larger than \(S3Target.errorSizeBytesMax) bytes"), "\(error)")
        }
        await fake.stop()
    }

    /// The errors S3Target really throws (an HTTP refusal, a refused connection) carry the key and the
    /// S3 code, never the secret access key; the key is not sent either (only a signature derived from it).
    @Test func errorsAndRequestsNeverCarryTheSecretKey() async throws {
        let fake = try FakeS3([(403, "SignatureDoesNotMatch")])
        let target = try Self.target(endpoint: fake.endpoint)
        var texts: [String] = []
        do {
            try await Self.put(target)
            Issue.record("accepted 403")
        } catch {
            #expect(error.s3Code == "SignatureDoesNotMatch" && error.key == "segments/00000000000000000000.log")
            texts += ["\(error)", String(reflecting: error), error.localizedDescription]
        }
        do {
            _ = try await target.list(prefix: "manifest/")
            Issue.record("listed through a 403")
        } catch {
            texts += ["\(error)", String(reflecting: error)]
        }
        let authorizations = fake.requests.map(\.authorization)
        await fake.stop()
        #expect(authorizations.count == 2 && authorizations.allSatisfy { $0.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDARGUSTEST/") })
        // Connection refused: the port the fake listened on is closed now.
        do {
            _ = try await target.get(key: "segments/x.log")
            Issue.record("a get to a closed port succeeded")
        } catch {
            #expect(error.kind == .network, "\(error)")
            texts += ["\(error)", String(reflecting: error)]
        }
        #expect(texts.count == 7)
        for text in texts + authorizations + [String(describing: target.configuration.credentials), String(reflecting: target)] {
            #expect(!text.contains(Self.secretAccessKey) && !text.contains("Q2xvdWRTZWNyZXQ0Mg"), "\(text)")
        }
    }
}
