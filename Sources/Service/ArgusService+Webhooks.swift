import Delivery
import Foundation
import EventLog
import HTTPServer
import JSON
import WebhookSigning

/// Webhook management, scoped to the token's organization.
extension ArgusService {
    /// The webhook `id` if the principal may see it; otherwise 404, exactly as for an id that does not exist.
    func visibleWebhook(_ id: String, principal: Principal) throws(APIError) -> Webhook {
        guard let webhook = webhooks.get(id), principal.canAccess(organizationID: webhook.organizationID) else {
            throw APIError.notFound("webhook \(id.prefix(64))")
        }
        return webhook
    }

    func checkTarget(_ url: String) async throws(APIError) {
        do {
            _ = try await configuration.targetGuard.check(url)
        } catch {
            throw APIError(422, error.code, error.message)
        }
    }

    static func validateEventTypes(_ types: [String]) throws(APIError) {
        guard !types.isEmpty else { throw APIError.invalid("event_types must name at least one type or pattern") }
        for type in types {
            guard EventType.isValidFilter(type) else {
                throw APIError(422, "invalid_event_type", "\(type.prefix(64)) is not an event type, category.* or *")
            }
            if !type.hasSuffix("*") && !EventType.isKnown(type) {
                throw APIError(422, "unknown_event_type", "\(type) is not in the catalog (GET /v1/event-types)")
            }
        }
    }

    static func retryPolicy(_ value: JSONValue?, current: RetrySchedule) throws(APIError) -> RetrySchedule {
        guard let value, !value.isNull else { return current }
        var fields = try FieldReader(value, context: "retry")
        var policy = current
        if let count = try fields.integer("max_retries", in: 0...Int64(ServiceLimits.Retries.countMax)) { policy.maxRetries = Int(count) }
        if let initial = try fields.integer("initial_delay_ms", in: ServiceLimits.Retries.delayMsRange) {
            policy.initialDelayMs = initial
        }
        if let maximum = try fields.integer("max_delay_ms", in: ServiceLimits.Retries.delayMsRange) {
            policy.maxDelayMs = maximum
        }
        try fields.rejectUnknown()
        guard policy.maxDelayMs >= policy.initialDelayMs else {
            throw APIError.invalid("retry.max_delay_ms must be at least retry.initial_delay_ms")
        }
        return policy
    }

    /// `POST /v1/webhooks`.
    func createWebhook(_ request: HTTPRequest) async throws -> HTTPResponse {
        let principal = try authenticate(request, scope: Scope.webhooksWrite)
        var fields = try FieldReader(try jsonBody(request))
        let url = try fields.string("url", required: true, sizeBytesMax: TargetGuard.urlSizeBytesMax) ?? ""
        let types = try fields.stringArray("event_types", countMax: ServiceLimits.Webhooks.eventTypeFilterCountMax) ?? []
        let description = try fields.string("description", sizeBytesMax: ServiceLimits.Webhooks.descriptionSizeBytesMax) ?? ""
        let ordered = try fields.bool("ordered") ?? false
        let maxInFlight = try fields.integer("max_in_flight", in: Int64(ServiceLimits.Webhooks.maxInFlight.range.lowerBound)...Int64(ServiceLimits.Webhooks.maxInFlight.range.upperBound))
        let retry = try Self.retryPolicy(fields.any("retry"), current: RetrySchedule())
        let rateLimit = try fields.integer("rate_limit_per_second", in: Int64(ServiceLimits.Webhooks.rateLimitPerSecondRange.lowerBound)...Int64(ServiceLimits.Webhooks.rateLimitPerSecondRange.upperBound))
        let organization = try fields.string("organization_id", sizeBytesMax: ServiceLimits.organizationIDSizeBytesMax) ?? principal.organizationID
        let start = fields.any("start")
        let signatureText = try fields.string("signature", sizeBytesMax: 16) ?? WebhookSecret.Scheme.hmac.rawValue
        try fields.rejectUnknown()
        guard let scheme = WebhookSecret.Scheme(rawValue: signatureText) else {
            throw APIError.invalid("signature must be \"hmac\" (Standard Webhooks v1) or \"ed25519\" (v1a)")
        }
        try Self.validateEventTypes(types)
        if organization == "*" {
            guard principal.isPlatformAdmin else {
                throw APIError(403, "forbidden_organization", "only platform:admin tokens may subscribe across organizations")
            }
        } else if organization != principal.organizationID {
            throw APIError(403, "forbidden_organization", "this token manages webhooks of \(principal.organizationID) only")
        }
        if ordered, let maxInFlight, maxInFlight != 1 {
            throw APIError.invalid("ordered webhooks have exactly one delivery in flight; omit max_in_flight or set it to 1")
        }
        let head = log.nextOffset
        let startOffset: UInt64
        switch start {
        case nil, .null?, .string("now")?: startOffset = head
        case .string("beginning")?: startOffset = 0
        case .number(let text)? where UInt64(text) != nil:
            guard let offset = UInt64(text), offset <= head else { throw APIError.invalid("start offset is beyond the log's head (\(head))") }
            startOffset = offset
        default: throw APIError.invalid("start must be \"now\", \"beginning\" or an offset")
        }
        guard webhooks.list(organizationID: organization, includeGlobal: false).count < ServiceLimits.Webhooks.countPerOrganizationMax else {
            throw APIError(409, "limit_reached", "an organization has at most \(ServiceLimits.Webhooks.countPerOrganizationMax) webhooks")
        }
        try await checkTarget(url)
        let now = configuration.nowMs()
        let webhook = Webhook(
            id: try WebhookStore.makeID(nowMs: now), organizationID: organization, url: url, description: description,
            eventTypes: types, ordered: ordered, maxInFlight: ordered ? 1 : Int(maxInFlight ?? Int64(ServiceLimits.Webhooks.maxInFlight.defaultValue)),
            retry: retry, status: .enabled, statusReason: nil, rateLimitPerSecond: rateLimit.map { Int($0) }, startOffset: startOffset,
            secrets: SecretRing(current: try WebhookSecret.generate(scheme: scheme)), createdAtMs: now, updatedAtMs: now)
        try webhooks.put(webhook)
        return json(201, webhook.json(includeSecret: true))
    }

    /// `GET /v1/webhooks?after=&limit=`.
    func listWebhooks(_ request: HTTPRequest) async throws -> HTTPResponse {
        let principal = try authenticate(request, scope: Scope.webhooksRead)
        let limit = try pageLimit(request)
        let after = request.queryValue("after")
        if let after, after.isEmpty || after.utf8.count > 64 { throw APIError(400, "invalid_query", "after must be a webhook id") }
        let visible = webhooks.list(organizationID: principal.organizationID, includeGlobal: principal.isPlatformAdmin)
            .filter { after == nil || $0.id > after ?? "" }
        let page = Array(visible.prefix(limit))
        let next: JSONValue = visible.count > limit ? .string(page.last?.id ?? "") : .null
        return json(200, .object([("data", .array(page.map { $0.json() })), ("next_after", next)]))
    }

    /// `GET /v1/webhooks/{id}`.
    func getWebhook(_ request: HTTPRequest) async throws -> HTTPResponse {
        let principal = try authenticate(request, scope: Scope.webhooksRead)
        return json(200, try visibleWebhook(request.pathParameters["id"] ?? "", principal: principal).json())
    }

    /// `PATCH /v1/webhooks/{id}`: url, event_types, description, ordered, max_in_flight, retry, rate_limit_per_second, status.
    func updateWebhook(_ request: HTTPRequest) async throws -> HTTPResponse {
        let principal = try authenticate(request, scope: Scope.webhooksWrite)
        let existing = try visibleWebhook(request.pathParameters["id"] ?? "", principal: principal)
        let body = try jsonBody(request)
        if principal.isPortal, body.objectValue?.contains(where: { $0.0 != "status" }) == true {
            throw APIError(403, "portal_forbidden", "a portal session may only change a webhook's status (pause or enable)")
        }
        var fields = try FieldReader(body)
        var updated = existing
        if let url = try fields.string("url", sizeBytesMax: TargetGuard.urlSizeBytesMax) { updated.url = url }
        if let types = try fields.stringArray("event_types", countMax: ServiceLimits.Webhooks.eventTypeFilterCountMax) {
            try Self.validateEventTypes(types)
            updated.eventTypes = types
        }
        if let description = try fields.string("description", sizeBytesMax: ServiceLimits.Webhooks.descriptionSizeBytesMax) {
            updated.description = description
        }
        if let ordered = try fields.bool("ordered") { updated.ordered = ordered }
        if let maxInFlight = try fields.integer("max_in_flight", in: Int64(ServiceLimits.Webhooks.maxInFlight.range.lowerBound)...Int64(ServiceLimits.Webhooks.maxInFlight.range.upperBound)) {
            updated.maxInFlight = Int(maxInFlight)
        }
        updated.retry = try Self.retryPolicy(fields.any("retry"), current: existing.retry)
        if fields.has("rate_limit_per_second") {
            // null removes the limit.
            updated.rateLimitPerSecond = try fields.integer("rate_limit_per_second", in: Int64(ServiceLimits.Webhooks.rateLimitPerSecondRange.lowerBound)...Int64(ServiceLimits.Webhooks.rateLimitPerSecondRange.upperBound)).map { Int($0) }
        }
        if let status = try fields.string("status", sizeBytesMax: 32) {
            guard status == "enabled" || status == "disabled" else { throw APIError.invalid("status must be \"enabled\" or \"disabled\"") }
            updated.status = status == "enabled" ? .enabled : .disabled
            updated.statusReason = status == "enabled" ? nil : "disabled by the API"
        }
        try fields.rejectUnknown()
        if updated.ordered {
            if fields.has("max_in_flight"), updated.maxInFlight != 1 {
                throw APIError.invalid("ordered webhooks have exactly one delivery in flight")
            }
            updated.maxInFlight = 1
        }
        if updated.url != existing.url { try await checkTarget(updated.url) }
        updated.updatedAtMs = configuration.nowMs()
        let stored = try webhooks.update(existing.id) { current in
            let secrets = current.secrets
            current = updated
            current.secrets = secrets
        }
        guard let stored else { throw APIError.notFound("webhook \(existing.id)") }
        return json(200, stored.json())
    }

    /// `DELETE /v1/webhooks/{id}`: 204.
    func deleteWebhook(_ request: HTTPRequest) async throws -> HTTPResponse {
        let principal = try authenticate(request, scope: Scope.webhooksWrite)
        let webhook = try visibleWebhook(request.pathParameters["id"] ?? "", principal: principal)
        guard try webhooks.delete(webhook.id) else { throw APIError.notFound("webhook \(webhook.id)") }
        return HTTPResponse(status: 204)
    }

    /// `POST /v1/webhooks/{id}/rotate-secret`: a new secret; the old one keeps signing for 24 hours.
    func rotateSecret(_ request: HTTPRequest) async throws -> HTTPResponse {
        let principal = try authenticate(request, scope: Scope.webhooksWrite)
        let webhook = try visibleWebhook(request.pathParameters["id"] ?? "", principal: principal)
        let now = configuration.nowMs()
        let nowDate = Date(timeIntervalSince1970: Double(now) / 1000)
        let rotated = try webhooks.update(webhook.id) { current in
            current.secrets = try current.secrets.pruned(now: nowDate).rotated(now: nowDate)
            current.updatedAtMs = now
        }
        guard let rotated else { throw APIError.notFound("webhook \(webhook.id)") }
        return json(200, rotated.json(includeSecret: true))
    }
}
