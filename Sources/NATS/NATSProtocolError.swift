/// Bytes from a server that break the protocol or one of the parser's limits. The connection that
/// received them is closed and reconnected; `detail` quotes at most 80 bytes of the offending line.
package struct NATSProtocolError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What was wrong.
    package enum Kind: String, Sendable {
        /// A control line longer than `NATSParser.Limits.lineBytesMax` (no CRLF within it).
        case lineTooLong = "line_too_long"
        /// A payload larger than the server's `max_payload` (or the parser's limit).
        case payloadTooLarge = "payload_too_large"
        /// A header block larger than `headerBytesMax` or with more than `headerCountMax` lines.
        case headersTooLarge = "headers_too_large"
        /// An operation name the protocol does not have.
        case unknownOperation = "unknown_operation"
        /// Anything else: wrong field count, a size that is not a number, a missing CRLF after a payload, bad headers, bad INFO JSON.
        case malformed
    }

    package let kind: Kind
    package let detail: String

    package init(_ kind: Kind, _ detail: String) {
        self.kind = kind
        self.detail = detail
    }

    package var description: String { "NATS protocol error (\(kind.rawValue)): \(detail)" }

    /// `bytes` quoted for an error: at most 80 bytes, control characters as `?`.
    static func quote(_ bytes: some Collection<UInt8>) -> String {
        let shown = bytes.prefix(80).map { $0 >= 32 && $0 < 127 ? $0 : UInt8(ascii: "?") }
        return "'" + String(decoding: shown, as: UTF8.self) + (bytes.count > 80 ? "...'" : "'")
    }
}
