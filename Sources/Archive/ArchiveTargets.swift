/// Makes a target from the command-line form: `file:///DIR` or `s3://BUCKET/PREFIX`.
public enum ArchiveTargets {
    /// The region used when neither `--region` nor `AWS_REGION` is set.
    package static let defaultRegion = "us-east-1"

    /// Parses `url` and builds its target.
    /// - Parameters:
    ///   - endpoint: `--s3-endpoint` (path-style addressing); S3 only.
    ///   - region: `--region`, else `AWS_REGION`, else `us-east-1`; S3 only.
    ///   - objectLockDays: Object Lock `COMPLIANCE` retention for every object; S3 only.
    ///   - environment: where `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION` come from.
    /// - Throws: `ArchiveError.configuration` for a malformed URL, missing credentials or an option the
    ///   target type does not support.
    public static func make(url: String, endpoint: String? = nil, region: String? = nil, objectLockDays: Int? = nil,
                            environment: [String: String]) throws(ArchiveError) -> any ArchiveTarget {
        if url.hasPrefix("file://") {
            let path = String(url.dropFirst("file://".count))
            guard path.hasPrefix("/"), path.count > 1 else {
                throw ArchiveError(.configuration, "a directory target is file:///ABSOLUTE/PATH")
            }
            guard endpoint == nil, objectLockDays == nil else {
                throw ArchiveError(.configuration, "--s3-endpoint and --object-lock-days apply to s3:// targets only")
            }
            return DirectoryTarget(root: path.removingPercentEncodingIfPossible())
        }
        if url.hasPrefix("s3://") {
            let rest = url.dropFirst("s3://".count)
            let bucket = String(rest.prefix { $0 != "/" })
            let prefix = String(rest.dropFirst(bucket.count).drop { $0 == "/" })
            guard !bucket.isEmpty else { throw ArchiveError(.configuration, "an S3 target is s3://BUCKET/PREFIX") }
            if let objectLockDays, objectLockDays < 1 {
                throw ArchiveError(.configuration, "--object-lock-days must be at least 1")
            }
            let configuration = S3Target.Configuration(
                bucket: bucket, prefix: prefix,
                region: region ?? environment["AWS_REGION"].flatMap { $0.isEmpty ? nil : $0 } ?? defaultRegion,
                endpoint: endpoint, objectLockDays: objectLockDays,
                credentials: try S3Credentials.fromEnvironment(environment))
            return try S3Target(configuration: configuration)
        }
        throw ArchiveError(.configuration, "--target must be file:///DIR or s3://BUCKET/PREFIX")
    }
}

extension String {
    /// `%XX` sequences decoded when the result is valid UTF-8; the text unchanged otherwise.
    func removingPercentEncodingIfPossible() -> String {
        guard contains("%") else { return self }
        var bytes: [UInt8] = []
        var iterator = utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
               let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) {
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self) ?? self
    }
}
