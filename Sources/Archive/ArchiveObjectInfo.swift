/// What a target knows about one stored object.
public struct ArchiveObjectInfo: Sendable, Equatable {
    /// The key, relative to the target's prefix, such as `segments/00000000000000000000.log`.
    public var key: String
    /// Size in bytes.
    public var sizeBytes: Int64
    /// SHA-256 of the content (32 bytes) when the target stores or reports it (S3 with a checksum); nil otherwise.
    public var sha256: [UInt8]?

    public init(key: String, sizeBytes: Int64, sha256: [UInt8]? = nil) {
        self.key = key
        self.sizeBytes = sizeBytes
        self.sha256 = sha256
    }
}
