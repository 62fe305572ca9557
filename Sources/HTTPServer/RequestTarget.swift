/// The parts of a request-target (RFC 9112 §3.2): raw path, percent-decoded path and query.
struct RequestTarget: Sendable {
    /// The path as sent, still percent-encoded, without query.
    var rawPath: Substring
    /// The percent-decoded path.
    var path: String
    /// Decoded `name=value` query pairs in order (`+` is a space).
    var query: [(String, String)]

    /// Splits `target`. Origin-form (`/a/b?q`), absolute-form (`http://host/a?q`) and `*` are
    /// accepted. With `strict`, a path with an invalid escape or undecodable UTF-8 is refused
    /// (nil); otherwise such escapes are kept literally. Query escapes are always lenient.
    static func parse(_ target: String, strict: Bool) -> RequestTarget? {
        guard let (rawPath, rawQuery) = split(target) else {
            if strict { return nil }
            return RequestTarget(rawPath: Substring(target), path: target, query: [])
        }
        let path: String
        if let decoded = PercentDecoding.decode(rawPath, plusIsSpace: false) {
            path = decoded
        } else if strict {
            return nil
        } else {
            path = String(rawPath)
        }
        return RequestTarget(rawPath: rawPath, path: path, query: Self.parseQuery(rawQuery))
    }

    /// The raw path and raw query of `target`, or nil when it is neither origin-form,
    /// absolute-form nor `*`.
    static func split(_ target: String) -> (path: Substring, query: Substring)? {
        if target == "*" { return ("*", "") }
        var rest = Substring(target)
        if rest.utf8.first != ASCII.slash {
            guard let authorityStart = Self.absoluteFormAuthorityStart(rest) else { return nil }
            rest = rest[authorityStart...]
            if let slash = rest.utf8.firstIndex(where: { $0 == ASCII.slash || $0 == ASCII.questionMark }) {
                rest = rest[slash...]
            } else {
                rest = ""
            }
            if rest.utf8.first != ASCII.slash { rest = "/" + rest }
        }
        if let hash = firstIndex(of: ASCII.hash, in: rest) { rest = rest[..<hash] }
        guard let question = firstIndex(of: ASCII.questionMark, in: rest) else { return (rest, "") }
        return (rest[..<question], rest[rest.utf8.index(after: question)...])
    }

    /// The index of the first `byte` in the UTF-8 of `text`: a scan of its buffer when it has one (a
    /// request's target does), else of its UTF-8 view. Runs twice per request (parser and router).
    private static func firstIndex(of byte: UInt8, in text: Substring) -> Substring.Index? {
        let utf8 = text.utf8
        guard let offset = utf8.withContiguousStorageIfAvailable({ $0.firstIndex(of: byte) }) else {
            return utf8.firstIndex(of: byte)
        }
        return offset.map { utf8.index(utf8.startIndex, offsetBy: $0) }
    }

    /// Decoded query pairs; a pair without `=` has an empty value.
    static func parseQuery(_ rawQuery: Substring) -> [(String, String)] {
        if rawQuery.isEmpty { return [] }
        var pairs: [(String, String)] = []
        for part in rawQuery.split(separator: "&", omittingEmptySubsequences: true) {
            let name: Substring, value: Substring
            if let equals = part.utf8.firstIndex(of: ASCII.equals) {
                name = part[..<equals]
                value = part[part.utf8.index(after: equals)...]
            } else {
                name = part
                value = ""
            }
            pairs.append((PercentDecoding.decode(name, plusIsSpace: true) ?? String(name),
                          PercentDecoding.decode(value, plusIsSpace: true) ?? String(value)))
        }
        return pairs
    }

    /// Where the authority begins in an absolute-form target (`http://` or `https://`), or nil.
    private static func absoluteFormAuthorityStart(_ target: Substring) -> Substring.Index? {
        let bytes = target.utf8
        schemes: for scheme in ["http://", "https://"] {
            var index = bytes.startIndex
            for expected in scheme.utf8 {
                guard index < bytes.endIndex, ASCII.lowercased(bytes[index]) == expected else { continue schemes }
                index = bytes.index(after: index)
            }
            return index
        }
        return nil
    }
}
