/// The strict, bounded parser of what a NATS server sends: a pure value. Feed it bytes as they arrive
/// (`append`), then take operations (`next`) until it returns nil (more bytes needed). An operation
/// split across any number of reads comes out whole; every size is checked against `limits` before
/// anything is buffered for it, so the buffer never holds more than one operation's bytes beyond
/// what was appended.
package struct NATSParser: Sendable {
    /// The bounds the parser enforces.
    package struct Limits: Sendable, Equatable {
        /// The longest control line (`INFO` included), CRLF excluded, in bytes.
        package var lineBytesMax: Int
        /// The largest `MSG`/`HMSG` payload (headers included), in bytes: the server's `max_payload`.
        package var payloadBytesMax: Int
        /// The largest header block, in bytes.
        package var headerBytesMax: Int
        /// The most header lines in one message.
        package var headerCountMax: Int

        package init(lineBytesMax: Int = 65_536, payloadBytesMax: Int = 1_048_576, headerBytesMax: Int = 65_536, headerCountMax: Int = 128) {
            self.lineBytesMax = lineBytesMax
            self.payloadBytesMax = payloadBytesMax
            self.headerBytesMax = headerBytesMax
            self.headerCountMax = headerCountMax
        }
    }

    /// The limits in force; `payloadBytesMax` follows each `INFO`'s `max_payload` (the connection sets it).
    package var limits: Limits

    private var buffer: [UInt8] = []
    /// Where the unparsed bytes start in `buffer`.
    private var start = 0
    /// Where the search for the next CRLF resumes: bytes from `start` up to here hold no CRLF, so a line
    /// arriving in many reads is scanned once, not from its start on every read.
    private var scanned = 0
    /// The bytes examined while looking for line ends, in total (tests check scanning stays linear).
    private(set) var scannedByteCount = 0
    /// A parsed `MSG`/`HMSG` line waiting for its payload.
    private var awaiting: MessageLine?

    private struct MessageLine: Sendable {
        var subject: String
        var subscriptionID: Int
        var replyTo: String?
        var headerBytes: Int?
        var totalBytes: Int
    }

    package init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// The bytes appended but not yet returned as operations.
    package var bufferedByteCount: Int { buffer.count - start }

    /// Adds bytes received from the server.
    package mutating func append(_ bytes: some Collection<UInt8>) {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeFirst(start)
            scanned -= start
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Forgets everything buffered (after a reconnect).
    package mutating func reset() {
        buffer.removeAll(keepingCapacity: true)
        start = 0
        scanned = 0
        awaiting = nil
    }

    /// The next whole operation, or nil when more bytes are needed.
    /// - Throws: `NATSProtocolError` for bytes that break the protocol or a limit. The parser is then
    ///   unusable until `reset()` (the connection is closed).
    package mutating func next() throws(NATSProtocolError) -> NATSServerOperation? {
        if let line = awaiting {
            return try payload(for: line)
        }
        guard let lineEnd = findLineEnd() else {
            if buffer.count - start > limits.lineBytesMax + 1 {
                throw NATSProtocolError(.lineTooLong, "no CRLF within \(limits.lineBytesMax) bytes: " + NATSProtocolError.quote(buffer[start...]))
            }
            return nil
        }
        let line = buffer[start..<lineEnd]
        guard line.count <= limits.lineBytesMax else {
            throw NATSProtocolError(.lineTooLong, "a \(line.count)-byte line: " + NATSProtocolError.quote(line))
        }
        start = lineEnd + 2
        return try operation(line)
    }

    /// The index of the CR of the first CRLF at or after `start`, resuming where the last search stopped.
    private mutating func findLineEnd() -> Int? {
        let from = max(start, scanned)
        var index = from
        defer { scannedByteCount += index - from }
        while index + 1 < buffer.count {
            if buffer[index] == 13 {
                if buffer[index + 1] == 10 { return index }
            }
            index += 1
        }
        scanned = index
        return nil
    }

    private mutating func operation(_ line: ArraySlice<UInt8>) throws(NATSProtocolError) -> NATSServerOperation? {
        let nameEnd = line.firstIndex(where: { $0 == 32 || $0 == 9 }) ?? line.endIndex
        let name = String(decoding: line[line.startIndex..<nameEnd], as: UTF8.self).uppercased()
        let rest = line[nameEnd...]
        switch name {
        case "MSG", "HMSG":
            let fields = Self.fields(rest)
            let hasHeaders = name == "HMSG"
            let sizeCount = hasHeaders ? 2 : 1
            guard fields.count == 2 + sizeCount || fields.count == 3 + sizeCount else {
                throw NATSProtocolError(.malformed, "\(name) with \(fields.count) fields: " + NATSProtocolError.quote(line))
            }
            guard let subscriptionID = Self.number(fields[1]) else {
                throw NATSProtocolError(.malformed, "\(name) subscription id is not a number: " + NATSProtocolError.quote(line))
            }
            let replyTo = fields.count == 3 + sizeCount ? String(decoding: fields[2], as: UTF8.self) : nil
            guard let totalBytes = Self.number(fields[fields.count - 1]) else {
                throw NATSProtocolError(.malformed, "\(name) size is not a number: " + NATSProtocolError.quote(line))
            }
            guard totalBytes <= limits.payloadBytesMax else {
                throw NATSProtocolError(.payloadTooLarge, "\(name) of \(totalBytes) bytes, max_payload \(limits.payloadBytesMax)")
            }
            var headerBytes: Int?
            if hasHeaders {
                guard let count = Self.number(fields[fields.count - 2]), count <= totalBytes, count >= 10 else {
                    throw NATSProtocolError(.malformed, "HMSG header size not within 10...total: " + NATSProtocolError.quote(line))
                }
                guard count <= limits.headerBytesMax else {
                    throw NATSProtocolError(.headersTooLarge, "HMSG with \(count) header bytes, max \(limits.headerBytesMax)")
                }
                headerBytes = count
            }
            let message = MessageLine(subject: String(decoding: fields[0], as: UTF8.self), subscriptionID: subscriptionID,
                                      replyTo: replyTo, headerBytes: headerBytes, totalBytes: totalBytes)
            awaiting = message
            return try payload(for: message)
        case "PING":
            return .ping
        case "PONG":
            return .pong
        case "+OK":
            return .ok
        case "-ERR":
            var text = String(decoding: rest, as: UTF8.self).trimmingSpaces()
            if text.count >= 2 && text.hasPrefix("'") && text.hasSuffix("'") { text = String(text.dropFirst().dropLast()) }
            return .error(text)
        case "INFO":
            return .info(try NATSServerInfo.parse(rest))
        default:
            throw NATSProtocolError(.unknownOperation, NATSProtocolError.quote(line))
        }
    }

    /// The message once its payload and trailing CRLF have arrived.
    private mutating func payload(for line: MessageLine) throws(NATSProtocolError) -> NATSServerOperation? {
        guard buffer.count - start >= line.totalBytes + 2 else { return nil }
        let end = start + line.totalBytes
        guard buffer[end] == 13 && buffer[end + 1] == 10 else {
            throw NATSProtocolError(.malformed, "no CRLF after a \(line.totalBytes)-byte payload for '\(line.subject)'")
        }
        var headers: NATSHeaders?
        var payloadStart = start
        if let headerBytes = line.headerBytes {
            headers = try Self.headers(buffer[start..<(start + headerBytes)], countMax: limits.headerCountMax)
            payloadStart += headerBytes
        }
        let message = NATSMessage(subject: line.subject, subscriptionID: line.subscriptionID, replyTo: line.replyTo,
                                  headers: headers, payload: Array(buffer[payloadStart..<end]))
        start = end + 2
        awaiting = nil
        return .message(message)
    }

    /// The space- or tab-separated fields of a control line.
    private static func fields(_ bytes: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        bytes.split(whereSeparator: { $0 == 32 || $0 == 9 })
    }

    /// A decimal number of at most 10 digits, or nil.
    private static func number(_ bytes: ArraySlice<UInt8>) -> Int? {
        guard !bytes.isEmpty, bytes.count <= 10 else { return nil }
        var value = 0
        for byte in bytes {
            guard byte >= 48 && byte <= 57 else { return nil }
            value = value * 10 + Int(byte - 48)
        }
        return value
    }

    /// Parses a header block: `NATS/1.0[ code[ description]]\r\n`, `Name: Value\r\n` lines, `\r\n`.
    static func headers(_ block: ArraySlice<UInt8>, countMax: Int) throws(NATSProtocolError) -> NATSHeaders {
        let text = Array(block)
        guard text.count >= 12, text.suffix(4).elementsEqual([13, 10, 13, 10]) else {
            throw NATSProtocolError(.malformed, "header block does not end with an empty line: " + NATSProtocolError.quote(block))
        }
        var lines: [ArraySlice<UInt8>] = []
        var lineStart = 0
        var index = 0
        while index + 1 < text.count - 2 {
            if text[index] == 13 && text[index + 1] == 10 {
                lines.append(text[lineStart..<index])
                index += 2
                lineStart = index
            } else {
                guard text[index] != 10 && text[index] != 13 else {
                    throw NATSProtocolError(.malformed, "bare CR or LF in headers: " + NATSProtocolError.quote(block))
                }
                index += 1
            }
        }
        guard lineStart == text.count - 2, let statusLine = lines.first else {
            throw NATSProtocolError(.malformed, "header lines do not end with CRLF: " + NATSProtocolError.quote(block))
        }
        guard lines.count - 1 <= countMax else {
            throw NATSProtocolError(.headersTooLarge, "\(lines.count - 1) header lines, max \(countMax)")
        }
        let version = Array("NATS/1.0".utf8)
        guard statusLine.starts(with: version) else {
            throw NATSProtocolError(.malformed, "header block without NATS/1.0: " + NATSProtocolError.quote(statusLine))
        }
        var headers = NATSHeaders()
        let status = String(decoding: statusLine.dropFirst(version.count), as: UTF8.self).trimmingSpaces()
        if !status.isEmpty {
            let parts = status.split(separator: " ", maxSplits: 1)
            guard let code = Int(parts[0]), parts[0].count == 3, code >= 100 else {
                throw NATSProtocolError(.malformed, "header status is not a 3-digit code: " + NATSProtocolError.quote(statusLine))
            }
            headers.statusCode = code
            headers.statusDescription = parts.count > 1 ? String(parts[1]) : ""
        }
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: 58), colon > line.startIndex else {
                throw NATSProtocolError(.malformed, "header line without a name and ':': " + NATSProtocolError.quote(line))
            }
            let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self)
            let value = String(decoding: line[(colon + 1)...], as: UTF8.self).trimmingSpaces()
            headers.fields.append((name, value))
        }
        return headers
    }
}

extension String {
    /// The string without leading and trailing spaces and tabs.
    func trimmingSpaces() -> String {
        let bytes = Array(utf8)
        guard let first = bytes.firstIndex(where: { $0 != 32 && $0 != 9 }),
              let last = bytes.lastIndex(where: { $0 != 32 && $0 != 9 }) else { return "" }
        return String(decoding: bytes[first...last], as: UTF8.self)
    }
}
