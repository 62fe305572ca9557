import Foundation
import JSON

/// A message as a stream stored it.
package struct JetStreamMessage: Sendable, Equatable {
    /// The subject it was published to.
    package var subject: String
    /// Its stream sequence (1 is the first).
    package var sequence: UInt64
    /// Its headers (nil when it had none).
    package var headers: NATSHeaders?
    /// Its payload.
    package var payload: [UInt8]
}

extension JetStream {
    /// The message at `sequence` (`$JS.API.STREAM.MSG.GET`, answered by the stream leader).
    /// - Returns: nil when the stream holds no message at that sequence.
    /// - Throws: `JetStreamError`.
    package func message(stream: String, sequence: UInt64) async throws(JetStreamError) -> JetStreamMessage? {
        try await getMessage(stream: stream, .object([("seq", .integer(sequence))]))
    }

    /// The last message on `subject` (`last_by_subj`), or nil when the subject has none.
    package func lastMessage(stream: String, subject: String) async throws(JetStreamError) -> JetStreamMessage? {
        try await getMessage(stream: stream, .object([("last_by_subj", .string(subject))]))
    }

    private func getMessage(stream: String, _ body: JSONValue) async throws(JetStreamError) -> JetStreamMessage? {
        try Self.validate(name: stream)
        let value: JSONValue
        do {
            value = try await apiRequest("STREAM.MSG.GET." + stream, body)
        } catch .api(_, 404, _, _) {
            return nil
        }
        let subject = "STREAM.MSG.GET"
        guard let message = value["message"], let messageSubject = message["subject"]?.stringValue,
              let sequence = message["seq"]?.int64Value, sequence > 0 else {
            throw .malformedResponse(subject: subject, detail: "no message.subject and message.seq")
        }
        var payload: [UInt8] = []
        if let data = message["data"]?.stringValue {
            guard let decoded = Data(base64Encoded: data) else { throw .malformedResponse(subject: subject, detail: "data is not base64") }
            payload = Array(decoded)
        }
        var headers: NATSHeaders?
        if let encoded = message["hdrs"]?.stringValue, !encoded.isEmpty {
            guard let decoded = Data(base64Encoded: encoded) else { throw .malformedResponse(subject: subject, detail: "hdrs is not base64") }
            do {
                headers = try NATSParser.headers(ArraySlice(decoded), countMax: 1_024)
            } catch {
                throw .malformedResponse(subject: subject, detail: error.description)
            }
        }
        return JetStreamMessage(subject: messageSubject, sequence: UInt64(sequence), headers: headers, payload: payload)
    }
}
