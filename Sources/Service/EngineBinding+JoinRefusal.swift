import JSON

extension EngineBinding {
    /// Why a `serve --engine` process may not join the engine's processes: its data directory or its
    /// settings differ from what the engine's shared state records. `serve` exits non-zero with it and
    /// logs `code`.
    package struct JoinRefusal: Error, CustomStringConvertible {
        /// Machine-readable: `segment_bytes_mismatch`, `checkpoint_key_mismatch`.
        package let code: String
        /// What differs and what to do, for a person.
        package let description: String
        /// The log entry's members beyond `code` (such as both values that differ).
        package let details: [(String, JSONValue)]

        package init(code: String, _ description: String, details: [(String, JSONValue)] = []) {
            self.code = code
            self.description = description
            self.details = details
        }
    }
}
