import Crypto
import SystemIO

/// Reads frames one after another from a segment file through a read-ahead buffer. Reading on from
/// where the last frame ended never reads a byte twice (a frame split by the buffer end is kept).
///
/// It never trusts the file: every frame is length- and CRC-checked by `RecordFrame.parse`,
/// and an incomplete frame at the end is reported as `.end`, not as data.
struct SegmentScanner: Sendable {
    enum Step: Sendable {
        case event(EventRecord, position: Int64, frameSizeBytes: Int)
        case footer(SegmentFooter, position: Int64, frameSizeBytes: Int)
        /// No complete frame at `position`: the end of what is written (or a torn tail).
        case end(position: Int64)
        /// A complete frame at `position` fails its checks.
        case invalid(position: Int64, reason: String)
        /// Eight zero bytes where a frame would start, read fresh from the file: the writer's zero-filled
        /// space ahead of the last record (`EventLogOptions.preallocationSizeBytes`), so the end of what is
        /// written. Whether only zeros follow is for the caller to check where it matters (recovery).
        case unwritten(position: Int64)
    }

    let file: FileDescriptor
    /// Current read position in the file, in bytes.
    private(set) var position: Int64
    private var buffer: [UInt8] = []
    private var bufferStart: Int64 = 0
    /// When set, every frame `next()` returns (events and footers) is absorbed into it, from the buffer
    /// the frame was parsed from: a running SHA-256 of the file without a second read.
    var digest: SHA256?
    /// When set, nothing at or past this file position is read (the active segment's durable size, so a
    /// reader at the head does not copy the zero-filled space ahead of it on every poll).
    var endBytes: Int64?

    init(file: FileDescriptor, position: Int64, digest: SHA256? = nil) {
        self.file = file
        self.position = position
        self.digest = digest
    }

    /// Moves to `position` (keeps the buffer when it covers it).
    mutating func seek(to position: Int64) { self.position = position }

    /// Parses the frame at the current position and, unless it is `.end`, `.invalid` or `.unwritten`, moves past it.
    mutating func next() throws(EventLogError) -> Step {
        var wanted = RecordFrame.headerSizeBytes
        // Zeros in the buffer may be stale (read before the writer filled them): they count only when read now.
        var readNow = false
        while true {
            let inBuffer = position - bufferStart
            let available = (inBuffer >= 0 && inBuffer <= Int64(buffer.count)) ? buffer.count - Int(inBuffer) : 0
            if available >= RecordFrame.headerSizeBytes, Self.isZeroHeader(buffer, at: Int(inBuffer)) {
                if readNow { return .unwritten(position: position) }
                buffer = []
                bufferStart = position
                wanted = RecordFrame.headerSizeBytes
                readNow = true
                continue
            }
            if available >= wanted {
                let parsed: RecordFrame.Parsed = buffer.withUnsafeBytes { raw in
                    RecordFrame.parse(UnsafeRawBufferPointer(rebasing: raw[Int(inBuffer)...]))
                }
                switch parsed {
                case .event(let record, let size):
                    let start = position
                    absorb(from: Int(inBuffer), count: size)
                    position += Int64(size)
                    return .event(record, position: start, frameSizeBytes: size)
                case .footer(let footer, let size):
                    let start = position
                    absorb(from: Int(inBuffer), count: size)
                    position += Int64(size)
                    return .footer(footer, position: start, frameSizeBytes: size)
                case .invalid(let reason):
                    return .invalid(position: position, reason: reason)
                case .incomplete:
                    let needed = buffer.withUnsafeBytes { raw -> Int in
                        let frame = UnsafeRawBufferPointer(rebasing: raw[Int(inBuffer)...])
                        return frame.count >= RecordFrame.headerSizeBytes
                            ? RecordFrame.headerSizeBytes + Int(frame.uint32(at: 0)) : RecordFrame.headerSizeBytes
                    }
                    if needed <= available { return .end(position: position) }
                    wanted = needed
                }
            }
            // Refill from `position` with at least `wanted` bytes, keeping what the buffer already holds from there.
            let kept = (inBuffer >= 0 && inBuffer <= Int64(buffer.count)) ? buffer.count - Int(inBuffer) : 0
            var count = max(EventLogLimits.readChunkSizeBytes, wanted)
            if let endBytes {
                let readable = endBytes - position
                if readable < Int64(wanted) { return .end(position: position) }
                count = Int(min(Int64(count), readable))
            }
            var refilled = [UInt8](repeating: 0, count: count)
            let keptStart = buffer.count - kept
            let reading = refilled.withUnsafeMutableBytes { destination in
                if kept > 0 {
                    buffer.withUnsafeBytes { source in
                        destination.baseAddress.unsafelyUnwrapped.copyMemory(
                            from: source.baseAddress.unsafelyUnwrapped + keptStart, byteCount: kept)
                    }
                }
                return Result { () throws(SystemError) in
                    try file.read(into: UnsafeMutableRawBufferPointer(rebasing: destination[kept...]), at: position + Int64(kept))
                }
            }
            let got = try systemCall { try reading.get() }
            if kept + got < count { refilled.removeLast(count - kept - got) }
            buffer = refilled
            bufferStart = position
            readNow = true
            if buffer.count < wanted { return .end(position: position) }
        }
    }

    private static func isZeroHeader(_ buffer: [UInt8], at start: Int) -> Bool {
        buffer.withUnsafeBytes { raw in raw.loadUnaligned(fromByteOffset: start, as: UInt64.self) == 0 }
    }

    private mutating func absorb(from start: Int, count: Int) {
        guard digest != nil else { return }
        buffer.withUnsafeBytes { digest?.update(UnsafeRawBufferPointer(rebasing: $0[start..<(start + count)])) }
    }
}
