import WebhookSigning
#if canImport(Glibc)
import Glibc
#endif

/// A message between the server and its delivery worker process (`argus-events delivery-worker`), on the
/// worker's standard input (requests, cancellations) and standard output (results).
///
/// ```
///  0        4      5          13
///  +--------+------+----------+---------------------------------------------+
///  | length | kind | id       | payload (length - 9 bytes)                  |
///  | u32 BE | u8   | u64 BE   |                                             |
///  +--------+------+----------+---------------------------------------------+
///  request (1): timeout f64 bits u64 | url str | header count u16 | (name str, value str)* | body bytes
///  cancel  (2): (empty)
///  result  (3): status i32 (-1: none) | failure u8 (0 none, 1 closed, 2 timed out, 3 network)
///               | error opt-str | retry-after opt-str | duration f64 bits u64 | body prefix bytes
///  str / bytes: u32 BE length + bytes; opt-str: u8 0 (absent) or 1 + str
/// ```
/// `length` counts kind, id and payload, at most `sizeBytesMax`.
enum WorkerFrame: Sendable, Equatable {
    case request(id: UInt64, url: String, headers: [HeaderField], body: [UInt8], timeoutSeconds: Double)
    case cancel(id: UInt64)
    case result(id: UInt64, TransportResult)

    /// Largest frame (kind, id and payload), in bytes: an event's envelope and its headers fit well inside.
    static let sizeBytesMax = 16 << 20
    static let headerCountMax = 256

    struct Malformed: Error, Equatable, CustomStringConvertible {
        let reason: String
        var description: String { "malformed worker frame: \(reason)" }
    }

    // MARK: - Encoding

    /// The frame's bytes.
    /// - Throws: `Malformed` for a request with more than `headerCountMax` headers (never cut silently).
    func encoded() throws(Malformed) -> [UInt8] {
        var payload: [UInt8] = []
        let kind: UInt8
        let id: UInt64
        switch self {
        case .request(let requestID, let url, let headers, let body, let timeoutSeconds):
            kind = 1
            id = requestID
            Self.put(timeoutSeconds.bitPattern, into: &payload)
            Self.put(Array(url.utf8), into: &payload)
            guard headers.count <= Self.headerCountMax else {
                throw Malformed(reason: "\(headers.count) headers, at most \(Self.headerCountMax)")
            }
            Self.put(UInt16(headers.count), into: &payload)
            for field in headers {
                Self.put(Array(field.name.utf8), into: &payload)
                Self.put(Array(field.value.utf8), into: &payload)
            }
            Self.put(body, into: &payload)
        case .cancel(let requestID):
            kind = 2
            id = requestID
        case .result(let requestID, let result):
            kind = 3
            id = requestID
            Self.put(UInt32(bitPattern: Int32(clamping: result.statusCode ?? -1)), into: &payload)
            payload.append(Self.code(of: result.failure))
            Self.putOptional(result.error, into: &payload)
            Self.putOptional(result.retryAfter, into: &payload)
            Self.put(result.durationMs.bitPattern, into: &payload)
            Self.put(result.bodyPrefix, into: &payload)
        }
        var frame: [UInt8] = []
        frame.reserveCapacity(13 + payload.count)
        Self.put(UInt32(9 + payload.count), into: &frame)
        frame.append(kind)
        Self.put(id, into: &frame)
        frame += payload
        return frame
    }

    private static func code(of failure: TransportFailure?) -> UInt8 {
        switch failure {
        case nil: 0
        case .connectionClosed: 1
        case .timedOut: 2
        case .networkError: 3
        }
    }

    private static func put<T: FixedWidthInteger>(_ value: T, into bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { bytes += $0 }
    }

    private static func put(_ data: [UInt8], into bytes: inout [UInt8]) {
        put(UInt32(data.count), into: &bytes)
        bytes += data
    }

    private static func putOptional(_ text: String?, into bytes: inout [UInt8]) {
        guard let text else {
            bytes.append(0)
            return
        }
        bytes.append(1)
        put(Array(text.utf8), into: &bytes)
    }

    // MARK: - Decoding

    /// Reads frames from `descriptor` (blocking: call it on a thread of its own) until the end of the stream,
    /// handing each to `body`. Returns the reason when a malformed frame stopped it, nil at the end.
    static func readAll(from descriptor: Int32, _ body: (WorkerFrame) -> Void) -> Malformed? {
        var decoder = Decoder()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 1)
        defer { buffer.deallocate() }
        while true {
            let count = read(descriptor, buffer.baseAddress, buffer.count)
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return nil }
            decoder.append(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            do {
                while let frame = try decoder.next() { body(frame) }
            } catch {
                return error
            }
        }
    }

    /// Reads frames from a byte stream that arrives in pieces.
    struct Decoder {
        private var buffer: [UInt8] = []
        private var start = 0

        mutating func append(_ bytes: UnsafeRawBufferPointer) {
            if start > 0, start == buffer.count {
                buffer.removeAll(keepingCapacity: true)
                start = 0
            }
            buffer += bytes
        }

        /// The next complete frame, or nil when more bytes are needed.
        /// - Throws: `Malformed` (the stream cannot be read further).
        mutating func next() throws(Malformed) -> WorkerFrame? {
            guard buffer.count - start >= 4 else { return nil }
            let length = Int(buffer[start]) << 24 | Int(buffer[start + 1]) << 16 | Int(buffer[start + 2]) << 8 | Int(buffer[start + 3])
            guard length >= 9, length <= WorkerFrame.sizeBytesMax else { throw Malformed(reason: "length \(length)") }
            guard buffer.count - start >= 4 + length else { return nil }
            var reader = Reader(bytes: buffer[(start + 4)..<(start + 4 + length)])
            start += 4 + length
            if start > 1 << 20, start * 2 > buffer.count {
                buffer.removeFirst(start)
                start = 0
            }
            return try reader.frame()
        }
    }

    private struct Reader {
        var bytes: ArraySlice<UInt8>

        mutating func frame() throws(Malformed) -> WorkerFrame {
            let kind = try byte()
            let id = try integer(UInt64.self)
            let frame: WorkerFrame
            switch kind {
            case 1:
                let timeout = Double(bitPattern: try integer(UInt64.self))
                guard timeout.isFinite, timeout > 0 else { throw Malformed(reason: "timeout") }
                let url = try text()
                let count = Int(try integer(UInt16.self))
                guard count <= WorkerFrame.headerCountMax else { throw Malformed(reason: "header count") }
                var headers: [HeaderField] = []
                for _ in 0..<count { headers.append(HeaderField(name: try text(), value: try text())) }
                frame = .request(id: id, url: url, headers: headers, body: try data(), timeoutSeconds: timeout)
            case 2:
                frame = .cancel(id: id)
            case 3:
                let status = Int32(bitPattern: try integer(UInt32.self))
                let failure: TransportFailure?
                switch try byte() {
                case 0: failure = nil
                case 1: failure = .connectionClosed
                case 2: failure = .timedOut
                case 3: failure = .networkError
                default: throw Malformed(reason: "failure code")
                }
                let error = try optionalText()
                let retryAfter = try optionalText()
                let duration = Double(bitPattern: try integer(UInt64.self))
                let prefix = try data()
                guard prefix.count <= DeliveryLimits.Attempts.responseBodySizeBytesMax else { throw Malformed(reason: "body prefix") }
                frame = .result(id: id, TransportResult(statusCode: status < 0 ? nil : Int(status), bodyPrefix: prefix, error: error,
                                                        failure: failure, retryAfter: retryAfter,
                                                        durationMs: duration.isFinite ? max(0, duration) : 0))
            default:
                throw Malformed(reason: "kind \(kind)")
            }
            guard bytes.isEmpty else { throw Malformed(reason: "trailing bytes") }
            return frame
        }

        mutating func byte() throws(Malformed) -> UInt8 {
            guard let first = bytes.first else { throw Malformed(reason: "truncated") }
            bytes = bytes.dropFirst()
            return first
        }

        mutating func integer<T: FixedWidthInteger>(_ type: T.Type) throws(Malformed) -> T {
            let size = MemoryLayout<T>.size
            guard bytes.count >= size else { throw Malformed(reason: "truncated") }
            var value: T = 0
            for byte in bytes.prefix(size) { value = value << 8 | T(byte) }
            bytes = bytes.dropFirst(size)
            return value
        }

        mutating func data() throws(Malformed) -> [UInt8] {
            let count = Int(try integer(UInt32.self))
            guard bytes.count >= count else { throw Malformed(reason: "truncated") }
            defer { bytes = bytes.dropFirst(count) }
            return Array(bytes.prefix(count))
        }

        mutating func text() throws(Malformed) -> String {
            let raw = try data()
            guard let text = String(validating: raw, as: UTF8.self) else { throw Malformed(reason: "invalid UTF-8") }
            return text
        }

        mutating func optionalText() throws(Malformed) -> String? {
            switch try byte() {
            case 0: return nil
            case 1: return try text()
            default: throw Malformed(reason: "optional flag")
            }
        }
    }
}
