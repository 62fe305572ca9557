import JSON

/// Reads the members of a JSON object with type checks and clear errors, and refuses members it was
/// not asked about (a typo must not be silently ignored).
struct FieldReader {
    private let members: [(String, JSONValue)]
    private let context: String
    /// The names asked about (a handful per request: a linear list beats hashing).
    private var read: [String] = []

    /// - Throws: `APIError` 422 when `value` is not an object.
    init(_ value: JSONValue, context: String = "body") throws(APIError) {
        guard case .object(let members) = value else { throw APIError.invalid("\(context) must be a JSON object") }
        self.members = members
        self.context = context
    }

    private mutating func value(_ name: String) -> JSONValue? {
        if !read.contains(name) { read.append(name) }
        return members.first { $0.0 == name }?.1
    }

    func has(_ name: String) -> Bool { members.contains { $0.0 == name } }

    mutating func string(_ name: String, required: Bool = false, sizeBytesMax: Int = 4096) throws(APIError) -> String? {
        guard let value = value(name), !value.isNull else {
            if required { throw APIError.invalid("\(name) is required") }
            return nil
        }
        guard case .string(let text) = value else { throw APIError.invalid("\(name) must be a string") }
        guard text.utf8.count <= sizeBytesMax else { throw APIError.invalid("\(name) is longer than \(sizeBytesMax) bytes") }
        return text
    }

    mutating func bool(_ name: String) throws(APIError) -> Bool? {
        guard let value = value(name), !value.isNull else { return nil }
        guard case .bool(let flag) = value else { throw APIError.invalid("\(name) must be true or false") }
        return flag
    }

    mutating func integer(_ name: String, in range: ClosedRange<Int64>) throws(APIError) -> Int64? {
        guard let value = value(name), !value.isNull else { return nil }
        guard let number = value.int64Value else { throw APIError.invalid("\(name) must be an integer") }
        guard range.contains(number) else {
            throw APIError.invalid("\(name) must be from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    mutating func stringArray(_ name: String, countMax: Int) throws(APIError) -> [String]? {
        guard let value = value(name), !value.isNull else { return nil }
        guard case .array(let elements) = value else { throw APIError.invalid("\(name) must be an array of strings") }
        guard elements.count <= countMax else { throw APIError.invalid("\(name) has more than \(countMax) entries") }
        var strings: [String] = []
        for element in elements {
            guard case .string(let text) = element else { throw APIError.invalid("\(name) must be an array of strings") }
            strings.append(text)
        }
        return strings
    }

    mutating func any(_ name: String) -> JSONValue? { value(name) }

    /// - Throws: `APIError` 422 `unknown_field` naming the first member that was never read.
    func rejectUnknown() throws(APIError) {
        if let unknown = members.first(where: { !read.contains($0.0) }) {
            throw APIError(422, "unknown_field", "\(context) has an unknown field \"\(unknown.0.prefix(64))\"")
        }
    }
}
