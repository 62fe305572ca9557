/// The block feeding SHA-256 and SHA-512 share (FIPS 180-4 section 5): input fills the partial block
/// first, whole blocks are compressed straight from the input, the rest waits for more. Each hash keeps
/// its own storage for the partial block and its own compression function.
protocol BlockHashing {
    /// Size of one compression block, in bytes.
    static var blockByteCount: Int { get }
    /// Bytes waiting in the partial block.
    var pendingByteCount: Int { get set }
    /// Total message length so far, in bytes.
    var messageByteCount: UInt64 { get set }
    /// Copies `count` bytes from `source` into the partial block at `offset` (`offset + count` fits a block).
    mutating func storePending(from source: UnsafeRawPointer, count: Int, at offset: Int)
    /// Compresses the partial block, which is full.
    mutating func compressPending()
    /// Compresses `blockCount` whole blocks at `blocks`.
    mutating func compress(blocks: UnsafeRawPointer, blockCount: Int)
}

extension BlockHashing {
    /// Absorbs the bytes at `buffer`. Inlined into each hash's `update`, so it is specialised to that hash's
    /// storage and compression (no dynamic dispatch in the hashing path).
    @inline(__always)
    mutating func absorb(_ buffer: UnsafeRawBufferPointer) {
        guard var base = buffer.baseAddress, buffer.count > 0 else { return }
        var remaining = buffer.count
        messageByteCount &+= UInt64(remaining)
        if pendingByteCount > 0 {
            let taken = min(remaining, Self.blockByteCount - pendingByteCount)
            storePending(from: base, count: taken, at: pendingByteCount)
            pendingByteCount += taken
            base += taken
            remaining -= taken
            guard pendingByteCount == Self.blockByteCount else { return }
            compressPending()
            pendingByteCount = 0
        }
        let blockCount = remaining / Self.blockByteCount
        if blockCount > 0 {
            compress(blocks: base, blockCount: blockCount)
            base += blockCount * Self.blockByteCount
            remaining -= blockCount * Self.blockByteCount
        }
        if remaining > 0 {
            storePending(from: base, count: remaining, at: 0)
            pendingByteCount = remaining
        }
    }
}
