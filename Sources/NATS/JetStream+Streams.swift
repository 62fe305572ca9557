import JSON

extension JetStream {
    /// Creates a stream, or accepts an existing one of the same name (whatever its settings: the
    /// caller checks `streamInfo` when they matter).
    /// - Throws: `JetStreamError` (`api` for a refused configuration).
    package func createStream(_ configuration: JetStreamStreamConfiguration) async throws(JetStreamError) -> JetStreamStreamState {
        try Self.validate(name: configuration.name)
        do {
            return try Self.state(try await apiRequest("STREAM.CREATE." + configuration.name, configuration.json), subject: "STREAM.CREATE")
        } catch .api(_, _, 10058, _) {
            return try await streamInfo(configuration.name)
        }
    }

    /// The stream's state.
    /// - Throws: `api` with code 404 (err_code 10059) when there is no such stream.
    package func streamInfo(_ name: String) async throws(JetStreamError) -> JetStreamStreamState {
        try Self.validate(name: name)
        return try Self.state(try await apiRequest("STREAM.INFO." + name, nil), subject: "STREAM.INFO")
    }

    /// Deletes a stream (tests and tools; refused for nothing here, as JetStream allows it).
    package func deleteStream(_ name: String) async throws(JetStreamError) {
        try Self.validate(name: name)
        _ = try await apiRequest("STREAM.DELETE." + name, nil)
    }

    static func state(_ value: JSONValue, subject: String) throws(JetStreamError) -> JetStreamStreamState {
        guard let state = value["state"], let messages = state["messages"]?.int64Value,
              let first = state["first_seq"]?.int64Value, let last = state["last_seq"]?.int64Value else {
            throw .malformedResponse(subject: subject, detail: "no state.messages, first_seq, last_seq")
        }
        let replicas = value["config"]?["num_replicas"]?.int64Value ?? 1
        return JetStreamStreamState(messages: UInt64(max(0, messages)), firstSequence: UInt64(max(0, first)),
                                    lastSequence: UInt64(max(0, last)), replicas: Int(replicas),
                                    messagesMax: Int(value["config"]?["max_msgs"]?.int64Value ?? -1),
                                    ageSecondsMax: Double(value["config"]?["max_age"]?.int64Value ?? 0) / 1e9)
    }
}
