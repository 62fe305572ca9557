import JSON

/// Reads the members of a JSON object with type checks and clear errors, and refuses members it was
/// not asked about (a typo must not be silently ignored).
struct FieldReader {
    private let members: [(String, JSONValue)]
    private let context: String
    /// Which members were asked about, by position: bit `i` for member `i` below 64 (no allocation for
    /// the objects requests send), then `readBeyond[i - 64]` (made when such a member is first read).
    private var readMask: UInt64 = 0
    private var readBeyond: [Bool] = []

    /// - Throws: `APIError` 422 when `value` is not an object.
    init(_ value: JSONValue, context: String = "body") throws(APIError) {
        guard case .object(let members) = value else { throw APIError.invalid("\(context) must be a JSON object") }
        self.members = members
        self.context = context
    }

    /// The member `name`, which now counts as read. There is at most one: every object read here comes
    /// from `JSONParser`, which refuses duplicate names (`BadInputTests`: 400 `invalid_json` at every level).
    private mutating func value(_ name: String) -> JSONValue? {
        guard let index = members.firstIndex(where: { $0.0 == name }) else { return nil }
        markRead(index)
        return members[index].1
    }

    private mutating func markRead(_ index: Int) {
        if index < 64 {
            readMask |= 1 << UInt64(index)
            return
        }
        if readBeyond.isEmpty { readBeyond = Array(repeating: false, count: members.count - 64) }
        readBeyond[index - 64] = true
    }

    private func wasRead(_ index: Int) -> Bool {
        index < 64 ? readMask & (1 << UInt64(index)) != 0 : !readBeyond.isEmpty && readBeyond[index - 64]
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
        if let unknown = members.indices.first(where: { !wasRead($0) }) {
            throw APIError(422, "unknown_field", "\(context) has an unknown field \"\(members[unknown].0.prefix(64))\"")
        }
    }
}
