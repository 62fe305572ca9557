/// AWS credentials for S3 requests. Printing one shows the access key id only.
public struct S3Credentials: Sendable, CustomStringConvertible {
    /// `AWS_ACCESS_KEY_ID`.
    package var accessKeyID: String
    /// `AWS_SECRET_ACCESS_KEY`; never printed or put in an error.
    package var secretAccessKey: String
    /// `AWS_SESSION_TOKEN` for temporary credentials, sent as `x-amz-security-token`.
    package var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// Reads `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN` from `environment`.
    /// - Throws: `ArchiveError.configuration` when the key id or the secret is missing or empty.
    package static func fromEnvironment(_ environment: [String: String]) throws(ArchiveError) -> S3Credentials {
        guard let id = environment["AWS_ACCESS_KEY_ID"], !id.isEmpty,
              let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty else {
            throw ArchiveError(.configuration, "S3 needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment")
        }
        let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        return S3Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: token)
    }

    public var description: String { "S3Credentials(\(accessKeyID), secret redacted)" }
}
