/// The header fields a request sends, read where the caller keeps them: a caller with its own field type
/// (delivery's signed `HeaderField`s) hands them over without copying them into the client's form.
package protocol HTTPHeaderFieldList: Sendable {
    /// Calls `body` with each field's name and value, in order, until it returns false; returns false when
    /// `body` did.
    func forEachField(_ body: (_ name: String, _ value: String) -> Bool) -> Bool
}

/// Header fields as name and value pairs (what most callers build).
package struct HTTPHeaderPairs: HTTPHeaderFieldList {
    package var pairs: [(name: String, value: String)]

    package init(_ pairs: [(name: String, value: String)]) { self.pairs = pairs }

    package func forEachField(_ body: (_ name: String, _ value: String) -> Bool) -> Bool {
        for pair in pairs where !body(pair.name, pair.value) { return false }
        return true
    }
}
