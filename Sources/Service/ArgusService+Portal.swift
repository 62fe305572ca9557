import EventLog
import HTTPServer
import JSON

extension ArgusService {
    /// `POST /v1/portal/sessions` `{"read_only","expires_in","organization_id"}` (all optional): 201
    /// `{"url","token","expires_at","read_only","organization_id"}`. The token carries the `portal`
    /// marker scope, so it may only use `PortalRoutes` and only for its organization.
    /// - Throws: 403 `insufficient_scope` without `webhooks:read` (`webhooks:write` for a session that
    ///   is not read-only); 403 `forbidden` when a non-admin names another organization; 422 when
    ///   `expires_in` is outside `ServiceLimits.Portal.sessionSeconds.range`.
    func createPortalSession(_ request: HTTPRequest) async throws -> HTTPResponse {
        let principal = try authenticate(request, scope: Scope.webhooksRead)
        let body: JSONValue = request.body.isEmpty ? .object([]) : try jsonBody(request)
        var fields = try FieldReader(body)
        let readOnly = try fields.bool("read_only") ?? false
        let bounds = ServiceLimits.Portal.sessionSeconds
        let lifetimeSeconds = try fields.integer("expires_in", in: bounds.range) ?? bounds.defaultValue
        let organization = try fields.string("organization_id", sizeBytesMax: 128) ?? principal.organizationID
        try fields.rejectUnknown()
        if !readOnly, !principal.has(Scope.webhooksWrite) {
            throw APIError(403, "insufficient_scope", "a session that is not read-only needs the webhooks:write scope",
                           headers: [("WWW-Authenticate", "Bearer realm=\"argus\", error=\"insufficient_scope\", scope=\"webhooks:write\"")])
        }
        guard organization != "*", !organization.isEmpty else { throw APIError.invalid("organization_id must name one organization") }
        guard organization == principal.organizationID || principal.isPlatformAdmin else {
            throw APIError(403, "forbidden", "only platform:admin may open a portal session for another organization")
        }
        let scopes = ([Scope.portal, .webhooksRead] + (readOnly ? [] : [.webhooksWrite])).map(\.rawValue)
        let (tokens, clientID, nowMs) = (tokens, principal.clientID, configuration.nowMs())
        let issued = try await BlockingIO.run { () throws -> (token: String, expiresAtMs: Int64) in
            try tokens.issue(clientID: clientID, organizationID: organization, scopes: scopes, nowMs: nowMs, lifetimeSeconds: lifetimeSeconds)
        }
        try await shareIssuedToken(issued.token, clientID: clientID)
        return json(201, .object([
            ("url", .string(Self.baseURL(request) + "/portal#token=" + issued.token)), ("token", .string(issued.token)),
            ("expires_at", .string(Timestamp.format(ms: issued.expiresAtMs))), ("read_only", .bool(readOnly)),
            ("organization_id", .string(organization)),
        ]))
    }

    /// `GET /v1/portal/session`: what the calling token is, for the portal page: 200
    /// `{"organization_id","read_only","portal","expires_at"}` (`read_only`: it lacks `webhooks:write`).
    /// - Throws: 401 as `authenticate`; 403 `insufficient_scope` without `webhooks:read`.
    func portalSession(_ request: HTTPRequest) async throws -> HTTPResponse {
        let principal = try authenticate(request, scope: Scope.webhooksRead)
        return json(200, .object([
            ("organization_id", .string(principal.organizationID)), ("read_only", .bool(!principal.has(Scope.webhooksWrite))),
            ("portal", .bool(principal.isPortal)),
            ("expires_at", principal.expiresAtMs.map { JSONValue.string(Timestamp.format(ms: $0)) } ?? .null),
        ]))
    }

    /// `http(s)://<Host>` of the request (https when `X-Forwarded-Proto: https`); empty (a relative
    /// URL) when the Host header is missing or holds characters a host cannot have.
    static func baseURL(_ request: HTTPRequest) -> String {
        guard let host = request.headers["host"], !host.isEmpty, host.utf8.count <= 255,
              host.utf8.allSatisfy({ ASCIIClass.isHostByte($0) }) else { return "" }
        let scheme = request.headers["x-forwarded-proto"]?.lowercased() == "https" ? "https" : "http"
        return scheme + "://" + host
    }
}

/// Bytes allowed in a Host header value we echo into a URL.
enum ASCIIClass {
    static func isHostByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: ":"), UInt8(ascii: "["), UInt8(ascii: "]"):
            return true
        default:
            return false
        }
    }
}
