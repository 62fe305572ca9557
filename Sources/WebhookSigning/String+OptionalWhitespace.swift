extension String {
    /// The text without leading and trailing spaces and tabs (HTTP "optional whitespace").
    /// Works on UTF-8 directly; much cheaper than Foundation's `trimmingCharacters(in:)`.
    var trimmingOptionalWhitespace: String {
        let bytes = utf8
        guard let first = bytes.firstIndex(where: { $0 != 0x20 && $0 != 0x09 }),
              let last = bytes.lastIndex(where: { $0 != 0x20 && $0 != 0x09 }) else { return "" }
        if first == bytes.startIndex && bytes.index(after: last) == bytes.endIndex { return self }
        return String(self[first...last])
    }
}
