/// HMAC-SHA256 (RFC 2104).
///
/// The padded inner and outer key blocks are absorbed once at init, so each message costs its
/// own blocks plus two compressions. Keys longer than 64 bytes are hashed first, as the RFC says.
public struct HMACSHA256: Sendable {
    /// Size of an authentication code, in bytes.
    public static let codeByteCount = 32

    private let innerState: SHA256.State
    private let outerState: SHA256.State
    private let implementation: HashImplementation

    /// Prepares HMAC with `key` (any length).
    public init(key: some Sequence<UInt8>) {
        self.init(key: key, implementation: HashImplementation.preferredSHA256)
    }

    /// Prepares HMAC with `key`, hashing with `implementation` (tests pick one explicitly).
    /// - Precondition: `implementation.isAvailable(for: .sha256)`.
    package init(key: some Sequence<UInt8>, implementation: HashImplementation) {
        var keyBytes = Array(key)
        if keyBytes.count > SHA256.blockByteCount {
            var hasher = SHA256(implementation: implementation)
            hasher.update(keyBytes)
            keyBytes = hasher.finalize()
        }
        keyBytes += [UInt8](repeating: 0, count: SHA256.blockByteCount - keyBytes.count)
        var inner = SHA256(implementation: implementation)
        inner.update(keyBytes.map { $0 ^ 0x36 })
        var outer = SHA256(implementation: implementation)
        outer.update(keyBytes.map { $0 ^ 0x5c })
        innerState = inner.chainingState
        outerState = outer.chainingState
        self.implementation = implementation
    }

    /// Starts a streaming computation; call `update` then `finalize` on the result.
    public func makeStream() -> Stream {
        Stream(inner: SHA256(resumingFrom: innerState, messageByteCount: UInt64(SHA256.blockByteCount),
                             implementation: implementation),
               outerState: outerState)
    }

    /// The authentication code of `message`.
    @inlinable
    public func authenticationCode(for message: some Sequence<UInt8>) -> [UInt8] {
        var stream = makeStream()
        stream.update(message)
        return stream.finalize()
    }

    /// The authentication code of the bytes at `buffer`.
    public func authenticationCode(for buffer: UnsafeRawBufferPointer) -> [UInt8] {
        var stream = makeStream()
        stream.update(buffer)
        return stream.finalize()
    }

    /// One-shot HMAC-SHA256 of `message` under `key`.
    public static func authenticationCode(for message: some Sequence<UInt8>, key: some Sequence<UInt8>) -> [UInt8] {
        HMACSHA256(key: key).authenticationCode(for: message)
    }

    /// An HMAC computation in progress.
    public struct Stream: Sendable {
        fileprivate var inner: SHA256
        fileprivate let outerState: SHA256.State

        /// Absorbs more message bytes.
        @inlinable
        public mutating func update(_ bytes: some Sequence<UInt8>) {
            let handled: Void? = bytes.withContiguousStorageIfAvailable { update(UnsafeRawBufferPointer($0)) }
            if handled == nil { Array(bytes).withUnsafeBytes { update($0) } }
        }

        /// Absorbs more message bytes.
        public mutating func update(_ buffer: UnsafeRawBufferPointer) { inner.update(buffer) }

        /// Returns the 32-byte authentication code.
        public consuming func finalize() -> [UInt8] {
            let innerDigest = inner.finalizedState()
            var outer = SHA256(resumingFrom: outerState, messageByteCount: UInt64(SHA256.blockByteCount),
                               implementation: inner.implementation)
            innerDigest.withBigEndianBytes { outer.update($0) }
            return outer.finalize()
        }
    }
}
