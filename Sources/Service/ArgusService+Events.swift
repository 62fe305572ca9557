import Crypto
import EventLog
import Foundation
import HTTPServer
import JSON
import SystemIO

/// Publishing and reading events.
extension ArgusService {
    /// `GET /v1/event-types`.
    func eventTypes(_ request: HTTPRequest) async throws -> HTTPResponse {
        _ = try authenticate(request, scope: Scope.eventsRead)
        return json(200, .object([("data", .array(EventType.catalog.map { type in
            .object([("type", .string(type)), ("category", .string(String(type.split(separator: ".")[0])))])
        })), ("next_after", .null)]))
    }

    /// Validates one `{"type","organization_id","data"}` object into an event for the log.
    /// `rawData`: the `data` member's bytes when the parser kept them (already canonical JSON,
    /// see `JSONParser.parse(_:keepingCanonical:)`); they are stored as they are.
    func newEvent(from value: JSONValue, principal: Principal, context: String, rawData: ArraySlice<UInt8>? = nil) throws -> NewEvent {
        var fields = try FieldReader(value, context: context)
        let type = try fields.string("type", required: true, sizeBytesMax: 128) ?? ""
        try EventRules.checkType(type, context: context)
        if let category = Self.reservedCategories.first(where: { type.hasPrefix($0 + ".") }) {
            throw APIError(422, "reserved_event_type", "\(context): \(category).* events are published by the service only")
        }
        let organization = try fields.string("organization_id", sizeBytesMax: ServiceLimits.organizationIDSizeBytesMax)
            ?? principal.organizationID
        try EventRules.checkOrganization(organization, context: context)
        guard principal.canUseEvents(of: organization) else {
            throw APIError(403, "forbidden_organization", "\(context): this token may publish only for \(principal.organizationID)")
        }
        let bytes: [UInt8]
        if let rawData, !rawData.elementsEqual("null".utf8) {  // null: absent, as FieldReader reads it
            guard rawData.first == UInt8(ascii: "{") else { throw APIError.invalid("\(context): data must be a JSON object") }
            try fields.rejectUnknown()
            bytes = Array(rawData)
        } else {
            let data = fields.any("data") ?? .object([])
            try EventRules.checkIsObject(data, context: context)
            try fields.rejectUnknown()
            bytes = data.encoded()
        }
        try EventRules.checkDataSize(bytes.count, context: context)
        return NewEvent(organizationID: organization, type: type, eventID: try EventID.make(timestampMs: configuration.nowMs()), data: bytes)
    }

    /// Event categories only the service publishes (its OAuth server, webhooks and deliveries), so
    /// no tenant can forge an audit or operational event.
    static let reservedCategories = ["oauth", "webhook", "delivery"]

    static func appendedJSON(_ appended: AppendedEvent) -> JSONValue {
        .object([("id", .string(appended.eventID)), ("offset", .integer(appended.offset)),
                 ("timestamp", .string(Timestamp.format(ms: appended.timestampMs)))])
    }

    /// `publish --data-dir`'s line for an appended event: the API's 201 answer (`id`, `offset`, `timestamp`).
    package static func appendedLine(_ appended: AppendedEvent) -> String {
        appendedJSON(appended).text
    }

    /// `POST /v1/events`: 201 once durable. With `Idempotency-Key`, a retry returns the first result.
    func publish(_ request: HTTPRequest) async throws -> HTTPResponse {
        let principal = try authenticate(request, scope: Scope.eventsPublish)
        let body = try jsonBody(request)
        guard let key = request.headers["idempotency-key"] else {
            return try await appendOne(body, principal: principal)
        }
        guard !key.isEmpty, key.utf8.count <= ServiceLimits.Idempotency.keySizeBytesMax, key.unicodeScalars.allSatisfy({ $0.value >= 0x21 && $0.value < 0x7F }) else {
            throw APIError(400, "invalid_idempotency_key", "Idempotency-Key must be 1 to 255 visible ASCII characters")
        }
        let cacheKey = IdempotencyCache.key(organizationID: principal.organizationID, key: key)
        let digest = SHA256.hash(body.encoded())
        switch idempotency.claim(cacheKey, requestDigest: digest, nowMs: configuration.nowMs()) {
        case .replay(let status, let stored):
            var response = HTTPResponse.json(status, stored)
            response.headers.add("Idempotent-Replayed", "true")
            return response
        case .inProgress:
            throw APIError(409, "idempotency_in_progress", "a request with this Idempotency-Key is still being processed")
        case .mismatch:
            throw APIError(422, "idempotency_key_reused", "this Idempotency-Key was used with a different request")
        case .claimed:
            if let engineIdempotency {
                return try await publishClaimingSharedKey(body, principal: principal, cacheKey: cacheKey, digest: digest, shared: engineIdempotency)
            }
            do {
                let response = try await appendOne(body, principal: principal)
                idempotency.finish(cacheKey, requestDigest: digest, status: response.status, body: response.body, nowMs: configuration.nowMs())
                return response
            } catch {
                idempotency.abandon(cacheKey)
                throw error
            }
        }
    }

    /// `serve --engine`: after the local claim, claims the key in the engine (any process may have seen
    /// it), appends, and records the result in both; the local claim is given up on every other path.
    private func publishClaimingSharedKey(_ body: JSONValue, principal: Principal, cacheKey: String, digest: [UInt8],
                                          shared: EngineIdempotency) async throws -> HTTPResponse {
        let decision: EngineIdempotency.Decision
        do {
            decision = try await shared.claim(cacheKey, requestDigest: digest, nowMs: configuration.nowMs())
        } catch {
            idempotency.abandon(cacheKey)
            configuration.logger.error("could not claim an idempotency key in the engine", [("error", .string(String(describing: error)))])
            throw APIError(503, "engine_unavailable", "the engine did not answer; retry with the same Idempotency-Key", headers: [("Retry-After", "1")])
        }
        switch decision {
        case .replay(let status, let stored):
            idempotency.finish(cacheKey, requestDigest: digest, status: status, body: stored, nowMs: configuration.nowMs())
            var response = HTTPResponse.json(status, stored)
            response.headers.add("Idempotent-Replayed", "true")
            return response
        case .inProgress:
            idempotency.abandon(cacheKey)
            throw APIError(409, "idempotency_in_progress", "a request with this Idempotency-Key is still being processed")
        case .mismatch:
            idempotency.abandon(cacheKey)
            throw APIError(422, "idempotency_key_reused", "this Idempotency-Key was used with a different request")
        case .claim(let revision):
            let response: HTTPResponse
            do {
                response = try await appendOne(body, principal: principal)
            } catch {
                await shared.abandon(cacheKey, revision: revision)
                idempotency.abandon(cacheKey)
                throw error
            }
            idempotency.finish(cacheKey, requestDigest: digest, status: response.status, body: response.body, nowMs: configuration.nowMs())
            do {
                try await shared.finish(cacheKey, revision: revision, requestDigest: digest, status: response.status, body: response.body,
                                        nowMs: configuration.nowMs())
            } catch {
                // The event is stored: answered as such. A retry elsewhere sees the claim (409) until it is stale, then may append again.
                configuration.logger.error("could not record an idempotency key's result in the engine", [("error", .string(String(describing: error)))])
            }
            return response
        }
    }

    private func appendOne(_ body: JSONValue, principal: Principal) async throws -> HTTPResponse {
        let event = try newEvent(from: body, principal: principal, context: "body")
        let appended = try await appendToLog([event])
        return Self.appendedResponse(appended[0])
    }

    /// The inline form of `POST /v1/events`, run on the server's I/O thread: a publish of at most
    /// `ServiceLimits.RequestBody.inlinePublishSizeBytesMax` without `Idempotency-Key` is checked here and
    /// answered from the log writer's completion, so it costs no task and no hop through the
    /// concurrency pool. Anything else returns false and takes the task path (`publish`).
    func publishInline(_ request: HTTPRequest, respond: @escaping @Sendable (HTTPResponse) -> Void) -> Bool {
        guard configuration.appender == nil, request.body.count <= ServiceLimits.RequestBody.inlinePublishSizeBytesMax,
              request.headers["idempotency-key"] == nil else { return false }
        let event: NewEvent
        do {
            let principal = try authenticate(request, scope: Scope.eventsPublish)
            let (body, rawData) = try jsonBody(request, keepingCanonical: "data")
            event = try newEvent(from: body, principal: principal, context: "body", rawData: rawData)
        } catch {
            respond(response(for: error, request))
            return true
        }
        let started = ContinuousClock.now
        // The writer is woken at the end of the I/O loop's turn (`makeRouter`): the publishes of all the
        // connections read in one turn share one group commit.
        log.append(batch: [event], deferringWake: true) { [self] result in
            switch result {
            case .success(let appended):
                metrics.recordAppend(eventCount: 1, duration: ContinuousClock.now - started)
                metrics.countResponse(status: 201)
                respond(Self.appendedResponse(appended[0]))
            case .failure(let failure):
                respond(response(for: appendError(failure)))  // not capturing `request`: fewer retains per publish
            }
        }
        return true
    }

    /// `201 {"id","offset","timestamp"}` for an appended event (formatted directly: every part is
    /// plain ASCII that needs no escaping).
    static func appendedResponse(_ appended: AppendedEvent) -> HTTPResponse {
        var body: [UInt8] = []
        body.reserveCapacity(96)
        body += #"{"id":""#.utf8
        body += appended.eventID.utf8
        body += #"","offset":"#.utf8
        body += String(appended.offset).utf8
        body += #","timestamp":""#.utf8
        UTCTimestamp.append(ms: appended.timestampMs, to: &body)
        body += #""}"#.utf8
        return .json(201, body)
    }

    /// Appends, mapping log failures to API errors and counting.
    func appendToLog(_ events: [NewEvent]) async throws -> [AppendedEvent] {
        let started = ContinuousClock.now
        do {
            let appended = try await appender.append(batch: events)
            metrics.recordAppend(eventCount: events.count, duration: ContinuousClock.now - started)
            return appended
        } catch let error as EventLogError {
            throw appendError(error)
        } catch where configuration.appender != nil && !(error is APIError) {
            configuration.logger.error("append to the engine failed", [("error", .string(String(describing: error)))])
            throw APIError(503, "engine_unavailable", "the engine did not acknowledge the event; retry (the same event id is stored once)",
                           headers: [("Retry-After", "1")])
        }
    }

    /// The API error for a failed append (a full disk is 507; other failures are logged).
    func appendError(_ error: EventLogError) -> APIError {
        switch error {
        case .overloaded: return APIError(503, "overloaded", "the log is busy; retry shortly", headers: [("Retry-After", "1")])
        case .invalidEvent(let reason): return APIError.invalid(reason)
        case .system(let system) where system.errno == ENOSPC || system.errno == EDQUOT:
            configuration.logger.error("append failed", [("error", .string(String(describing: error)))])
            return APIError(507, "insufficient_storage", "the disk holding the log is full; the event was not accepted",
                            headers: [("Retry-After", "5")])
        default:
            configuration.logger.error("append failed", [("error", .string(String(describing: error)))])
            return APIError(503, "log_unavailable", "the event could not be stored; it was not accepted")
        }
    }

    /// `POST /v1/events/batch`: up to 1000 events, all validated first, one durable commit.
    func publishBatch(_ request: HTTPRequest) async throws -> HTTPResponse {
        let principal = try authenticate(request, scope: Scope.eventsPublish)
        var fields = try FieldReader(try jsonBody(request))
        guard let list = fields.any("events"), case .array(let elements) = list else {
            throw APIError.invalid("events must be an array")
        }
        try fields.rejectUnknown()
        guard !elements.isEmpty, elements.count <= ServiceLimits.Events.batchCountMax else {
            throw APIError.invalid("events must hold 1 to \(ServiceLimits.Events.batchCountMax) events")
        }
        var events: [NewEvent] = []
        events.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            events.append(try newEvent(from: element, principal: principal, context: "events[\(index)]"))
        }
        let appended = try await appendToLog(events)
        return json(201, .object([("events", .array(appended.map(Self.appendedJSON)))]))
    }

    /// `GET /v1/events?after=&limit=&type=&organization_id=`: the organization's events after an offset.
    func listEvents(_ request: HTTPRequest) async throws -> HTTPResponse {
        let principal = try authenticate(request, scope: Scope.eventsRead)
        let limit = try pageLimit(request)
        var start: UInt64 = 0
        if let after = request.queryValue("after") {
            // Offsets are JSON integers (at most Int64.max); a larger `after` must not wrap to 0.
            guard let offset = UInt64(after), offset < UInt64(Int64.max) else {
                throw APIError(400, "invalid_query", "after must be an offset from 0 to \(Int64.max - 1)")
            }
            start = offset + 1
        }
        let typePattern = request.queryValue("type")
        if let typePattern, !EventType.isValidFilter(typePattern) {
            throw APIError(400, "invalid_query", "type must be an event type, category.* or *")
        }
        let organization = request.queryValue("organization_id") ?? principal.organizationID
        guard organization == "*" || ClientStore.isValidOrganizationID(organization) else {
            throw APIError(400, "invalid_query", "organization_id must be * or 1 to 128 characters of [A-Za-z0-9_.-]")
        }
        guard organization == principal.organizationID || principal.isPlatformAdmin else {
            throw APIError(403, "forbidden_organization", "this token may read only \(principal.organizationID)")
        }
        // Through the event source: archived offsets are read back, and a gap is a 410, never skipped.
        var data: [JSONValue] = []
        var pageBytes = 0
        var scanned = 0
        var lastScanned: UInt64?
        var pageFull = false
        scan: while data.count < limit, scanned < ServiceLimits.Events.scanCountMax {
            let records = try await source.read(from: lastScanned.map { $0 + 1 } ?? start,
                                                countMax: min(256, ServiceLimits.Events.scanCountMax - scanned))
            if records.isEmpty { break }
            for record in records {
                if (organization == "*" || record.organizationID == organization)
                    && typePattern.map({ EventType.matches(record.type, pattern: $0) }) ?? true {
                    let envelope = record.envelope()
                    // The page ends before an event that would take it past its byte limit (never empty).
                    if !data.isEmpty, pageBytes + envelope.count + 1 > ServiceLimits.Pages.sizeBytesMax {
                        pageFull = true
                        break scan
                    }
                    pageBytes += envelope.count + 1
                    data.append(try JSONParser.parse(envelope))
                }
                scanned += 1
                lastScanned = record.offset
                if data.count == limit { break scan }
            }
        }
        let more = pageFull || (lastScanned.map { $0 + 1 < log.nextOffset } ?? false)
        return json(200, .object([("data", .array(data)), ("next_after", more ? .integer(lastScanned ?? 0) : .null)]))
    }

    /// The `limit` query value, 1 to 1000 (default 100).
    func pageLimit(_ request: HTTPRequest) throws(APIError) -> Int {
        guard let text = request.queryValue("limit") else { return ServiceLimits.Pages.size.defaultValue }
        guard let limit = Int(text), ServiceLimits.Pages.size.range.contains(limit) else {
            throw APIError(400, "invalid_query",
                           "limit must be an integer from \(ServiceLimits.Pages.size.range.lowerBound) to \(ServiceLimits.Pages.size.range.upperBound)")
        }
        return limit
    }
}
