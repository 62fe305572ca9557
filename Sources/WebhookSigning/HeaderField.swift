/// One HTTP header: a lowercase name and its value.
public struct HeaderField: Sendable, Hashable, CustomStringConvertible {
    /// The header name, lowercase as sent.
    public let name: String
    /// The header value.
    public let value: String

    /// A header `name: value`.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// `name: value`, the form of one header line.
    public var description: String { "\(name): \(value)" }
}
