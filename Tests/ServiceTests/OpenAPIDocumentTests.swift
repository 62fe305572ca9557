import EventLog
import JSON
import Testing
@testable import Service

/// `GET /openapi.json` (Sources/Service/OpenAPIDocument.swift) against the router, the event catalog,
/// the scopes and ServiceLimits. tools/openapi_check.sh checks it against a live server with schemathesis.
@Suite(.timeLimit(.minutes(2))) struct OpenAPIDocumentTests {
    static let routes: [(String, String)] = [
        ("post", "/oauth/token"), ("post", "/oauth/revoke"), ("get", "/healthz"), ("get", "/metrics"), ("get", "/openapi.json"),
        ("get", "/v1/event-types"), ("post", "/v1/events"), ("post", "/v1/events/batch"), ("get", "/v1/events"),
        ("post", "/v1/webhooks"), ("get", "/v1/webhooks"), ("get", "/v1/webhooks/{id}"), ("patch", "/v1/webhooks/{id}"),
        ("delete", "/v1/webhooks/{id}"), ("post", "/v1/webhooks/{id}/rotate-secret"),
        ("get", "/v1/webhooks/{id}/deliveries"), ("post", "/v1/webhooks/{id}/deliveries/{delivery_id}/retry"),
        ("post", "/v1/webhooks/{id}/replay"), ("get", "/v1/webhooks/{id}/stats"), ("get", "/v1/webhooks/{id}/stats/timeseries"), ("post", "/v1/webhooks/{id}/test"),
        ("get", "/v1/clients"), ("post", "/v1/clients"), ("delete", "/v1/clients/{id}"),
        ("post", "/v1/portal/sessions"), ("get", "/v1/portal/session"),
        ("get", "/portal"), ("get", "/portal/app.js"), ("get", "/portal/app.css"), ("get", "/portal/icon.svg"),
        ("get", "/v1/events/{id}/proof"), ("get", "/v1/log/checkpoint"), ("get", "/v1/log/vkey"), ("get", "/v1/log/consistency"),
    ]

    static func document() throws -> JSONValue { try JSONParser.parse(Array(OpenAPIDocument.text.utf8)) }

    static func schema(_ name: String) throws -> JSONValue? { try document()["components"]?["schemas"]?[name] }

    @Test func isServedAndDescribesEveryRouteAndNoOther() async throws {
        let harness = try ServiceHarness()
        defer { harness.close(); harness.removeDirectory() }
        let reply = await harness.send("GET", "/openapi.json")
        #expect(reply.status == 200 && reply.response.headers["content-type"] == "application/json")
        let document = try #require(reply.json)
        #expect(document["openapi"]?.stringValue == "3.1.0")
        let paths = try #require(document["paths"]?.objectValue)
        var documented: [String] = []
        for (path, item) in paths {
            for (method, _) in item.objectValue ?? [] where method != "parameters" { documented.append("\(method) \(path)") }
        }
        #expect(documented.sorted() == Self.routes.map { "\($0.0) \($0.1)" }.sorted())
        // Each documented operation is routed (no token: 2xx for the open routes, 4xx from the handler otherwise).
        for (method, path) in Self.routes {
            let target = path.replacingOccurrences(of: "{id}", with: "wh_000000000000000000000000")
                .replacingOccurrences(of: "{delivery_id}", with: "00000000-0000-4000-8000-000000000000")
            let routed = await harness.send(method.uppercased(), target)
            #expect(routed.status != 404 && routed.status != 405, "\(method) \(path): \(routed.status)")
        }
    }

    @Test func enumsAndBoundsMatchTheServer() throws {
        let document = try Self.document()
        #expect(try Self.schema("EventType")?["enum"]?.arrayValue?.compactMap(\.stringValue) == EventType.catalog)
        let scopes = document["components"]?["securitySchemes"]?["oauth2"]?["flows"]?["clientCredentials"]?["scopes"]?.objectValue
        #expect(scopes?.map(\.0) == Scope.all)
        let limit = document["components"]?["parameters"]?["Limit"]?["schema"]
        #expect(limit?["minimum"]?.int64Value == Int64(ServiceLimits.Pages.size.range.lowerBound))
        #expect(limit?["maximum"]?.int64Value == Int64(ServiceLimits.Pages.size.range.upperBound))
        #expect(limit?["default"]?.int64Value == Int64(ServiceLimits.Pages.size.defaultValue))
        let series = document["paths"]?["/v1/webhooks/{id}/stats/timeseries"]?["get"]?["parameters"]?.arrayValue ?? []
        let hours = series.first { $0["name"]?.stringValue == "hours" }?["schema"]
        #expect(hours?["minimum"]?.int64Value == Int64(ServiceLimits.Series.hours.range.lowerBound))
        #expect(hours?["maximum"]?.int64Value == Int64(ServiceLimits.Series.hours.range.upperBound))
        #expect(hours?["default"]?.int64Value == Int64(ServiceLimits.Series.hours.defaultValue))
        let width = series.first { $0["name"]?.stringValue == "bucket_seconds" }?["schema"]
        #expect(width?["minimum"]?.int64Value == Int64(ServiceLimits.Series.bucketSeconds.range.lowerBound))
        #expect(width?["maximum"]?.int64Value == Int64(ServiceLimits.Series.bucketSeconds.range.upperBound))
        #expect(width?["default"]?.int64Value == Int64(ServiceLimits.Series.bucketSeconds.defaultValue))
        #expect(try Self.schema("WebhookTimeseries")?["properties"]?["buckets"]?["maxItems"]?.int64Value == Int64(ServiceLimits.Series.bucketCountMax))
        #expect(try Self.schema("BatchRequest")?["properties"]?["events"]?["maxItems"]?.int64Value == Int64(ServiceLimits.Events.batchCountMax))
        let create = try #require(try Self.schema("WebhookCreate")?["properties"])
        #expect(create["max_in_flight"]?["minimum"]?.int64Value == Int64(ServiceLimits.Webhooks.maxInFlight.range.lowerBound))
        #expect(create["max_in_flight"]?["maximum"]?.int64Value == Int64(ServiceLimits.Webhooks.maxInFlight.range.upperBound))
        #expect(create["description"]?["maxLength"]?.int64Value == Int64(ServiceLimits.Webhooks.descriptionSizeBytesMax))
        #expect(create["rate_limit_per_second"]?["minimum"]?.int64Value == Int64(ServiceLimits.Webhooks.rateLimitPerSecondRange.lowerBound))
        #expect(create["rate_limit_per_second"]?["maximum"]?.int64Value == Int64(ServiceLimits.Webhooks.rateLimitPerSecondRange.upperBound))
        #expect(create["event_types"]?["maxItems"]?.int64Value == Int64(ServiceLimits.Webhooks.eventTypeFilterCountMax))
        let retry = try #require(try Self.schema("RetryPolicy")?["properties"])
        #expect(retry["max_retries"]?["maximum"]?.int64Value == Int64(ServiceLimits.Retries.countMax))
        for name in ["initial_delay_ms", "max_delay_ms"] {
            #expect(retry[name]?["minimum"]?.int64Value == ServiceLimits.Retries.delayMsRange.lowerBound)
            #expect(retry[name]?["maximum"]?.int64Value == ServiceLimits.Retries.delayMsRange.upperBound)
        }
    }
}
