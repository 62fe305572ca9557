import Crypto

/// AWS Signature Version 4 (header form, `AWS4-HMAC-SHA256`), as pure functions: canonical request,
/// string to sign, signing key and `Authorization` header. No clock and no I/O: the caller passes the
/// request time, so published examples can be reproduced exactly.
///
/// The payload is always signed: `x-amz-content-sha256` carries the hex SHA-256 of the body
/// (`UNSIGNED-PAYLOAD` is never used).
public struct SigV4Signer: Sendable {
    /// The parts of a request that enter the signature.
    public struct Request: Sendable {
        /// `GET`, `PUT`, `HEAD`, ...
        public var method: String
        /// The URI path exactly as sent, already percent-encoded (S3 does not encode it twice), e.g. `/test%24file.text`.
        package var canonicalPath: String
        /// Query parameters, not yet encoded; a parameter without value has an empty string.
        public var query: [(name: String, value: String)]
        /// Headers to sign (`host` and every `x-amz-*` at least); names in any case.
        public var headers: [(name: String, value: String)]
        /// Lowercase hex SHA-256 of the body (the empty body's for none).
        package var payloadSHA256: String

        public init(method: String, canonicalPath: String, query: [(name: String, value: String)] = [],
                    headers: [(name: String, value: String)], payloadSHA256: String) {
            self.method = method
            self.canonicalPath = canonicalPath
            self.query = query
            self.headers = headers
            self.payloadSHA256 = payloadSHA256
        }
    }

    /// Hex SHA-256 of the empty string, the payload hash of a request without a body.
    package static let emptyPayloadSHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// The key pair (and session token) that signs.
    public let credentials: S3Credentials
    /// Such as `us-east-1`.
    public let region: String
    /// Such as `s3`.
    public let service: String

    public init(credentials: S3Credentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// `UriEncode` of the SigV4 specification: every byte except `A-Z a-z 0-9 - _ . ~` becomes `%XX`
    /// (uppercase hex); `/` is kept when `keepSlash` (object key paths) and encoded otherwise.
    package static func uriEncode(_ text: String, keepSlash: Bool) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                 UInt8(ascii: "~"):
                output.append(byte)
            case UInt8(ascii: "/") where keepSlash:
                output.append(byte)
            default:
                output += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The canonical query string: each name and value URI-encoded, sorted by name then value, joined by `&`.
    package static func canonicalQuery(_ query: [(name: String, value: String)]) -> String {
        query.map { (uriEncode($0.name, keepSlash: false), uriEncode($0.value, keepSlash: false)) }
            .sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// The canonical request and the `SignedHeaders` list.
    /// Header names are lowercased and sorted, values trimmed with inner runs of spaces collapsed, and
    /// repeated headers joined with commas.
    package static func canonicalRequest(_ request: Request) -> (text: String, signedHeaders: String) {
        var merged: [String: [String]] = [:]
        for (name, value) in request.headers {
            let collapsed = value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            merged[name.lowercased(), default: []].append(collapsed.trimmingASCIIWhitespace())
        }
        let names = merged.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(merged[$0, default: []].joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")
        let text = [request.method, request.canonicalPath, canonicalQuery(request.query), canonicalHeaders,
                    signedHeaders, request.payloadSHA256].joined(separator: "\n")
        return (text, signedHeaders)
    }

    /// `YYYYMMDD/region/service/aws4_request`.
    public func scope(amzDate: String) -> String {
        "\(amzDate.prefix(8))/\(region)/\(service)/aws4_request"
    }

    /// The string to sign for a canonical request made at `amzDate` (`YYYYMMDD'T'HHMMSS'Z'`).
    package func stringToSign(canonicalRequest: String, amzDate: String) -> String {
        ["AWS4-HMAC-SHA256", amzDate, scope(amzDate: amzDate),
         Hex.encode(SHA256.hash(Array(canonicalRequest.utf8)))].joined(separator: "\n")
    }

    /// The signing key: HMAC chain of `AWS4` + secret over the date (`YYYYMMDD`), region, service and
    /// `aws4_request` (32 bytes).
    public static func signingKey(secretAccessKey: String, date: String, region: String, service: String) -> [UInt8] {
        let dateKey = HMACSHA256.authenticationCode(for: Array(date.utf8), key: Array(("AWS4" + secretAccessKey).utf8))
        let regionKey = HMACSHA256.authenticationCode(for: Array(region.utf8), key: dateKey)
        let serviceKey = HMACSHA256.authenticationCode(for: Array(service.utf8), key: regionKey)
        return HMACSHA256.authenticationCode(for: Array("aws4_request".utf8), key: serviceKey)
    }

    /// The hex signature of `request` made at `amzDate`.
    public func signature(_ request: Request, amzDate: String) -> String {
        let canonical = Self.canonicalRequest(request)
        let key = Self.signingKey(secretAccessKey: credentials.secretAccessKey, date: String(amzDate.prefix(8)),
                                  region: region, service: service)
        let toSign = stringToSign(canonicalRequest: canonical.text, amzDate: amzDate)
        return Hex.encode(HMACSHA256.authenticationCode(for: Array(toSign.utf8), key: key))
    }

    /// The `Authorization` header value for `request` made at `amzDate`.
    public func authorization(_ request: Request, amzDate: String) -> String {
        let signedHeaders = Self.canonicalRequest(request).signedHeaders
        return "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope(amzDate: amzDate)),"
            + "SignedHeaders=\(signedHeaders),Signature=\(signature(request, amzDate: amzDate))"
    }

    /// `YYYYMMDD'T'HHMMSS'Z'` for a time in ms since 1970 (UTC).
    package static func amzDate(ms: Int64) -> String {
        let iso = ISO8601.format(ms: ms)   // 2013-05-24T00:00:00Z
        return iso.filter { $0 != "-" && $0 != ":" }
    }
}

extension String {
    /// Without leading and trailing spaces, tabs and line breaks.
    func trimmingASCIIWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
