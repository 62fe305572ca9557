#if canImport(Glibc)
import Glibc
#endif

/// A growable byte buffer with a consumed prefix: bytes are appended at the end (or received
/// straight into the spare tail) and consumed from the front without shifting each time.
struct ByteQueue {
    private var storage: [UInt8] = []
    private var start = 0
    private var end = 0

    /// Unconsumed bytes.
    var count: Int { end - start }
    var isEmpty: Bool { start == end }
    /// Allocated bytes.
    var capacityBytes: Int { storage.count }

    /// Drops `byteCount` bytes from the front.
    mutating func consume(_ byteCount: Int) {
        start += byteCount
        if start == end {
            start = 0
            end = 0
        }
    }

    /// Drops everything, keeping the allocation unless it exceeds `keepingBytesMax`.
    mutating func removeAll(keepingBytesMax: Int) {
        start = 0
        end = 0
        if storage.count > keepingBytesMax { storage = [] }
    }

    /// Makes room for at least `byteCount` bytes after the end, moving bytes to the front or
    /// growing (doubling) as needed.
    mutating func reserveTail(_ byteCount: Int) {
        if storage.count - end >= byteCount { return }
        let live = end - start
        if start > 0, storage.count - live >= byteCount {
            storage.withUnsafeMutableBytes { raw in
                if let base = raw.baseAddress, live > 0 { memmove(base, base + start, live) }
            }
            start = 0
            end = live
            return
        }
        var newCapacity = max(storage.count, 4096)
        while newCapacity - live < byteCount { newCapacity *= 2 }
        var grown = [UInt8](repeating: 0, count: newCapacity)
        if live > 0 {
            grown.withUnsafeMutableBytes { target in
                storage.withUnsafeBytes { source in
                    if let targetBase = target.baseAddress, let sourceBase = source.baseAddress {
                        memcpy(targetBase, sourceBase + start, live)
                    }
                }
            }
        }
        storage = grown
        start = 0
        end = live
    }

    /// Lets `body` fill the spare tail (call ``reserveTail(_:)`` first); it returns how many
    /// bytes it wrote (negative or zero: none).
    mutating func fillTail(_ body: (UnsafeMutableRawBufferPointer) -> Int) -> Int {
        let end = self.end
        let written = storage.withUnsafeMutableBytes { raw in
            body(UnsafeMutableRawBufferPointer(rebasing: raw[end...]))
        }
        if written > 0 { self.end += written }
        return written
    }

    /// Appends `bytes`.
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0, let source = bytes.baseAddress else { return }
        reserveTail(bytes.count)
        let end = self.end
        storage.withUnsafeMutableBytes { raw in
            if let base = raw.baseAddress { memcpy(base + end, source, bytes.count) }
        }
        self.end += bytes.count
    }

    /// Appends `bytes`.
    mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// Appends the UTF-8 of `string`.
    mutating func append(_ string: String) {
        var string = string
        string.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    /// Calls `body` with the unconsumed bytes.
    func withUnconsumedBytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        storage.withUnsafeBufferPointer { buffer in
            body(UnsafeBufferPointer(rebasing: buffer[start..<end]))
        }
    }
}
