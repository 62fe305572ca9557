import Crypto
import HTTPServer
import EventLog
import JSON

/// RFC 6749 client credentials grant and RFC 7009 revocation.
/// An RFC 6749 section 5.2 error: `{"error","error_description"}`.
struct OAuthError: Error, Sendable {
    let status: Int
    let code: String
    let description: String
    var challenge = false
    /// Extra response headers, such as `Retry-After`.
    var headers: [(String, String)] = []

    var response: HTTPResponse {
        var response = HTTPResponse.json(status, JSONValue.object([("error", .string(code)), ("error_description", .string(description))]).encoded())
        response.headers.add("Cache-Control", "no-store")
        if challenge { response.headers.add("WWW-Authenticate", "Basic realm=\"argus\"") }
        for (name, value) in headers { response.headers.add(name, value) }
        return response
    }
}

extension ArgusService {
    static func oauthError(_ status: Int, _ code: String, _ description: String, challenge: Bool = false) -> OAuthError {
        OAuthError(status: status, code: code, description: description, challenge: challenge)
    }

    /// The decoded fields of an `application/x-www-form-urlencoded` body; nil when malformed or repeated.
    static func formFields(_ body: [UInt8]) -> [String: String]? {
        var fields: [String: String] = [:]
        for pair in body.split(separator: UInt8(ascii: "&")) where !pair.isEmpty {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = formDecode(parts[0]), let value = formDecode(parts.count > 1 ? parts[1] : []) else { return nil }
            guard fields[name] == nil else { return nil }
            fields[name] = value
        }
        return fields
    }

    static func formDecode(_ bytes: ArraySlice<UInt8>) -> String? {
        var output: [UInt8] = []
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "+") {
                output.append(0x20)
            } else if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.endIndex, let value = UInt8(String(decoding: bytes[(index + 1)...(index + 2)], as: UTF8.self), radix: 16)
                else { return nil }
                output.append(value)
                index += 2
            } else {
                output.append(byte)
            }
            index += 1
        }
        return String(validating: output, as: UTF8.self)
    }

    /// Client authentication by HTTP Basic or by `client_id`/`client_secret` form fields (not both).
    func authenticateClient(_ request: HTTPRequest, form: [String: String]) throws(OAuthError) -> OAuthClient {
        var clientID = form["client_id"]
        var secret = form["client_secret"]
        if let header = request.headers["authorization"] {
            let parts = header.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "basic", secret == nil,
                  let decoded = try? Base64.decode(String(parts[1]).trimmingCharacters(in: .whitespaces)),
                  let colon = decoded.firstIndex(of: UInt8(ascii: ":")),
                  let id = Self.formDecode(decoded[..<colon]), let password = Self.formDecode(decoded[(colon + 1)...]) else {
                throw Self.oauthError(401, "invalid_client", "malformed client authentication", challenge: true)
            }
            if let formID = clientID, formID != id {
                throw Self.oauthError(400, "invalid_request", "client_id differs from the Basic credentials")
            }
            clientID = id
            secret = password
        }
        guard let clientID, let secret else {
            throw Self.oauthError(401, "invalid_client", "client authentication is required (HTTP Basic or client_id and client_secret)", challenge: true)
        }
        guard let client = clients.authenticate(clientID: clientID, secret: secret) else {
            throw Self.oauthError(401, "invalid_client", "unknown client or wrong secret", challenge: true)
        }
        return client
    }

    func formBody(_ request: HTTPRequest) throws(OAuthError) -> [String: String] {
        let contentType = (request.headers["content-type"] ?? "").lowercased()
        guard contentType.hasPrefix("application/x-www-form-urlencoded") else {
            throw Self.oauthError(400, "invalid_request", "send the body as application/x-www-form-urlencoded")
        }
        guard let form = Self.formFields(request.body) else {
            throw Self.oauthError(400, "invalid_request", "malformed or repeated form fields")
        }
        return form
    }

    /// `POST /oauth/token`.
    func issueToken(_ request: HTTPRequest) async throws -> HTTPResponse {
        let form = try formBody(request)
        guard let grant = form["grant_type"] else { throw Self.oauthError(400, "invalid_request", "grant_type is required") }
        guard grant == "client_credentials" else {
            throw Self.oauthError(400, "unsupported_grant_type", "only client_credentials is supported")
        }
        let client = try authenticateClient(request, form: form)
        if let waitSeconds = tokens.admitRequest(clientID: client.clientID, nowMs: configuration.nowMs()) {
            throw OAuthError(status: 429, code: "too_many_requests",
                             description: "at most \(ServiceLimits.Tokens.requestsPerSecondPerClientMax) token requests per second per client",
                             headers: [("Retry-After", String(waitSeconds))])
        }
        var scopes = client.scopes
        if let requested = form["scope"] {
            let names = requested.split(separator: " ").map(String.init)
            guard !names.isEmpty, names.allSatisfy(client.scopes.contains) else {
                throw Self.oauthError(400, "invalid_scope", "the client may request only: \(client.scopes.joined(separator: " "))")
            }
            scopes = client.scopes.filter(names.contains)
        }
        let token: String
        let expiresAtMs: Int64
        do {
            // The journal append ends with an fdatasync: on the blocking-I/O queue, not the cooperative pool.
            let (tokens, granted, nowMs, lifetimeSeconds) = (tokens, scopes, configuration.nowMs(), configuration.tokenLifetimeSeconds)
            (token, expiresAtMs) = try await BlockingIO.run { () throws -> (String, Int64) in
                try tokens.issue(client: client, scopes: granted, nowMs: nowMs, lifetimeSeconds: lifetimeSeconds)
            }
        } catch let failure as StoreError {
            // Too many live tokens: answered in the RFC 6749 error shape like every other failure here.
            guard let error = APIError(failure) else { throw failure }
            throw Self.oauthError(error.status, error.code, error.message)
        }
        do {
            try await shareIssuedToken(token, clientID: client.clientID)
        } catch {
            throw Self.oauthError(error.status, error.code, error.message)
        }
        await publishInternal(type: "oauth.token_issued", organizationID: client.organizationID, data: .object([
            ("client_id", .string(client.clientID)), ("scopes", .array(scopes.map(JSONValue.string))),
            ("expires_at", .string(Timestamp.format(ms: expiresAtMs))),
        ]))
        var response = json(200, .object([
            ("access_token", .string(token)), ("token_type", .string("Bearer")),
            ("expires_in", .integer(configuration.tokenLifetimeSeconds)), ("scope", .string(scopes.joined(separator: " "))),
        ]))
        response.headers.add("Cache-Control", "no-store")
        response.headers.add("Pragma", "no-cache")
        return response
    }

    /// `POST /oauth/revoke` (RFC 7009): 200 whether or not the token was live.
    func revokeToken(_ request: HTTPRequest) async throws -> HTTPResponse {
        let form = try formBody(request)
        let client = try authenticateClient(request, form: form)
        guard let token = form["token"], !token.isEmpty else { throw Self.oauthError(400, "invalid_request", "token is required") }
        if let hint = form["token_type_hint"], hint != "access_token" && hint != "refresh_token" {
            throw Self.oauthError(400, "unsupported_token_type", "only access tokens exist here")
        }
        let tokens = tokens
        await engineTokens?.fetchIfUnknown(token)
        let revokedNow = try await BlockingIO.run({ () throws -> Bool in try tokens.revoke(token, clientID: client.clientID) })
        // The retry of a revocation the engine did not record finds the token revoked here already: it is shared
        // again (deleting a key twice is harmless), so no retry answers 200 while other processes still accept it.
        let revokedEarlier = !revokedNow && engineTokens != nil && tokens.lookup(token, nowMs: configuration.nowMs()) == .revoked
        if revokedNow || revokedEarlier {
            do {
                try await engineTokens?.shareRevoked([TokenStore.digest(of: token)])
            } catch {
                configuration.logger.error("could not delete a revoked token from the engine", [("error", .string(String(describing: error)))])
                throw Self.oauthError(503, "temporarily_unavailable", "the engine did not record the revocation; retry")
            }
        }
        if revokedNow {
            await publishInternal(type: "oauth.token_revoked", organizationID: client.organizationID,
                                  data: .object([("client_id", .string(client.clientID))]))
        }
        var response = HTTPResponse(status: 200)
        response.headers.add("Cache-Control", "no-store")
        return response
    }
}
