/// Little-endian encoding into a growing byte array.
struct ByteWriter {
    var bytes: [UInt8]

    init(capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    mutating func append(_ value: UInt8) { bytes.append(value) }

    mutating func append(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
    }

    mutating func append(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func append(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func append(_ value: Int64) { append(UInt64(bitPattern: value)) }

    mutating func append(contentsOf other: some Sequence<UInt8>) { bytes.append(contentsOf: other) }

    /// Overwrites `replacement.count` bytes from `position` (which must already be written).
    mutating func replace(at position: Int, with replacement: [UInt8]) {
        bytes.replaceSubrange(position..<(position + replacement.count), with: replacement)
    }

    /// Overwrites four bytes at `position` with `value`.
    mutating func set(_ value: UInt32, at position: Int) {
        bytes[position] = UInt8(truncatingIfNeeded: value)
        bytes[position + 1] = UInt8(truncatingIfNeeded: value >> 8)
        bytes[position + 2] = UInt8(truncatingIfNeeded: value >> 16)
        bytes[position + 3] = UInt8(truncatingIfNeeded: value >> 24)
    }
}

/// Little-endian reads from raw memory; callers check bounds first.
extension UnsafeRawBufferPointer {
    func uint16(at position: Int) -> UInt16 {
        UInt16(littleEndian: loadUnaligned(fromByteOffset: position, as: UInt16.self))
    }

    func uint32(at position: Int) -> UInt32 {
        UInt32(littleEndian: loadUnaligned(fromByteOffset: position, as: UInt32.self))
    }

    func uint64(at position: Int) -> UInt64 {
        UInt64(littleEndian: loadUnaligned(fromByteOffset: position, as: UInt64.self))
    }

    func int64(at position: Int) -> Int64 { Int64(bitPattern: uint64(at: position)) }
}
