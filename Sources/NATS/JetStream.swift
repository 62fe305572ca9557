import JSON

/// The JetStream API over a `NATSConnection`: streams, publishes acknowledged by the stream (after
/// quorum on replicated streams), reads by sequence, pull consumers and key-value buckets.
package struct JetStream: Sendable {
    /// The connection used.
    package let connection: NATSConnection
    /// The API answer deadline, in seconds.
    package var timeoutSeconds: Double

    /// The API subject prefix.
    package static let apiPrefix = "$JS.API."

    package init(connection: NATSConnection, timeoutSeconds: Double = 5) {
        self.connection = connection
        self.timeoutSeconds = timeoutSeconds
    }

    /// Sends an API request (`$JS.API.<suffix>`) and returns its JSON answer.
    /// - Throws: `transport`, `api` (the answer's `error` member), `malformedResponse`.
    package func apiRequest(_ suffix: String, _ body: JSONValue?) async throws(JetStreamError) -> JSONValue {
        let subject = Self.apiPrefix + suffix
        let message: NATSMessage
        do {
            message = try await connection.request(subject, payload: body?.encoded() ?? [], timeoutSeconds: timeoutSeconds)
        } catch {
            throw .transport(error)
        }
        return try Self.answer(message, subject: subject)
    }

    /// The JSON of an API answer, or its error.
    static func answer(_ message: NATSMessage, subject: String) throws(JetStreamError) -> JSONValue {
        if let status = message.statusCode, status >= 300 {
            throw .api(subject: subject, code: status, errorCode: 0, description: message.headers?.statusDescription ?? "")
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(message.payload)
        } catch {
            throw .malformedResponse(subject: subject, detail: error.description)
        }
        if let error = value["error"] {
            throw .api(subject: subject, code: Int(error["code"]?.int64Value ?? 0), errorCode: Int(error["err_code"]?.int64Value ?? 0),
                       description: error["description"]?.stringValue ?? "")
        }
        return value
    }

    /// Refuses names JetStream would refuse or misroute (stream, consumer and bucket names).
    static func validate(name: String) throws(JetStreamError) {
        guard !name.isEmpty, name.utf8.count <= 255,
              name.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 45 || $0 == 95 }) else {
            throw .invalidName(name)
        }
    }
}
