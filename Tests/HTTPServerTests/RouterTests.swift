import ArgusTestSupport
import Foundation
import Testing
@testable import HTTPServer

/// Routing by method and pattern, path parameters, 404 and 405.
@Suite struct RouterTests {
    static func router() -> Router {
        var router = Router()
        router.add("GET", "/v1/webhooks") { _ in .text(200, "list") }
        router.add("POST", "/v1/webhooks") { _ in .text(201, "create") }
        router.add("GET", "/v1/webhooks/{id}") { request in .text(200, "get \(request.pathParameters["id"] ?? "-")") }
        router.add("DELETE", "/v1/webhooks/{id}") { _ in .text(204, "") }
        router.add("POST", "/v1/webhooks/{id}/deliveries/{delivery_id}/retry") { request in
            .text(200, "retry \(request.pathParameters["id"] ?? "-") \(request.pathParameters["delivery_id"] ?? "-")")
        }
        router.add("GET", "/v1/webhooks/special") { _ in .text(200, "special") }
        router.add("GET", "/") { _ in .text(200, "root") }
        return router
    }

    static func call(_ method: String, _ target: String) async -> HTTPResponse {
        await router().handle(HTTPRequest(method: method, target: target))
    }

    static func text(_ response: HTTPResponse) -> String { String(decoding: response.body, as: UTF8.self) }

    static func errorCode(_ response: HTTPResponse) -> String? {
        let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: [String: String]]
        return object?["error"]?["code"]
    }

    @Test func matchesLiteralsAndParameters() async {
        #expect(Self.text(await Self.call("GET", "/v1/webhooks")) == "list")
        #expect(Self.text(await Self.call("POST", "/v1/webhooks")) == "create")
        #expect(Self.text(await Self.call("GET", "/v1/webhooks/wh_1?x=y")) == "get wh_1")
        #expect(Self.text(await Self.call("POST", "/v1/webhooks/wh_9/deliveries/d-42/retry")) == "retry wh_9 d-42")
        #expect(Self.text(await Self.call("GET", "/")) == "root")
    }

    @Test func percentEncodedLiteralsStillMatch() async {
        #expect(Self.text(await Self.call("GET", "/v1/web%68ooks")) == "list")
        #expect(Self.text(await Self.call("GET", "/v1/webhooks/sp%65cial")) == "special")
    }

    /// `start` lets a route's inline handler take a request (answered through `respond`, with no
    /// task) and falls back to the task handler when the inline one declines.
    @Test func inlineHandlersTakeOrLeaveRequests() async {
        var router = Router()
        router.add("POST", "/v1/events", continueCheck: nil, inline: { request, respond in
            guard request.headers["x-decline"] == nil else { return false }
            respond(.text(201, "inline \(request.pathParameters.count)"))
            return true
        }) { _ in .text(201, "task") }
        router.add("GET", "/v1/events/{id}", continueCheck: nil, inline: { request, respond in
            respond(.text(200, "inline \(request.pathParameters["id"] ?? "-")"))
            return true
        }) { _ in .text(200, "task") }
        let tasks = RequestTasks()
        func start(_ request: HTTPRequest) async -> HTTPResponse {
            await withCheckedContinuation { continuation in router.start(request, in: tasks) { continuation.resume(returning: $0) } }
        }
        #expect(Self.text(await start(HTTPRequest(method: "POST", target: "/v1/events"))) == "inline 0")
        #expect(Self.text(await start(HTTPRequest(method: "GET", target: "/v1/events/e%201"))) == "inline e 1")
        #expect(Self.text(await start(HTTPRequest(method: "POST", target: "/v1/events", headers: HTTPHeaders([("X-Decline", "1")])))) == "task")
        #expect(await start(HTTPRequest(method: "GET", target: "/v1/nope")).status == 404)
        #expect(await start(HTTPRequest(method: "PUT", target: "/v1/events")).status == 405)
        // `handle` (no inline step) still answers through the task handler.
        #expect(Self.text(await router.handle(HTTPRequest(method: "POST", target: "/v1/events"))) == "task")
        await tasks.shutdown()
    }

    @Test func literalRoutesWinOverParameters() async {
        #expect(Self.text(await Self.call("GET", "/v1/webhooks/special")) == "special")
    }

    @Test func decodesParametersAfterSplitting() async {
        #expect(Self.text(await Self.call("GET", "/v1/webhooks/a%2Fb%20c")) == "get a/b c")
    }

    @Test func unknownPathsAre404() async {
        for target in ["/nope", "/v1/webhooks/", "/v1/webhooks//deliveries/x/retry", "/v1/webhooks/a/b", "/v1"] {
            let response = await Self.call("GET", target)
            #expect(response.status == 404, "\(target)")
            #expect(Self.errorCode(response) == "not_found", "\(target)")
            #expect(response.headers["content-type"] == "application/json")
        }
    }

    @Test func knownPathsWithAnotherMethodAre405WithAllow() async {
        let response = await Self.call("PUT", "/v1/webhooks/wh_1")
        #expect(response.status == 405)
        #expect(Self.errorCode(response) == "method_not_allowed")
        #expect(response.headers["Allow"] == "GET, DELETE, HEAD")
        let retry = await Self.call("GET", "/v1/webhooks/x/deliveries/y/retry")
        #expect(retry.status == 405)
        #expect(retry.headers["allow"] == "POST")
    }

    @Test func headFallsBackToGet() async {
        #expect(Self.text(await Self.call("HEAD", "/v1/webhooks/wh_2")) == "get wh_2")
    }
}

/// Headers, responses, request ids and small helpers.
@Suite struct HTTPValueTests {
    @Test func headersAreOrderedAndCaseInsensitive() {
        var headers: HTTPHeaders = ["Content-Type": "text/plain", "X-A": "1"]
        headers.add("x-a", "2")
        #expect(headers["content-type"] == "text/plain")
        #expect(headers["X-a"] == "1")
        #expect(headers.values(for: "X-A") == ["1", "2"])
        #expect(headers["missing"] == nil)
        headers.replace("X-A", "3")
        #expect(headers.values(for: "x-a") == ["3"])
        #expect(headers.map(\.name) == ["Content-Type", "X-A"])
        headers.replace("New", "n")
        #expect(headers.count == 3)
        headers.remove("content-TYPE")
        #expect(!headers.contains("Content-Type"))
        #expect(HTTPHeaders([("A", "1")]).contains("a"))
    }

    /// The one case-insensitive comparison (field names in `HTTPHeaders`, names and tokens in the parser and
    /// the encoder): only A-Z fold; bytes 0x20 apart that are not letters stay different.
    @Test func asciiCaseFoldsLettersOnly() {
        #expect(ASCII.equalIgnoringCase("Content-Length", "content-LENGTH"))
        #expect(ASCII.equalIgnoringCase(Substring("xTransfer-Encoding").dropFirst(), "transfer-encoding"))
        #expect(!ASCII.equalIgnoringCase("content-length", "content-lengths"))
        #expect(!ASCII.equalIgnoringCase("a[", "A{"), "[ and { differ by 0x20 but are not letters")
        #expect(!ASCII.equalIgnoringCase("@", "`"))
        #expect(!ASCII.equalIgnoringCase("\u{C9}", "\u{E9}"), "only ASCII folds")
        #expect(ASCII.equalIgnoringCase("", ""))
    }

    @Test func errorResponsesAreEscapedJSON() throws {
        let response = HTTPResponse.error(422, code: "invalid", message: "bad \"quote\" \\ and\nnewline \u{1}")
        #expect(response.status == 422)
        #expect(response.headers["Content-Type"] == "application/json")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: [String: String]])
        #expect(object["error"]?["code"] == "invalid")
        #expect(object["error"]?["message"] == "bad \"quote\" \\ and\nnewline \u{1}")
    }

    @Test func requestInitDerivesPathAndQuery() {
        let request = HTTPRequest(method: "GET", target: "/a%20b?x=1&y=%zz&x=2")
        #expect(request.path == "/a b")
        #expect(request.queryValue("x") == "1")
        #expect(request.queryValues("x") == ["1", "2"])
        #expect(request.queryValue("y") == "%zz")
        #expect(request.queryValue("z") == nil)
    }

    @Test func requestIDsAreKeptWhenSafeAndGeneratedOtherwise() {
        var generator = RequestIDGenerator()
        #expect(generator.requestID(incoming: "abc-123_x.y:z") == "abc-123_x.y:z")
        let replaced = generator.requestID(incoming: "has space")
        #expect(replaced != "has space")
        #expect(generator.requestID(incoming: String(repeating: "a", count: 129)).count == 36)
        let pattern = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
        var seen = Set<String>()
        for _ in 0..<1000 {
            let id = generator.makeUUID()
            #expect(id.wholeMatch(of: pattern) != nil, "\(id)")
            seen.insert(id)
        }
        #expect(seen.count == 1000)
    }

    @Test func dateHeaderIsIMFFixdate() {
        var date = HTTPDate()
        #expect(date.headerValue(seconds: 784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
    }

    /// Against Foundation's formatter as an independent oracle: the second before and at each instant around
    /// leap days (2000 and 2024 are leap years, 1900 and 2100 are not) and year boundaries, and random
    /// instants of the Gregorian years 1600 to 9999 (drawn from a seed the failure messages name;
    /// `ARGUS_TEST_SEED=<seed>` reruns them).
    @Test func dateHeaderMatchesFoundationAcrossLeapDaysAndYearBoundaries() throws {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.calendar = Calendar(identifier: .gregorian)
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let midnights: [Int] = [
            0, 946_684_800, 951_782_400, 951_868_800,  // 1970-01-01, 2000-01-01, 2000-02-29, 2000-03-01
            1_709_164_800, 1_709_251_200, 1_735_689_600,  // 2024-02-29, 2024-03-01, 2025-01-01
            -2_203_891_200, -2_208_988_800,  // 1900-03-01 (after 1900-02-28), 1900-01-01
            4_107_542_400, 4_102_444_800,  // 2100-03-01 (after 2100-02-28), 2100-01-01
            -11_676_096_000, 253_402_214_400,  // 1600-01-01, 9999-12-31
        ]
        var instants = midnights.flatMap { [$0 - 86_400, $0 - 1, $0, $0 + 1, $0 + 43_200] }
        var generator = try SeededGenerator.varying()
        instants += (0..<2_000).map { _ in Int.random(in: -11_676_096_000...253_402_300_799, using: &generator) }
        for seconds in instants {
            var date = HTTPDate()
            #expect(date.headerValue(seconds: seconds) == formatter.string(from: Date(timeIntervalSince1970: Double(seconds))),
                    "\(seconds) (seed \(generator.seed))")
        }
    }

    @Test func byteQueueCompactsAndGrows() {
        var queue = ByteQueue()
        queue.append(Array(repeating: 1, count: 5000))
        queue.consume(4000)
        queue.reserveTail(10_000)
        _ = queue.fillTail { tail in
            for index in 0..<3 { tail[index] = 2 }
            return 3
        }
        #expect(queue.count == 1003)
        let bytes = queue.withUnconsumedBytes { Array($0) }
        #expect(bytes.prefix(1000).allSatisfy { $0 == 1 })
        #expect(bytes.suffix(3) == [2, 2, 2])
        queue.consume(1003)
        #expect(queue.isEmpty)
    }
}
