import Delivery
import EventLog
import HTTPServer
import JSON

/// Delivery history, retry, replay, statistics and test sends.
extension ArgusService {
    /// `GET /v1/webhooks/{id}/deliveries?status=&after=&limit=`: newest first.
    func listDeliveries(_ request: HTTPRequest, webhook: Webhook) async throws -> HTTPResponse {
        let limit = try pageLimit(request)
        var status: DeliveryRecord.Status?
        if let text = request.queryValue("status") {
            guard let parsed = DeliveryRecord.Status(rawValue: text) else {
                throw APIError(400, "invalid_query", "status must be pending, succeeded or failed")
            }
            status = parsed
        }
        let after = request.queryValue("after")
        if let after, after.isEmpty || after.utf8.count > 64 { throw APIError(400, "invalid_query", "after must be a delivery id") }
        let (history, webhookID, wanted) = (dispatcher.history, webhook.id, status)
        // Reads the webhook's journal (and may wait for the history's writer): on the blocking-I/O queue.
        let (records, listedMore) = await BlockingIO.run { history.list(webhookID: webhookID, status: wanted, after: after, limit: limit) }
        let page = Self.prefixWithinPageBytes(records.map(\.json))
        let more = listedMore || page.count < records.count
        let next: JSONValue = more && !page.isEmpty ? .string(records[page.count - 1].deliveryID) : .null
        return json(200, .object([("data", .array(page)), ("next_after", next)]))
    }

    /// The longest prefix of `values` whose JSON stays within `ServiceLimits.Pages.sizeBytesMax` (at least one).
    static func prefixWithinPageBytes(_ values: [JSONValue]) -> [JSONValue] {
        var bytes = 0
        for (index, value) in values.enumerated() {
            bytes += value.encoded().count + 1
            if index > 0, bytes > ServiceLimits.Pages.sizeBytesMax { return Array(values[..<index]) }
        }
        return values
    }

    /// `POST /v1/webhooks/{id}/deliveries/{delivery_id}/retry`: 202; the webhook's lane runs a new attempt series
    /// with the webhook's URL and secrets at attempt time.
    /// - Throws: 404; 409 `not_retryable` (succeeded), `retry_in_progress`, `webhook_not_enabled`; 410 `event_unavailable`.
    func retryDelivery(_ request: HTTPRequest, webhook: Webhook) async throws -> HTTPResponse {
        let deliveryID = request.pathParameters["delivery_id"] ?? ""
        switch await dispatcher.retryDelivery(deliveryID, webhookID: webhook.id) {
        case .accepted:
            return json(202, .object([("delivery_id", .string(deliveryID)), ("id", .string(deliveryID)), ("status", .string("pending"))]))
        case .notFound: throw APIError.notFound("delivery \(deliveryID.prefix(64))")
        case .notRetryable(let status):
            throw APIError(409, "not_retryable", "only failed deliveries can be retried; this one is \(status.rawValue)")
        case .inProgress: throw APIError(409, "retry_in_progress", "an attempt series of this delivery is under way")
        case .notEnabled: throw APIError(409, "webhook_not_enabled", "the webhook is \(webhook.status.rawValue); enable it first")
        case .eventUnavailable: throw APIError(410, "event_unavailable", "the event can no longer be read (retention removed it)")
        case .stopped: throw APIError(503, "delivery_stopped", "delivery is not running on this server")
        case .readFailed(let failure): throw APIError(failure)
        }
    }

    /// `POST /v1/webhooks/{id}/replay` with `{"from_offset":N}` or `{"since":"RFC3339"}`: 202 with the
    /// range it delivers again, `from_offset` up to (not including) `until_offset`, the head at the time;
    /// later events follow as usual. The first offset is read before answering: 410 `events_unavailable`
    /// when no store holds it, 503 `archive_unavailable` when the archive holding it cannot be read now.
    func replay(_ request: HTTPRequest) async throws -> HTTPResponse {
        let principal = try authenticate(request, scope: Scope.webhooksWrite)
        let webhook = try visibleWebhook(request.pathParameters["id"] ?? "", principal: principal)
        var fields = try FieldReader(try jsonBody(request))
        let fromOffset = try fields.integer("from_offset", in: 0...Int64.max)
        let since = try fields.string("since", sizeBytesMax: 64)
        try fields.rejectUnknown()
        let head = log.nextOffset
        let offset: UInt64
        switch (fromOffset, since) {
        case (let value?, nil):
            guard UInt64(value) <= head else { throw APIError.invalid("from_offset is beyond the log's head (\(head))") }
            offset = UInt64(value)
        case (nil, let text?):
            guard let ms = Timestamp.parse(text) else { throw APIError.invalid("since must be an RFC 3339 time") }
            let found = try await source.firstOffset(atOrAfterTimeMs: ms)
            offset = min(found, head)
        default:
            throw APIError.invalid("give exactly one of from_offset and since")
        }
        if offset < head { _ = try await source.read(from: offset, countMax: 1) }
        try await dispatcher.replay(webhook.id, from: offset)
        return json(202, .object([("webhook_id", .string(webhook.id)), ("from_offset", .integer(offset)), ("until_offset", .integer(head)),
                                  ("event_count", .integer(head - offset))]))
    }

    /// `GET /v1/webhooks/{id}/stats`: one flat object.
    func stats(_ request: HTTPRequest, webhook: Webhook) async throws -> HTTPResponse {
        let counters = dispatcher.history.statistics(webhookID: webhook.id)
        let progress = dispatcher.progress(webhook.id)
        let head = log.nextOffset
        let cursor = progress?.cursor ?? cursors.offset(of: webhook.id) ?? webhook.startOffset
        let settled = counters.succeeded + counters.failed
        func time(_ ms: Int64?) -> JSONValue { ms.map { .string(Timestamp.format(ms: $0)) } ?? .null }
        return json(200, .object([
            ("webhook_id", .string(webhook.id)), ("status", .string(webhook.status.rawValue)),
            ("attempts", .integer(counters.attempts)), ("succeeded", .integer(counters.succeeded)), ("failed", .integer(counters.failed)),
            ("success_rate", settled == 0 ? .null : .number(String(format: "%.4f", Double(counters.succeeded) / Double(settled)))),
            ("consecutive_failures", .integer(counters.consecutiveFailures)),
            ("cursor", .integer(cursor)), ("head", .integer(head)), ("lag", .integer(head > cursor ? head - cursor : 0)),
            ("in_flight", .integer(progress?.inFlight ?? 0)), ("unresolved", .integer(progress?.unresolved ?? 0)),
            ("status_reason", progress?.readProblem.map { JSONValue.string($0.code) } ?? JSONValue.null),
            ("status_message", (progress?.readProblem?.description ?? webhook.statusReason).map { JSONValue.string($0) } ?? JSONValue.null),
            ("last_attempt_at", time(counters.lastAttemptAtMs)), ("last_success_at", time(counters.lastSuccessAtMs)),
            ("last_failure_at", time(counters.lastFailureAtMs)),
        ]))
    }

    /// `POST /v1/webhooks/{id}/test`: publishes a `webhook.test` event that only this webhook receives.
    func sendTest(_ request: HTTPRequest) async throws -> HTTPResponse {
        let principal = try authenticate(request, scope: Scope.webhooksWrite)
        let webhook = try visibleWebhook(request.pathParameters["id"] ?? "", principal: principal)
        let organization = webhook.organizationID == "*" ? principal.organizationID : webhook.organizationID
        let event = NewEvent(organizationID: organization, type: "webhook.test", eventID: try EventID.make(timestampMs: configuration.nowMs()),
                             data: JSONValue.object([(Subscription.routingField, .string(webhook.id)), ("message", .string("test event from Argus"))]).encoded())
        let appended = try await appendToLog([event])[0]
        return json(202, Self.appendedJSON(appended))
    }
}
