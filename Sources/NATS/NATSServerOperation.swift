/// One protocol operation sent by a NATS server, as the parser returns it.
package enum NATSServerOperation: Sendable, Equatable {
    /// `INFO {...}`: the server's description (sent on connect and when the cluster changes).
    case info(NATSServerInfo)
    /// `MSG` or `HMSG`.
    case message(NATSMessage)
    case ping
    case pong
    /// `+OK` (only in verbose mode, which this client does not ask for).
    case ok
    /// `-ERR 'text'`: the text without quotes. Most errors close the connection.
    case error(String)
}
