/// The headers of a NATS message (`HPUB`/`HMSG`): the `NATS/1.0` status line and `Name: Value` lines,
/// in order. Names compare case-sensitively, as NATS does (`Nats-Msg-Id` is not `nats-msg-id`).
package struct NATSHeaders: Sendable, Equatable {
    /// The status code of the status line (`503` no responders, `404` no messages, `408` request
    /// timeout, `100` idle heartbeat), or nil when the line is the plain `NATS/1.0`.
    package var statusCode: Int?
    /// The text after the status code, such as `No Messages`.
    package var statusDescription: String
    /// The `Name: Value` lines in order (a name may repeat).
    package var fields: [(name: String, value: String)]

    package init(statusCode: Int? = nil, statusDescription: String = "", fields: [(name: String, value: String)] = []) {
        self.statusCode = statusCode
        self.statusDescription = statusDescription
        self.fields = fields
    }

    package static func == (lhs: NATSHeaders, rhs: NATSHeaders) -> Bool {
        lhs.statusCode == rhs.statusCode && lhs.statusDescription == rhs.statusDescription
            && lhs.fields.count == rhs.fields.count && zip(lhs.fields, rhs.fields).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    /// The first value of `name`, or nil.
    package subscript(name: String) -> String? {
        fields.first { $0.name == name }?.value
    }

    /// Adds a `name: value` line. Names and values must not hold CR, LF or (names) `:`; `encoded()`
    /// refuses them.
    package mutating func append(_ name: String, _ value: String) {
        fields.append((name, value))
    }

    /// The header block as sent in `HPUB`: `NATS/1.0\r\n`, the lines, and an empty line.
    /// - Throws: `NATSError.invalidHeader` for a name or value with CR or LF, or a name with `:`,
    ///   a space or nothing in it.
    package func encoded() throws(NATSError) -> [UInt8] {
        var bytes = Array("NATS/1.0\r\n".utf8)
        for (name, value) in fields {
            guard !name.isEmpty, !name.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 58 || $0 == 32 }),
                  !value.utf8.contains(where: { $0 == 13 || $0 == 10 }) else {
                throw .invalidHeader(name: String(name.prefix(64)))
            }
            bytes += name.utf8
            bytes += ": ".utf8
            bytes += value.utf8
            bytes += "\r\n".utf8
        }
        bytes += "\r\n".utf8
        return bytes
    }
}
