import JSON

/// The client's protocol lines as bytes: pure functions.
enum NATSFrame {
    static let ping = Array("PING\r\n".utf8)
    static let pong = Array("PONG\r\n".utf8)

    /// Refuses an empty subject or one with a space, tab, CR, LF or other control byte (at most 4096 bytes).
    static func validate(subject: String) throws(NATSError) {
        let bytes = subject.utf8
        guard !bytes.isEmpty, bytes.count <= 4096, !bytes.contains(where: { $0 <= 32 || $0 == 127 }) else {
            throw .invalidSubject(String(subject.prefix(64)))
        }
    }

    /// `PUB` or (with headers) `HPUB`, payload and CRLF.
    /// - Throws: `invalidSubject`, `invalidHeader`, `payloadTooLarge` (headers + payload over `payloadBytesMax`).
    static func publish(subject: String, replyTo: String?, headers: NATSHeaders?, payload: [UInt8], payloadBytesMax: Int) throws(NATSError) -> [UInt8] {
        try validate(subject: subject)
        if let replyTo { try validate(subject: replyTo) }
        let headerBytes = try headers?.encoded()
        let total = (headerBytes?.count ?? 0) + payload.count
        guard total <= payloadBytesMax else { throw .payloadTooLarge(bytes: total, bytesMax: payloadBytesMax) }
        var frame: [UInt8] = []
        frame.reserveCapacity(total + subject.utf8.count + 64)
        frame += (headerBytes == nil ? "PUB " : "HPUB ").utf8
        frame += subject.utf8
        if let replyTo {
            frame.append(32)
            frame += replyTo.utf8
        }
        if let headerBytes {
            frame += " \(headerBytes.count) \(total)\r\n".utf8
            frame += headerBytes
        } else {
            frame += " \(total)\r\n".utf8
        }
        frame += payload
        frame += "\r\n".utf8
        return frame
    }

    static func subscribe(subject: String, queueGroup: String?, id: Int) -> [UInt8] {
        Array("SUB \(subject)\(queueGroup.map { " " + $0 } ?? "") \(id)\r\n".utf8)
    }

    static func unsubscribe(id: Int) -> [UInt8] {
        Array("UNSUB \(id)\r\n".utf8)
    }

    /// `CONNECT {...}` asking for headers and no-responder statuses, without echo of `+OK`.
    static func connect(name: String) -> [UInt8] {
        var json: [UInt8] = []
        JSONValue.appendString(name, to: &json)
        return Array("CONNECT {\"verbose\":false,\"pedantic\":false,\"tls_required\":false,\"name\":".utf8) + json
            + Array(",\"lang\":\"swift\",\"version\":\"1.0.0\",\"protocol\":1,\"headers\":true,\"no_responders\":true,\"echo\":true}\r\n".utf8)
    }
}
