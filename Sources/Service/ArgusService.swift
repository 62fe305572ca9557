import Crypto
import Delivery
import EventLog
import Foundation
import HTTPServer
import JSON
import WebhookSigning

/// The management and ingest API: OAuth 2.0, events, webhooks. Owns the log writer and the stores of
/// one data directory; `makeRouter()` gives the HTTP routes.
public final class ArgusService: Sendable {
    public let configuration: ServiceConfiguration
    public let log: EventLog
    /// Where every publish goes (API, operational and internal events): the log, or the engine's stream.
    public let appender: any EventAppender
    public let clients: ClientStore
    package let tokens: TokenStore
    public let webhooks: WebhookStore
    let idempotency: IdempotencyCache
    /// `serve --engine`: the tokens and idempotency keys every process shares; nil: the local engine.
    let engineTokens: EngineTokens?
    let engineIdempotency: EngineIdempotency?
    /// `serve --engine`: sends the history routes to the webhook's delivering process; nil: the local engine.
    let historyForwarder: EngineHistoryForwarder?
    let metrics = Metrics()
    public let cursors: CursorStore
    public let dispatcher: Dispatcher
    /// Where every reader (delivery, replay, `GET /v1/events`) gets events: the log, or the archive and the log.
    public let source: any EventSource
    /// The log as a transparency log: hash tiles, checkpoint key (created here with the data
    /// directory), signed checkpoints.
    public let transparency: TransparencyLog
    /// When `serve` signs checkpoints: the log writer notes each seal here.
    let checkpointSchedule = CheckpointSchedule.Shared(CheckpointSchedule(intervalMs: Int64(ServiceLimits.Transparency.checkpointIntervalSeconds * 1000)))
    /// The largest size the log sealed at since the start (the engine's sealer records it).
    let sealedSize = SealedSize()

    /// Opens the data directory (taking the log's writer lock) and loads every store.
    /// - Throws: `EventLogError.locked` when another process writes there; store and log errors.
    public init(configuration: ServiceConfiguration) throws {
        self.configuration = configuration
        let now = configuration.nowMs()
        var logOptions = configuration.logOptions
        if configuration.proofUpkeep, logOptions.recentLeafHashCountMax == 0 {
            logOptions.recentLeafHashCountMax = ServiceLimits.Transparency.recentLeafHashCountMax
        }
        let schedule = checkpointSchedule
        let sealed = sealedSize
        let onSeal = logOptions.onSeal
        logOptions.onSeal = { size in
            schedule.withLock { $0.noteSeal(size: size) }
            sealed.note(size)
            onSeal(size)
        }
        log = try EventLog(directory: configuration.layout.log, options: logOptions)
        appender = configuration.appender ?? log
        clients = ClientStore(directory: configuration.layout.clients)
        tokens = try TokenStore(directory: configuration.layout.oauth, nowMs: now)
        webhooks = try WebhookStore(directory: configuration.layout.webhooks)
        idempotency = try IdempotencyCache(directory: configuration.layout.oauth, nowMs: now)
        engineTokens = configuration.engine.map { [tokens, clients] engine in
            EngineTokens(bucket: engine.tokens, clientBucket: engine.clients, tokens: tokens, clients: clients,
                         nowMs: configuration.nowMs, logger: configuration.logger,
                         reconnectCount: { [connection = engine.connection] in connection.reconnectCount })
        }
        engineIdempotency = configuration.engine.map { EngineIdempotency(bucket: $0.idempotencyKeys) }
        historyForwarder = configuration.engine.map { EngineHistoryForwarder(processes: $0.processes, leases: $0.leases.bucket, holder: $0.holder) }
        cursors = try CursorStore(directory: configuration.layout.cursors)
        var delivery = Dispatcher.Configuration(transport: configuration.deliveryTransport, targetGuard: configuration.targetGuard)
        delivery.nowMs = configuration.nowMs
        delivery.autoDisableSeconds = configuration.autoDisableSeconds
        delivery.attemptTimeoutSeconds = configuration.deliveryAttemptTimeoutSeconds
        delivery.logger = configuration.logger
        delivery.userAgentVersion = ArgusVersion.current
        let store = webhooks
        let appendLog = appender
        let nowMs = configuration.nowMs
        let logger = configuration.logger
        delivery.publish = { event in
            await Self.publishOperational(event, log: appendLog, nowMs: nowMs, logger: logger)
        }
        delivery.onStateChange = { id, state, reason in
            _ = try? store.update(id) { webhook in
                webhook.status = state
                webhook.statusReason = reason
            }
        }
        source = configuration.makeEventSource(log)
        let durableLog = log
        // Under `always` the head is durable; under the other policies the readable size is synced first.
        let durableSize: (@Sendable () -> UInt64)? = logOptions.fsyncPolicy == .always ? { @Sendable in durableLog.nextOffset } : nil
        transparency = try TransparencyLog(layout: configuration.layout, origin: configuration.checkpointOrigin,
                                           durableSize: durableSize, recentLeafHashes: log.recentLeafHashes)
        dispatcher = Dispatcher(log: log, source: source, cursors: cursors,
                                history: try DeliveryHistory(directory: configuration.layout.deliveries), configuration: delivery)
    }

    /// Starts delivering to every webhook and follows webhook changes.
    public func startDelivery() async throws {
        let dispatcher = dispatcher
        // Synchronous and in order: a create followed by a delete can never bring the webhook back.
        webhooks.observe { webhook, id in dispatcher.apply(webhook?.subscription, id: id) }
        try await dispatcher.start(webhooks.all().map(\.subscription))
    }

    /// Stops delivery, finishes queued appends and commits, and releases the log.
    public func close() {
        dispatcher.stop()
        dispatcher.history.flush()
        cursors.close()
        log.close()
    }

    /// The lowest offset some webhook still needs: the smallest cursor (a webhook without one starts
    /// at its `start_offset`), or the head when there are no webhooks. Retention never deletes a
    /// segment at or above it.
    var consumersFloor: UInt64 {
        webhooks.all().map { cursors.offset(of: $0.id) ?? $0.startOffset }.min() ?? log.nextOffset
    }

    /// Every route of the API.
    package func makeRouter() -> Router {
        var router = Router()
        router.onTurnEnd = { [log] in log.wakeWriterIfDeferred() }  // see `publishInline`
        router.add("POST", "/oauth/token") { [self] in await respond($0) { try await issueToken($0) } }
        router.add("POST", "/oauth/revoke") { [self] in await respond($0) { try await revokeToken($0) } }
        router.add("GET", "/healthz") { [self] _ in
            switch log.health {
            case .accepting:
                return .json(200, JSONValue.object([("status", .string("ok")), ("next_offset", .integer(log.nextOffset))]).encoded())
            case .failing(let reason, let cause):
                let full = cause?.errno == ENOSPC || cause?.errno == EDQUOT
                return .json(503, JSONValue.object([
                    ("status", .string("degraded")), ("reason", .string(full ? "insufficient_storage" : "log_unavailable")),
                    ("message", .string("the log cannot accept writes: \(reason)")), ("next_offset", .integer(log.nextOffset)),
                ]).encoded())
            case .stopped(let reason):
                return .json(503, JSONValue.object([
                    ("status", .string("stopped")), ("reason", .string("log_writer_stopped")),
                    ("message", .string("the log writer stopped: \(reason)")), ("next_offset", .integer(log.nextOffset)),
                ]).encoded())
            }
        }
        router.add("GET", "/metrics") { [self] request in
            if !configuration.metricsPublic {
                do throws(APIError) {
                    _ = try authenticate(request, scope: Scope.metricsRead)
                } catch {
                    return error.response
                }
            }
            let totals = dispatcher.totals()
            return HTTPResponse(status: 200, headers: HTTPHeaders([("content-type", "text/plain; version=0.0.4")]),
                                body: Array(metrics.render(nextOffset: log.nextOffset, sync: log.syncStatistics, delivery: totals).utf8))
        }
        router.add("GET", "/openapi.json") { _ in .json(200, Array(OpenAPIDocument.text.utf8)) }
        router.add("GET", "/v1/clients") { [self] in await respond($0) { try await listClients($0) } }
        router.add("POST", "/v1/clients", continueCheck: requires(Scope.clientsWrite)) { [self] in await respond($0) { try await createClient($0) } }
        router.add("DELETE", "/v1/clients/{id}") { [self] in await respond($0) { try await deleteClient($0) } }
        router.add("GET", "/v1/event-types") { [self] in await respond($0) { try await eventTypes($0) } }
        router.add("POST", "/v1/events", continueCheck: requires(Scope.eventsPublish),
                   inline: { [self] in publishInline($0, respond: $1) }) { [self] in await respond($0) { try await publish($0) } }
        router.add("POST", "/v1/events/batch", continueCheck: requires(Scope.eventsPublish)) { [self] in await respond($0) { try await publishBatch($0) } }
        router.add("GET", "/v1/events") { [self] in await respond($0) { try await listEvents($0) } }
        router.add("GET", "/v1/events/{id}/proof") { [self] in await respond($0) { try await eventProof($0) } }
        router.add("GET", "/v1/log/checkpoint") { [self] in await respond($0) { try await logCheckpoint($0) } }
        router.add("GET", "/v1/log/vkey") { [self] in await respond($0) { try await logVerifierKey($0) } }
        router.add("GET", "/v1/log/consistency") { [self] in await respond($0) { try await logConsistency($0) } }
        router.add("POST", "/v1/webhooks", continueCheck: requires(Scope.webhooksWrite)) { [self] in await respond($0) { try await createWebhook($0) } }
        router.add("GET", "/v1/webhooks") { [self] in await respond($0) { try await listWebhooks($0) } }
        router.add("GET", "/v1/webhooks/{id}") { [self] in await respond($0) { try await getWebhook($0) } }
        router.add("PATCH", "/v1/webhooks/{id}", continueCheck: requires(Scope.webhooksWrite)) { [self] in await respond($0) { try await updateWebhook($0) } }
        router.add("DELETE", "/v1/webhooks/{id}") { [self] in await respond($0) { try await deleteWebhook($0) } }
        router.add("POST", "/v1/webhooks/{id}/rotate-secret", continueCheck: requires(Scope.webhooksWrite)) { [self] in await respond($0) { try await rotateSecret($0) } }
        router.add("GET", "/v1/webhooks/{id}/deliveries") { [self] in
            await respondFromDeliverer($0, scope: Scope.webhooksRead) { try await listDeliveries($0, webhook: $1) }
        }
        router.add("POST", "/v1/webhooks/{id}/deliveries/{delivery_id}/retry", continueCheck: requires(Scope.webhooksWrite)) { [self] in
            await respondFromDeliverer($0, scope: Scope.webhooksWrite) { try await retryDelivery($0, webhook: $1) }
        }
        router.add("POST", "/v1/webhooks/{id}/replay", continueCheck: requires(Scope.webhooksWrite)) { [self] in await respond($0) { try await replay($0) } }
        router.add("GET", "/v1/webhooks/{id}/stats") { [self] in
            await respondFromDeliverer($0, scope: Scope.webhooksRead) { try await stats($0, webhook: $1) }
        }
        router.add("GET", "/v1/webhooks/{id}/stats/timeseries") { [self] in
            await respondFromDeliverer($0, scope: Scope.webhooksRead) { try await timeseries($0, webhook: $1) }
        }
        router.add("POST", "/v1/webhooks/{id}/test", continueCheck: requires(Scope.webhooksWrite)) { [self] in await respond($0) { try await sendTest($0) } }
        router.add("POST", "/v1/portal/sessions", continueCheck: requires(Scope.webhooksRead)) { [self] in await respond($0) { try await createPortalSession($0) } }
        router.add("GET", "/v1/portal/session") { [self] in await respond($0) { try await portalSession($0) } }
        router.add("GET", "/portal") { _ in PortalAssets.page }
        router.add("GET", "/portal/app.js") { _ in PortalAssets.script }
        router.add("GET", "/portal/app.css") { _ in PortalAssets.stylesheet }
        router.add("GET", "/portal/icon.svg") { _ in PortalAssets.icon }
        return router
    }

    /// A route's `Expect: 100-continue` check: the body may come only with a token that holds `scope`
    /// (otherwise the 401/403 goes out at once and the body is never read).
    func requires(_ scope: Scope) -> @Sendable (HTTPRequest) async -> HTTPResponse? {
        { [self] request in
            await fetchSharedToken(request)
            do throws(APIError) {
                _ = try authenticate(request, scope: scope)
                return nil
            } catch {
                metrics.countResponse(status: error.status)
                return error.response
            }
        }
    }

    /// A history route: the request is authenticated here, once, for `scope` (a token another process
    /// issued is fetched first); a refused one is answered here. The webhook must then be visible to the
    /// token's organization here (`visibleWebhook`): another organization's webhook gets the same 404,
    /// unmarked, as an id that does not exist, before any lease is read or request forwarded. Under
    /// `serve --engine` the webhook's delivering process then answers (see `EngineHistoryForwarder`);
    /// otherwise, or when it cannot be reached, `body` answers here with that webhook, looked up once
    /// per request (marked `Argus-History: local` in the latter case).
    func respondFromDeliverer(_ request: HTTPRequest, scope: Scope,
                              _ body: (HTTPRequest, Webhook) async throws -> HTTPResponse) async -> HTTPResponse {
        await fetchSharedToken(request)
        let webhook: Webhook
        do throws(APIError) {
            webhook = try visibleWebhook(request.pathParameters["id"] ?? "", principal: try authenticate(request, scope: scope))
        } catch {
            return response(for: error, request)
        }
        var localReason: String?
        if let historyForwarder {
            let forwarded: HTTPResponse?
            (forwarded, localReason) = await historyForwarder.forward(request, webhookID: webhook.id)
            if let forwarded {
                metrics.countResponse(status: forwarded.status)
                return forwarded
            }
        }
        var response = await answer(request) { try await body($0, webhook) }
        if let localReason {
            response.headers.add("Argus-History", "local")
            configuration.logger.info("history answered locally: \(localReason)", [("webhook_id", .string(webhook.id))])
        }
        return response
    }

    /// Runs `body` (a token another process issued fetched first), turning `APIError` into its response
    /// and anything else into a 500 that is logged.
    func respond(_ request: HTTPRequest, _ body: (HTTPRequest) async throws -> HTTPResponse) async -> HTTPResponse {
        await fetchSharedToken(request)
        return await answer(request, body)
    }

    /// `respond` without the token's fetch: for a request whose token was fetched already.
    private func answer(_ request: HTTPRequest, _ body: (HTTPRequest) async throws -> HTTPResponse) async -> HTTPResponse {
        do {
            let response = try await body(request)
            metrics.countResponse(status: response.status)
            return response
        } catch {
            return response(for: error, request)
        }
    }

    /// The response for `error`, counted.
    func response(for error: APIError) -> HTTPResponse {
        metrics.countResponse(status: error.status)
        return error.response
    }

    /// The response for a failed request (counted; a 500 is logged with the request id).
    func response(for error: any Error, _ request: HTTPRequest) -> HTTPResponse {
        let response: HTTPResponse
        switch error {
        case let error as OAuthError:
            response = error.response
        case let error as APIError:
            response = error.response
        case let failure as StoreError where APIError(failure) != nil:
            response = APIError(failure)!.response
        case let failure as EventSourceError:
            if case .log = failure {
                configuration.logger.error("reading events failed", [("request_id", .string(request.requestID)), ("error", .string(failure.description))])
            }
            response = APIError(failure).response
        default:
            configuration.logger.error("request failed", [("request_id", .string(request.requestID)), ("path", .string(request.path)),
                                                          ("error", .string(String(describing: error)))])
            response = APIError(500, "internal_error", "the request failed on the server (request id \(request.requestID))").response
        }
        metrics.countResponse(status: response.status)
        return response
    }

    /// The JSON body of `request`.
    /// - Throws: 415 `unsupported_media_type` unless the content type is JSON; 400 `invalid_json`.
    func jsonBody(_ request: HTTPRequest) throws(APIError) -> JSONValue {
        try parsedBody(request) { bytes throws(JSONParser.Failure) in try JSONParser.parse(bytes) }
    }

    /// The JSON body of `request` with the top-level member `memberName` kept as its bytes when
    /// they are canonical already (see `JSONParser.parse(_:keepingCanonical:)`).
    /// - Throws: as `jsonBody(_:)`.
    func jsonBody(_ request: HTTPRequest, keepingCanonical memberName: String) throws(APIError) -> (JSONValue, ArraySlice<UInt8>?) {
        try parsedBody(request) { bytes throws(JSONParser.Failure) in try JSONParser.parse(bytes, keepingCanonical: memberName) }
    }

    /// The content-type check and the error mapping of both `jsonBody` forms.
    private func parsedBody<Parsed>(_ request: HTTPRequest,
                                    _ parse: ([UInt8]) throws(JSONParser.Failure) -> Parsed) throws(APIError) -> Parsed {
        guard Self.isJSONMediaType(request.headers["content-type"] ?? "") else {
            throw APIError(415, "unsupported_media_type", "send the body as application/json")
        }
        do {
            return try parse(request.body)
        } catch {
            throw APIError(400, "invalid_json", error.description)
        }
    }

    /// Whether a `Content-Type` value names `application/json` (any case, parameters after `;`
    /// and spaces or tabs around the type ignored), compared byte by byte without allocating.
    static func isJSONMediaType(_ value: String) -> Bool {
        if value == "application/json" { return true }  // what nearly every client sends
        let expected = "application/json".utf8
        var utf8 = Substring(value).utf8
        if let semicolon = utf8.firstIndex(of: UInt8(ascii: ";")) { utf8 = utf8[..<semicolon] }
        while let first = utf8.first, first == 0x20 || first == 0x09 { utf8 = utf8.dropFirst() }
        while let last = utf8.last, last == 0x20 || last == 0x09 { utf8 = utf8.dropLast() }
        guard utf8.count == expected.count else { return false }
        return zip(utf8, expected).allSatisfy { actual, wanted in
            (actual >= 0x41 && actual <= 0x5A ? actual | 0x20 : actual) == wanted
        }
    }

    /// A 2xx JSON response.
    func json(_ status: Int, _ value: JSONValue) -> HTTPResponse { .json(status, value.encoded()) }

    /// Appends an operational event (`webhook.failing`, `delivery.exhausted`, ...); failures are logged.
    static func publishOperational(_ event: OperationalEvent, log: any EventAppender, nowMs: @Sendable () -> Int64,
                                   logger: Logger) async {
        do {
            _ = try await log.append(batch: [NewEvent(organizationID: event.organizationID, type: event.type,
                                                      eventID: try EventID.make(timestampMs: nowMs()), data: event.data.encoded())])
        } catch {
            logger.error("could not publish \(event.type)", [("error", .string(String(describing: error)))])
        }
    }

    /// Appends an event of the platform itself (such as `oauth.token_issued`); failures are logged, not thrown.
    func publishInternal(type: String, organizationID: String, data: JSONValue) async {
        do {
            let now = configuration.nowMs()
            _ = try await appender.append(batch: [NewEvent(organizationID: organizationID, type: type,
                                                           eventID: try EventID.make(timestampMs: now), data: data.encoded())])
        } catch {
            configuration.logger.error("could not publish \(type)", [("error", .string(String(describing: error)))])
        }
    }
}
