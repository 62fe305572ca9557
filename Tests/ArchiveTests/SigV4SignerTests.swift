import Crypto
import Testing
@testable import Archive

/// The examples published in the AWS Signature Version 4 documentation (S3 "Examples: Signature
/// Calculations in AWS Signature Version 4" and the general "derive a signing key" example).
struct SigV4SignerTests {
    static let s3Credentials = S3Credentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE",
                                             secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    static let signer = SigV4Signer(credentials: s3Credentials, region: "us-east-1", service: "s3")
    static let date = "20130524T000000Z"
    static let host = ("host", "examplebucket.s3.amazonaws.com")
    static let empty = SigV4Signer.emptyPayloadSHA256

    @Test func derivedSigningKeyMatchesTheGeneralExample() {
        let key = SigV4Signer.signingKey(secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                         date: "20120215", region: "us-east-1", service: "iam")
        #expect(Hex.encode(key) == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d")
    }

    @Test func getObjectWithRange() {
        let request = SigV4Signer.Request(
            method: "GET", canonicalPath: "/test.txt",
            headers: [Self.host, ("Range", "bytes=0-9"), ("x-amz-content-sha256", Self.empty), ("x-amz-date", Self.date)],
            payloadSHA256: Self.empty)
        let canonical = SigV4Signer.canonicalRequest(request)
        #expect(canonical.text == """
            GET
            /test.txt

            host:examplebucket.s3.amazonaws.com
            range:bytes=0-9
            x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            x-amz-date:20130524T000000Z

            host;range;x-amz-content-sha256;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
        #expect(Self.signer.stringToSign(canonicalRequest: canonical.text, amzDate: Self.date) == """
            AWS4-HMAC-SHA256
            20130524T000000Z
            20130524/us-east-1/s3/aws4_request
            7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972
            """)
        #expect(Self.signer.signature(request, amzDate: Self.date) == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        #expect(Self.signer.authorization(request, amzDate: Self.date) ==
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    @Test func putObject() {
        let payload = Hex.encode(SHA256.hash(Array("Welcome to Amazon S3.".utf8)))
        #expect(payload == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        let request = SigV4Signer.Request(
            method: "PUT", canonicalPath: "/" + SigV4Signer.uriEncode("test$file.text", keepSlash: true),
            headers: [Self.host, ("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-date", Self.date),
                      ("x-amz-storage-class", "REDUCED_REDUNDANCY"), ("x-amz-content-sha256", payload)],
            payloadSHA256: payload)
        #expect(request.canonicalPath == "/test%24file.text")
        #expect(Self.signer.signature(request, amzDate: Self.date) == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
    }

    @Test func getBucketLifecycle() {
        let request = SigV4Signer.Request(
            method: "GET", canonicalPath: "/", query: [("lifecycle", "")],
            headers: [Self.host, ("x-amz-date", Self.date), ("x-amz-content-sha256", Self.empty)], payloadSHA256: Self.empty)
        #expect(SigV4Signer.canonicalQuery(request.query) == "lifecycle=")
        #expect(Self.signer.signature(request, amzDate: Self.date) == "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
    }

    @Test func listObjectsSortsTheQuery() {
        let request = SigV4Signer.Request(
            method: "GET", canonicalPath: "/", query: [("prefix", "J"), ("max-keys", "2")],
            headers: [Self.host, ("x-amz-date", Self.date), ("x-amz-content-sha256", Self.empty)], payloadSHA256: Self.empty)
        #expect(SigV4Signer.canonicalQuery(request.query) == "max-keys=2&prefix=J")
        #expect(Self.signer.signature(request, amzDate: Self.date) == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    }

    @Test func uriEncoding() {
        #expect(SigV4Signer.uriEncode("a b/c~d._-*", keepSlash: false) == "a%20b%2Fc~d._-%2A")
        #expect(SigV4Signer.uriEncode("prefix/segments/0001.log", keepSlash: true) == "prefix/segments/0001.log")
        #expect(SigV4Signer.uriEncode("é", keepSlash: true) == "%C3%A9")
        #expect(SigV4Signer.canonicalQuery([("continuation-token", "1/a+b="), ("list-type", "2")])
            == "continuation-token=1%2Fa%2Bb%3D&list-type=2")
    }

    @Test func headerValuesAreTrimmedAndCollapsed() {
        let request = SigV4Signer.Request(method: "GET", canonicalPath: "/",
                                          headers: [("X-Custom", "  a   b  "), ("x-custom", "c"), ("Host", "h")],
                                          payloadSHA256: Self.empty)
        let canonical = SigV4Signer.canonicalRequest(request)
        #expect(canonical.text.contains("\nhost:h\nx-custom:a b,c\n"))
        #expect(canonical.signedHeaders == "host;x-custom")
    }

    @Test func amzDateAndCredentialsNeverPrintTheSecret() throws {
        #expect(SigV4Signer.amzDate(ms: 1_369_353_600_000) == "20130524T000000Z")
        #expect(!String(describing: Self.s3Credentials).contains("wJalr"))
        #expect(throws: ArchiveError.self) { try S3Credentials.fromEnvironment([:]) }
        let credentials = try S3Credentials.fromEnvironment(["AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "s",
                                                             "AWS_SESSION_TOKEN": "t"])
        #expect(credentials.sessionToken == "t")
    }

    @Test func s3ErrorsCarryContextButNoSecrets() {
        let error = ArchiveError(.http, key: "segments/x.log", httpStatus: 403, s3Code: "SignatureDoesNotMatch", "denied")
        #expect(error.description == "archive http error for segments/x.log (HTTP 403, SignatureDoesNotMatch): denied")
    }

    @Test func targetURLs() throws {
        let environment = ["AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_REGION": "eu-west-1"]
        let s3 = try #require(try ArchiveTargets.make(url: "s3://bucket/some/prefix", environment: environment) as? S3Target)
        #expect(s3.configuration.prefix == "some/prefix/")
        #expect(s3.configuration.region == "eu-west-1")
        #expect(s3.location == "s3://bucket/some/prefix/")
        #expect(s3.path(forKey: "segments/a b.log") == "/some/prefix/segments/a%20b.log")
        let local = try #require(try ArchiveTargets.make(url: "s3://b/p/", endpoint: "http://127.0.0.1:9000", region: "us-east-1",
                                                         environment: environment) as? S3Target)
        #expect(local.path(forKey: "k") == "/b/p/k")
        #expect(local.path(forKey: nil) == "/b")
        #expect(try ArchiveTargets.make(url: "file:///tmp/x", environment: [:]) is DirectoryTarget)
        #expect(throws: ArchiveError.self) { try ArchiveTargets.make(url: "file://relative", environment: [:]) }
        #expect(throws: ArchiveError.self) { try ArchiveTargets.make(url: "file:///x", objectLockDays: 3, environment: [:]) }
        #expect(throws: ArchiveError.self) { try ArchiveTargets.make(url: "ftp://x", environment: [:]) }
        #expect(throws: ArchiveError.self) { try ArchiveTargets.make(url: "s3://b/p", environment: [:]) }
    }
}
