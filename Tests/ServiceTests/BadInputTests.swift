import Testing
@testable import Service

@Suite(.timeLimit(.minutes(2))) struct BadInputTests {
    @Test func eachBadRequestIsAClearErrorAndChangesNothing() async throws {
        let harness = try ServiceHarness()
        defer { harness.close(); harness.removeDirectory() }
        let token = try await harness.token(organization: "org_a")
        let offset = harness.service.log.nextOffset
        let cases: [(String, String, String?, String, Int, String)] = [
            ("POST", "/v1/events", #"{"type":"user.created""#, "application/json", 400, "invalid_json"),
            ("POST", "/v1/events", #"{"type":"user.created"}"#, "text/plain", 415, "unsupported_media_type"),
            ("POST", "/v1/events", #"{"type":"user.exploded","data":{}}"#, "application/json", 422, "unknown_event_type"),
            ("POST", "/v1/events", #"{"type":"User Created","data":{}}"#, "application/json", 422, "invalid_event_type"),
            ("POST", "/v1/events", #"{"type":"user.created","data":[1]}"#, "application/json", 422, "validation_failed"),
            ("POST", "/v1/events", #"{"type":"user.created","data":"text"}"#, "application/json", 422, "validation_failed"),
            ("POST", "/v1/events", #"{"type":"user.created","data":{"a":1},"data":{"a":1}}"#, "application/json", 400, "invalid_json"),
            ("POST", "/v1/events", #"{"type":"user.created","data":{"a":1,"a":2}}"#, "application/json", 400, "invalid_json"),
            // A repeated name never reaches a FieldReader, at any level it reads (so it keeps no duplicate logic).
            ("POST", "/v1/events", #"{"type":"user.created","type":"user.deleted","data":{}}"#, "application/json", 400, "invalid_json"),
            ("POST", "/v1/events/batch", #"{"events":[{"type":"user.created","data":{},"data":{}}]}"#, "application/json", 400, "invalid_json"),
            ("POST", "/v1/events/batch", #"{"events":[],"events":[{"type":"user.created","data":{}}]}"#, "application/json", 400, "invalid_json"),
            ("POST", "/v1/webhooks", #"{"url":"https://93.184.216.34/","url":"https://93.184.216.34/","event_types":["*"]}"#, "application/json", 400, "invalid_json"),
            ("POST", "/v1/webhooks", #"{"url":"https://93.184.216.34/","event_types":["*"],"retry":{"max_retries":1,"max_retries":2}}"#, "application/json", 400, "invalid_json"),
            ("POST", "/v1/events", #"{"type":"user.created","data":{},"extra":1}"#, "application/json", 422, "unknown_field"),
            ("POST", "/v1/events", #"[]"#, "application/json", 422, "validation_failed"),
            ("POST", "/v1/events/batch", #"{"events":[{"type":"user.created"},{"type":"nope.nope"}]}"#, "application/json", 422, "unknown_event_type"),
            ("POST", "/v1/events/batch", #"{"events":[]}"#, "application/json", 422, "validation_failed"),
            ("POST", "/v1/webhooks", #"{"url":"http://93.184.216.34/","event_types":["*"]}"#, "application/json", 422, "invalid_url"),
            ("POST", "/v1/webhooks", #"{"url":"https://127.0.0.1/","event_types":["*"]}"#, "application/json", 422, "forbidden_target"),
            ("POST", "/v1/webhooks", #"{"url":"https://[::ffff:10.0.0.1]/","event_types":["*"]}"#, "application/json", 422, "forbidden_target"),
            ("POST", "/v1/webhooks", #"{"url":"https://no-such-host.invalid/","event_types":["*"]}"#, "application/json", 422, "unresolvable_host"),
            ("POST", "/v1/webhooks", #"{"url":"not a url","event_types":["*"]}"#, "application/json", 422, "invalid_url"),
            ("POST", "/v1/webhooks", #"{"url":"https://93.184.216.34/","event_types":["user.nope"]}"#, "application/json", 422, "unknown_event_type"),
            ("POST", "/v1/webhooks", #"{"url":"https://93.184.216.34/","event_types":[]}"#, "application/json", 422, "validation_failed"),
            ("POST", "/v1/webhooks", #"{"url":"https://93.184.216.34/","event_types":["*"],"retry":{"max_retries":11}}"#, "application/json", 422, "validation_failed"),
            ("POST", "/v1/webhooks", #"{"url":"https://93.184.216.34/","event_types":["*"],"retry":{"initial_delay_ms":5}}"#, "application/json", 422, "validation_failed"),
            ("POST", "/v1/webhooks", #"{"url":"https://93.184.216.34/","event_types":["*"],"ordered":true,"max_in_flight":4}"#, "application/json", 422, "validation_failed"),
            ("POST", "/v1/webhooks", #"{"url":"https://93.184.216.34/","event_types":["*"],"start":"yesterday"}"#, "application/json", 422, "validation_failed"),
            ("POST", "/v1/webhooks", #"{"url":"https://93.184.216.34/","event_types":["*"],"start":999999}"#, "application/json", 422, "validation_failed"),
            ("GET", "/v1/webhooks?limit=0", nil, "application/json", 400, "invalid_query"),
            ("GET", "/v1/webhooks?limit=abc", nil, "application/json", 400, "invalid_query"),
            ("GET", "/v1/events?limit=1001", nil, "application/json", 400, "invalid_query"),
            ("GET", "/v1/events?after=-1", nil, "application/json", 400, "invalid_query"),
            ("GET", "/v1/events?after=18446744073709551615", nil, "application/json", 400, "invalid_query"),
            ("GET", "/v1/events?after=9223372036854775807", nil, "application/json", 400, "invalid_query"),
            ("GET", "/v1/events?after=99999999999999999999999", nil, "application/json", 400, "invalid_query"),
            ("GET", "/v1/events?type=bad*", nil, "application/json", 400, "invalid_query"),
            ("GET", "/v1/events?organization_id=", nil, "application/json", 400, "invalid_query"),
            ("GET", "/v1/events?organization_id=org%20a", nil, "application/json", 400, "invalid_query"),
            ("POST", "/v1/events", #"{"type":"user.created","data":{}}"#, "application/json", 400, "invalid_idempotency_key"),
        ]
        for (method, target, body, contentType, status, code) in cases {
            let headers = code == "invalid_idempotency_key" ? [("Idempotency-Key", "has space")] : []
            let reply = await harness.send(method, target, token: token, body: body, contentType: contentType, headers: headers)
            #expect(reply.status == status && reply.code == code, "\(method) \(target) \(body ?? ""): got \(reply.status) \(reply.code ?? "-")")
            #expect(reply.json?["error"]?["message"]?.stringValue?.isEmpty == false)
        }
        #expect(harness.service.log.nextOffset == offset, "no event was appended")
        #expect(harness.service.webhooks.all().isEmpty, "no webhook was created")
        // Still serving.
        #expect(await harness.send("POST", "/v1/events", token: token, body: #"{"type":"user.created","data":{}}"#).status == 201)
    }

    @Test func oversizedDataIsRefused() async throws {
        let harness = try ServiceHarness()
        defer { harness.close(); harness.removeDirectory() }
        let token = try await harness.token(organization: "org_a")
        let big = String(repeating: "x", count: 256 * 1024)
        let reply = await harness.send("POST", "/v1/events", token: token, body: #"{"type":"user.created","data":{"x":"\#(big)"}}"#)
        #expect(reply.status == 413 && reply.code == "data_too_large")
    }

    /// Stored `data` is compact JSON whether it arrived compact (kept as received) or spelled
    /// otherwise (parsed and encoded again): both give the same bytes in the log.
    @Test func storedDataIsCompactWhateverItsSpelling() async throws {
        let harness = try ServiceHarness()
        defer { harness.close(); harness.removeDirectory() }
        let token = try await harness.token(organization: "org_a")
        let start = harness.service.log.nextOffset
        let bodies: [(String, String)] = [
            (#"{"type":"user.created","data":{"a":"x\/y","b":[1, 2],"c":"\u0041\n"}}"#, #"{"a":"x/y","b":[1,2],"c":"A\n"}"#),
            (#"{"type":"user.created","data":{"a":"x/y","b":[1,2],"c":"A\n"}}"#, #"{"a":"x/y","b":[1,2],"c":"A\n"}"#),
            (#"{"type":"user.created","data":null}"#, "{}"),
            (#"{"type":"user.created"}"#, "{}"),
            (#"{"data":{"é":"✓ \u0007"},"type":"user.created"}"#, #"{"é":"✓ \u0007"}"#),
        ]
        for (body, _) in bodies {
            let reply = await harness.send("POST", "/v1/events", token: token, body: body)
            #expect(reply.status == 201, "\(body): \(reply.status)")
        }
        var reader = try harness.service.log.makeReader(from: .offset(start))
        for (body, stored) in bodies {
            let record = try #require(try reader.next())
            #expect(String(decoding: record.data, as: UTF8.self) == stored, "\(body)")
        }
    }
}
