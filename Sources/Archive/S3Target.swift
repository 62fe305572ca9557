import Crypto
import Foundation
import HTTPClient
import SystemIO
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An archive in an S3 bucket (or an S3-compatible store), `s3://BUCKET/PREFIX`.
///
/// Every request is signed with AWS Signature Version 4 (`SigV4Signer`) over the payload's SHA-256.
/// Uploads also send `x-amz-checksum-sha256` (with `x-amz-sdk-checksum-algorithm: SHA256`), so S3
/// refuses a body damaged in transit and reports the checksum back on `HEAD`. With Object Lock
/// configured, each object is written in `COMPLIANCE` mode until now + `objectLockDays`.
///
/// AWS endpoints use virtual-hosted addressing (`BUCKET.s3.REGION.amazonaws.com`, path style when
/// the bucket name has dots); a custom endpoint (MinIO, moto, Ceph) uses path style
/// (`ENDPOINT/BUCKET/KEY`). Transient failures (network errors, HTTP 429 and 5xx) are retried
/// up to 3 times with backoff.
///
/// An `http://` endpoint is spoken to by our own HTTP/1.1 client (`HTTPClient`: kept-alive connections,
/// the body sent from the caller's buffer with one `sendmsg` per socket buffer, no copy into 64 KiB pieces
/// and no wake-up per piece); `https://` goes through URLSession, which holds the system's TLS. As with
/// URLSession, a request fails after 60 s without a byte moving or after an hour in all. An answer's body is
/// read up to a limit per kind of request (`objectSizeBytesMax` for an object, `listingSizeBytesMax` for a
/// listing page, `errorSizeBytesMax` for the answer to a PUT); a larger one fails the request.
public struct S3Target: ArchiveTarget {
    /// Where and how to reach the bucket.
    public struct Configuration: Sendable {
        /// Bucket name.
        public var bucket: String
        /// Key prefix, empty or ending with `/`.
        public var prefix: String
        /// Such as `us-east-1`.
        public var region: String
        /// A custom endpoint URL such as `http://127.0.0.1:9000` (path-style addressing); nil for AWS.
        public var endpoint: String?
        /// Object Lock retention in days (`COMPLIANCE` mode) for every object written; nil for none.
        public var objectLockDays: Int?
        /// Signing credentials (never printed).
        public var credentials: S3Credentials

        public init(bucket: String, prefix: String, region: String, endpoint: String? = nil,
                    objectLockDays: Int? = nil, credentials: S3Credentials) {
            self.bucket = bucket
            self.prefix = prefix.isEmpty || prefix.hasSuffix("/") ? prefix : prefix + "/"
            self.region = region
            self.endpoint = endpoint
            self.objectLockDays = objectLockDays
            self.credentials = credentials
        }
    }

    /// Bucket, prefix, region, endpoint, Object Lock and credentials.
    public let configuration: Configuration
    private let signer: SigV4Signer
    private let scheme: String
    /// `host[:port]` exactly as sent in the Host header.
    private let hostHeader: String
    /// Path before the key: `/bucket` (path style, possibly under an endpoint path) or empty (virtual host).
    private let bucketPath: String
    /// The endpoint's host (an IPv6 literal without brackets) and port, for our HTTP client (`http://` only).
    private let endpointHost: String
    private let endpointPort: Int

    /// Largest object read back (an archived segment, a manifest entry), in bytes: 1 GiB (segments roll
    /// at 64 MiB by default).
    public static let objectSizeBytesMax = 1 << 30
    /// Largest listing page read (1,000 keys of XML), in bytes.
    static let listingSizeBytesMax = 16 << 20
    /// Largest answer read to a PUT or HEAD (an error document), in bytes.
    static let errorSizeBytesMax = 1 << 20

    /// Seconds without a byte moving before a request fails (as URLSession's request timeout below).
    static let idleTimeoutSeconds = 60.0
    /// Seconds a request may take in all (as URLSession's resource timeout below).
    static let totalTimeoutSeconds = 3600.0

    /// The one HTTP client of the process for `http://` endpoints, shared by every target.
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.idleConnectionsPerHostMax = 8
        configuration.idleConnectionsMax = 64
        configuration.threadCountMax = 8
        configuration.threadName = "argus-s3"
        return HTTPClient(configuration: configuration)
    }()

    /// The one URLSession of the process: created on first use, never invalidated, shared by every target.
    static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 60
        configuration.timeoutIntervalForResource = 3600
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        configuration.httpCookieStorage = nil
        configuration.httpMaximumConnectionsPerHost = 8
        return URLSession(configuration: configuration)
    }()

    /// Makes a target; no request is sent yet.
    /// - Throws: `ArchiveError.configuration` for an empty bucket name or an endpoint that is not an http(s) URL.
    public init(configuration: Configuration) throws(ArchiveError) {
        guard !configuration.bucket.isEmpty, !configuration.bucket.contains("/") else {
            throw ArchiveError(.configuration, "bad S3 bucket name")
        }
        self.configuration = configuration
        signer = SigV4Signer(credentials: configuration.credentials, region: configuration.region, service: "s3")
        if let endpoint = configuration.endpoint {
            guard let components = URLComponents(string: endpoint), let scheme = components.scheme?.lowercased(),
                  scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty else {
                throw ArchiveError(.configuration, "--s3-endpoint must be an http:// or https:// URL")
            }
            self.scheme = scheme
            endpointHost = host
            endpointPort = components.port ?? (scheme == "http" ? 80 : 443)
            let bracketed = host.contains(":") ? "[\(host)]" : host
            hostHeader = bracketed + (components.port.map { ":\($0)" } ?? "")
            var path = components.percentEncodedPath
            while path.hasSuffix("/") { path.removeLast() }
            bucketPath = path + "/" + SigV4Signer.uriEncode(configuration.bucket, keepSlash: false)
        } else if configuration.bucket.contains(".") {
            scheme = "https"
            endpointHost = "s3.\(configuration.region).amazonaws.com"
            endpointPort = 443
            hostHeader = endpointHost
            bucketPath = "/" + configuration.bucket
        } else {
            scheme = "https"
            endpointHost = "\(configuration.bucket).s3.\(configuration.region).amazonaws.com"
            endpointPort = 443
            hostHeader = endpointHost
            bucketPath = ""
        }
    }

    /// `s3://BUCKET/PREFIX/`.
    public var location: String { "s3://\(configuration.bucket)/\(configuration.prefix)" }

    // MARK: ArchiveTarget

    public func put(key: String, body: Data, sha256: [UInt8]) async throws(ArchiveError) {
        var headers: [(String, String)] = [
            ("x-amz-checksum-sha256", Base64.encode(sha256)),
            ("x-amz-sdk-checksum-algorithm", "SHA256"),
            ("content-type", "application/octet-stream"),
        ]
        if let days = configuration.objectLockDays {
            let until = Int64((Date().timeIntervalSince1970 + Double(days) * 86_400) * 1000)
            headers.append(("x-amz-object-lock-mode", "COMPLIANCE"))
            headers.append(("x-amz-object-lock-retain-until-date", ISO8601.format(ms: until)))
        }
        let response = try await send(method: "PUT", key: key, headers: headers, body: body,
                                      payloadSHA256: Hex.encode(sha256))
        try expectSuccess(response, key: key)
        if let returned = response.header("x-amz-checksum-sha256"), returned != Base64.encode(sha256) {
            throw ArchiveError(.integrity, key: key, "S3 answered with a different SHA-256 checksum")
        }
    }

    public func get(key: String) async throws(ArchiveError) -> Data? {
        let response = try await send(method: "GET", key: key)
        if response.status == 404 { return nil }
        try expectSuccess(response, key: key)
        return response.body
    }

    public func head(key: String) async throws(ArchiveError) -> ArchiveObjectInfo? {
        let response = try await send(method: "HEAD", key: key, headers: [("x-amz-checksum-mode", "ENABLED")])
        if response.status == 404 { return nil }
        try expectSuccess(response, key: key)
        guard let length = response.header("content-length").flatMap({ Int64($0) }) else {
            throw ArchiveError(.http, key: key, httpStatus: response.status, "HEAD answer without Content-Length")
        }
        var digest: [UInt8]?
        if let checksum = response.header("x-amz-checksum-sha256"), !checksum.contains("-") {
            digest = try? Base64.decode(checksum)
        }
        return ArchiveObjectInfo(key: key, sizeBytes: length, sha256: digest)
    }

    public func list(prefix: String) async throws(ArchiveError) -> [ArchiveObjectInfo] {
        var found: [ArchiveObjectInfo] = []
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("prefix", configuration.prefix + prefix), ("max-keys", "1000")]
            if let token { query.append(("continuation-token", token)) }
            let response = try await send(method: "GET", key: nil, query: query)
            try expectSuccess(response, key: prefix)
            let xml = String(decoding: response.body, as: UTF8.self)
            for block in S3XML.blocks("Contents", in: xml) {
                guard let fullKey = S3XML.value("Key", in: block), fullKey.hasPrefix(configuration.prefix),
                      let size = S3XML.value("Size", in: block).flatMap({ Int64($0) }) else { continue }
                found.append(ArchiveObjectInfo(key: String(fullKey.dropFirst(configuration.prefix.count)), sizeBytes: size))
            }
            let truncated = S3XML.value("IsTruncated", in: xml[...]) == "true"
            token = truncated ? S3XML.value("NextContinuationToken", in: xml[...]) : nil
        } while token != nil
        return found.sorted { $0.key < $1.key }
    }

    // MARK: Requests

    struct Response: Sendable {
        var status: Int
        var headers: [String: String]
        var body: Data

        func header(_ name: String) -> String? { headers[name.lowercased()] }
    }

    /// The canonical (and sent) path of `key`, or of the bucket for nil.
    func path(forKey key: String?) -> String {
        guard let key else { return bucketPath.isEmpty ? "/" : bucketPath }
        return bucketPath + "/" + SigV4Signer.uriEncode(configuration.prefix + key, keepSlash: true)
    }

    private func send(method: String, key: String?, query: [(String, String)] = [], headers extra: [(String, String)] = [],
                      body: Data? = nil, payloadSHA256: String = SigV4Signer.emptyPayloadSHA256) async throws(ArchiveError) -> Response {
        var attempt = 0
        while true {
            let outcome = await sendOnce(method: method, key: key, query: query, headers: extra, body: body,
                                         payloadSHA256: payloadSHA256)
            let retryable: Bool
            switch outcome {
            case .success(let response):
                retryable = response.status == 429 || response.status == 500 || response.status == 502
                    || response.status == 503 || response.status == 504
                if !retryable || attempt >= 3 { return response }
            case .failure(let error):
                if attempt >= 3 { throw error }
            }
            attempt += 1
            try? await Task.sleep(nanoseconds: UInt64(200_000_000) << (2 * UInt64(attempt - 1)))
        }
    }

    private func sendOnce(method: String, key: String?, query: [(String, String)], headers extra: [(String, String)],
                          body: Data?, payloadSHA256: String) async -> Result<Response, ArchiveError> {
        let amzDate = SigV4Signer.amzDate(ms: SystemClock.nowMs())
        var headers: [(name: String, value: String)] = [("host", hostHeader), ("x-amz-date", amzDate),
                                                         ("x-amz-content-sha256", payloadSHA256)]
        if let token = configuration.credentials.sessionToken { headers.append(("x-amz-security-token", token)) }
        headers += extra.map { (name: $0.0, value: $0.1) }
        let canonicalPath = path(forKey: key)
        let signable = SigV4Signer.Request(method: method, canonicalPath: canonicalPath,
                                           query: query.map { (name: $0.0, value: $0.1) },
                                           headers: headers, payloadSHA256: payloadSHA256)
        let authorization = signer.authorization(signable, amzDate: amzDate)
        let queryText = SigV4Signer.canonicalQuery(signable.query)
        guard let url = URL(string: "\(scheme)://\(hostHeader)\(canonicalPath)" + (queryText.isEmpty ? "" : "?" + queryText)) else {
            return .failure(ArchiveError(.configuration, key: key, "cannot form a URL for this key"))
        }
        if scheme == "http" {
            let bodySizeBytesMax = method == "GET" ? (key == nil ? Self.listingSizeBytesMax : Self.objectSizeBytesMax) : Self.errorSizeBytesMax
            return await sendWithClient(method: method, key: key, target: canonicalPath + (queryText.isEmpty ? "" : "?" + queryText),
                                        headers: headers.filter { $0.name != "host" } + [("authorization", authorization)],
                                        body: body, bodySizeBytesMax: bodySizeBytesMax)
        }
        var request = URLRequest(url: url)
        request.httpMethod = method
        for (name, value) in headers where name != "host" { request.setValue(value, forHTTPHeaderField: name) }
        request.setValue(authorization, forHTTPHeaderField: "Authorization")
        let session = Self.session
        return await withCheckedContinuation { continuation in
            let handler: @Sendable (Data?, URLResponse?, (any Error)?) -> Void = { data, response, error in
                guard let http = response as? HTTPURLResponse else {
                    let reason = error.map { ($0 as NSError).localizedDescription } ?? "no HTTP response"
                    continuation.resume(returning: .failure(ArchiveError(.network, key: key, "\(method) failed: \(reason)")))
                    return
                }
                var fields: [String: String] = [:]
                for (name, value) in http.allHeaderFields {
                    if let name = name as? String, let value = value as? String { fields[name.lowercased()] = value }
                }
                continuation.resume(returning: .success(Response(status: http.statusCode, headers: fields, body: data ?? Data())))
            }
            let task = body.map { session.uploadTask(with: request, from: $0, completionHandler: handler) }
                ?? session.dataTask(with: request, completionHandler: handler)
            task.resume()
        }
    }

    /// One request to an `http://` endpoint through `HTTPClient`.
    private func sendWithClient(method: String, key: String?, target: String, headers: [(name: String, value: String)],
                                body: Data?, bodySizeBytesMax: Int) async -> Result<Response, ArchiveError> {
        let request = HTTPClient.Request(method: method, host: endpointHost, port: endpointPort, hostHeader: hostHeader, target: target,
                                         headers: headers, body: body.map { .data($0) } ?? .bytes([]))
        let reader = HTTPResponseReader(bodyPrefixSizeBytesMax: bodySizeBytesMax, bodySizeBytesMax: bodySizeBytesMax,
                                        keepsHeaders: true, expectsNoBody: method == "HEAD")
        let outcome = await Self.client.send(request, reader: reader, timeoutSeconds: Self.totalTimeoutSeconds,
                                             idleTimeoutSeconds: Self.idleTimeoutSeconds)
        let response = outcome.response
        if let failure = outcome.failure {
            return .failure(ArchiveError(.network, key: key, "\(method) failed: \(Self.describe(failure))"))
        }
        guard let status = response.statusCode else {
            return .failure(ArchiveError(.network, key: key, "\(method) failed: no HTTP response"))
        }
        if !response.keptWholeBody {
            return .failure(ArchiveError(.http, key: key, httpStatus: status,
                                         "\(method) answer larger than \(bodySizeBytesMax) bytes"))
        }
        var fields: [String: String] = [:]
        for field in response.headers where fields[field.name] == nil { fields[field.name] = field.value }
        return .success(Response(status: status, headers: fields, body: Data(response.bodyPrefix)))
    }

    private static func describe(_ failure: HTTPClient.Failure) -> String {
        switch failure {
        case .invalidRequest(let detail): detail
        case .unresolved: "the endpoint's host does not resolve"
        case .timedOut: "no complete response in time"
        case .cancelled: "cancelled"
        case .closed(let detail): "the endpoint closed the connection \(detail)"
        case .network(let detail): detail
        case .malformed(let reason): "malformed response: \(reason)"
        }
    }

    private func expectSuccess(_ response: Response, key: String?) throws(ArchiveError) {
        guard !(200..<300).contains(response.status) else { return }
        let xml = String(decoding: response.body.prefix(16 * 1024), as: UTF8.self)
        let code = S3XML.value("Code", in: xml[...])
        let message = S3XML.value("Message", in: xml[...]) ?? "request failed"
        throw ArchiveError(.http, key: key, httpStatus: response.status, s3Code: code, message)
    }
}
