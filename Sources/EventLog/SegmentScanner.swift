import SystemIO
/// Reads frames one after another from a segment file through a read-ahead buffer.
///
/// It never trusts the file: every frame is length- and CRC-checked by `RecordFrame.parse`,
/// and an incomplete frame at the end is reported as `.end`, not as data.
struct SegmentScanner {
    enum Step {
        case event(EventRecord, position: Int64, frameSizeBytes: Int)
        case footer(SegmentFooter, position: Int64, frameSizeBytes: Int)
        /// No complete frame at `position`: the end of what is written (or a torn tail).
        case end(position: Int64)
        /// A complete frame at `position` fails its checks.
        case invalid(position: Int64, reason: String)
    }

    let file: FileDescriptor
    /// Current read position in the file, in bytes.
    private(set) var position: Int64
    private var buffer: [UInt8] = []
    private var bufferStart: Int64 = 0

    init(file: FileDescriptor, position: Int64) {
        self.file = file
        self.position = position
    }

    /// Moves to `position` (keeps the buffer when it covers it).
    mutating func seek(to position: Int64) { self.position = position }

    /// Parses the frame at the current position and, unless it is `.end` or `.invalid`, moves past it.
    mutating func next() throws(EventLogError) -> Step {
        var wanted = RecordFrame.headerSizeBytes
        while true {
            let inBuffer = position - bufferStart
            let available = (inBuffer >= 0 && inBuffer <= Int64(buffer.count)) ? buffer.count - Int(inBuffer) : 0
            if available >= wanted {
                let parsed: RecordFrame.Parsed = buffer.withUnsafeBytes { raw in
                    RecordFrame.parse(UnsafeRawBufferPointer(rebasing: raw[Int(inBuffer)...]))
                }
                switch parsed {
                case .event(let record, let size):
                    let start = position
                    position += Int64(size)
                    return .event(record, position: start, frameSizeBytes: size)
                case .footer(let footer, let size):
                    let start = position
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
            // Refill from `position` with at least `wanted` bytes.
            let count = max(EventLogLimits.readChunkSizeBytes, wanted)
            buffer = try systemCall { try file.read(count: count, at: position) }
            bufferStart = position
            if buffer.count < wanted { return .end(position: position) }
        }
    }
}
