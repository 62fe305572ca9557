/// Ordered HTTP header fields: `(name, value)` pairs as sent, with case-insensitive lookup.
///
/// Names keep the spelling they were given; lookups compare ASCII case-insensitively without
/// allocating. Repeated fields stay separate entries in their original order.
public struct HTTPHeaders: Sendable, Sequence {
    /// One header field.
    public typealias Element = (name: String, value: String)

    private var fields: [Element]

    /// Headers from `pairs`, in order.
    public init(_ pairs: [(String, String)] = []) {
        fields = pairs.map { (name: $0.0, value: $0.1) }
    }

    /// No headers yet, with room for `capacity` without growing (the parser's estimate from the head).
    init(reservingCapacity capacity: Int) {
        fields = []
        fields.reserveCapacity(capacity)
    }

    /// Field `index` (0 is the first), as sent.
    func field(at index: Int) -> Element { fields[index] }

    /// The first `count` fields, with room for `capacity` fields in all.
    func prefix(_ count: Int, reservingCapacity capacity: Int) -> HTTPHeaders {
        var headers = HTTPHeaders(reservingCapacity: Swift.max(count, capacity))
        headers.fields.append(contentsOf: fields[..<count])
        return headers
    }

    /// The first value of the field `name` (case-insensitive), or nil.
    public subscript(name: String) -> String? {
        for field in fields where ASCII.equalIgnoringCase(field.name, name) { return field.value }
        return nil
    }

    /// Every value of the field `name` (case-insensitive), in order.
    public func values(for name: String) -> [String] {
        fields.filter { ASCII.equalIgnoringCase($0.name, name) }.map(\.value)
    }

    /// Whether a field `name` is present (case-insensitive).
    public func contains(_ name: String) -> Bool {
        fields.contains { ASCII.equalIgnoringCase($0.name, name) }
    }

    /// Appends a field, keeping any existing ones of the same name.
    public mutating func add(_ name: String, _ value: String) {
        fields.append((name: name, value: value))
    }

    /// Sets the field `name` to the single `value`: the first existing field of that name is
    /// overwritten in place and any others are removed; otherwise the field is appended.
    public mutating func replace(_ name: String, _ value: String) {
        guard let first = fields.firstIndex(where: { ASCII.equalIgnoringCase($0.name, name) }) else {
            fields.append((name: name, value: value))
            return
        }
        fields[first] = (name: name, value: value)
        var index = fields.count - 1
        while index > first {
            if ASCII.equalIgnoringCase(fields[index].name, name) { fields.remove(at: index) }
            index -= 1
        }
    }

    /// Removes every field `name` (case-insensitive).
    public mutating func remove(_ name: String) {
        fields.removeAll { ASCII.equalIgnoringCase($0.name, name) }
    }

    /// The number of fields, counting repeats.
    public var count: Int { fields.count }

    /// Whether there are no fields.
    public var isEmpty: Bool { fields.isEmpty }

    public func makeIterator() -> IndexingIterator<[Element]> { fields.makeIterator() }
}

extension HTTPHeaders: ExpressibleByDictionaryLiteral {
    /// Headers from a literal, in source order.
    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements)
    }
}

extension HTTPHeaders: CustomStringConvertible {
    public var description: String {
        fields.map { "\($0.name): \($0.value)" }.joined(separator: "\n")
    }
}
