/// A hash fed in chunks (SHA-256, SHA-512): the entry points every such hash offers, written once.
public protocol StreamingHash {
    /// A hasher in the initial state.
    init()
    /// Absorbs the bytes at `buffer`; may be called any number of times with chunks of any size.
    mutating func update(_ buffer: UnsafeRawBufferPointer)
    /// The digest of everything absorbed (the hasher is used up).
    consuming func finalize() -> [UInt8]
}

extension StreamingHash {
    /// Hashes `bytes` in one call.
    @inlinable
    public static func hash(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var hasher = Self()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// Hashes the bytes at `buffer` in one call.
    @inlinable
    public static func hash(_ buffer: UnsafeRawBufferPointer) -> [UInt8] {
        var hasher = Self()
        hasher.update(buffer)
        return hasher.finalize()
    }

    /// Absorbs `bytes`; may be called any number of times with chunks of any size. Inlinable so callers
    /// with an array reach the buffer path without generic dispatch.
    @inlinable
    public mutating func update(_ bytes: some Sequence<UInt8>) {
        let handled: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            update(UnsafeRawBufferPointer(buffer))
        }
        if handled == nil {
            let copy = Array(bytes)
            copy.withUnsafeBytes { update($0) }
        }
    }
}
