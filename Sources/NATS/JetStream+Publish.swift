import JSON

/// A stream's acknowledgement of a publish.
package struct JetStreamPublishAck: Sendable, Equatable {
    /// The stream that stored it.
    package var stream: String
    /// Its stream sequence (the first store's sequence for a duplicate).
    package var sequence: UInt64
    /// True when the message id was seen within the duplicate window and nothing new was stored.
    package var isDuplicate: Bool
}

extension JetStream {
    /// The header naming a message for deduplication.
    package static let messageIDHeader = "Nats-Msg-Id"
    /// The header with the subject's expected last sequence (0: the subject has no message).
    package static let expectedLastSubjectSequenceHeader = "Nats-Expected-Last-Subject-Sequence"
    /// The header with the stream's expected last sequence.
    package static let expectedLastSequenceHeader = "Nats-Expected-Last-Sequence"

    /// Publishes to a stream's subject and waits for the stream's acknowledgement (after quorum on a
    /// replicated stream).
    /// - Parameters:
    ///   - messageID: `Nats-Msg-Id`: a publish repeated with the same id within the stream's
    ///     duplicate window is acknowledged with the first sequence and `isDuplicate`, not stored again.
    ///   - expectedLastSubjectSequence: refuse unless the subject's last message has this sequence (0: none).
    ///   - expectedLastSequence: refuse unless the stream's last sequence is this.
    /// - Throws: `api` with err_code 10071 on an expectation mismatch; `transport` (`noResponders` when
    ///   no stream takes the subject or it has no leader now; `connectionLost`, `timedOut`: unknown
    ///   outcome, retry with the same message id).
    package func publish(_ subject: String, payload: [UInt8], headers: NATSHeaders = NATSHeaders(), messageID: String? = nil,
                        expectedLastSubjectSequence: UInt64? = nil, expectedLastSequence: UInt64? = nil) async throws(JetStreamError) -> JetStreamPublishAck {
        var headers = headers
        if let messageID { headers.append(Self.messageIDHeader, messageID) }
        if let expectedLastSubjectSequence { headers.append(Self.expectedLastSubjectSequenceHeader, String(expectedLastSubjectSequence)) }
        if let expectedLastSequence { headers.append(Self.expectedLastSequenceHeader, String(expectedLastSequence)) }
        let message: NATSMessage
        do {
            message = try await connection.request(subject, payload: payload, headers: headers.fields.isEmpty ? nil : headers, timeoutSeconds: timeoutSeconds)
        } catch {
            throw .transport(error)
        }
        let value = try Self.answer(message, subject: subject)
        guard let stream = value["stream"]?.stringValue, let sequence = value["seq"]?.int64Value, sequence > 0 else {
            throw .malformedResponse(subject: subject, detail: "publish ack without stream and seq")
        }
        return JetStreamPublishAck(stream: stream, sequence: UInt64(sequence), isDuplicate: value["duplicate"]?.boolValue ?? false)
    }
}
