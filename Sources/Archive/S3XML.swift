/// Just enough XML for S3 answers (ListObjectsV2 results and error bodies): the text of simple
/// elements, with the five predefined entities and numeric character references decoded.
enum S3XML {
    /// The text of every `<tag>...</tag>` in `xml`, in order (tags must not nest inside themselves).
    static func values(_ tag: String, in xml: Substring) -> [String] {
        var found: [String] = []
        let open = "<\(tag)>"
        let close = "</\(tag)>"
        var rest = xml
        while let start = rest.range(of: open) {
            guard let end = rest[start.upperBound...].range(of: close) else { break }
            found.append(decode(rest[start.upperBound..<end.lowerBound]))
            rest = rest[end.upperBound...]
        }
        return found
    }

    /// The first value of `tag`, or nil.
    static func value(_ tag: String, in xml: Substring) -> String? { values(tag, in: xml).first }

    /// The inner text of every `<tag>...</tag>` block, undecoded, for looking inside.
    static func blocks(_ tag: String, in xml: String) -> [Substring] {
        var found: [Substring] = []
        var rest = xml[...]
        while let start = rest.range(of: "<\(tag)>") {
            guard let end = rest[start.upperBound...].range(of: "</\(tag)>") else { break }
            found.append(rest[start.upperBound..<end.lowerBound])
            rest = rest[end.upperBound...]
        }
        return found
    }

    /// Decodes `&amp; &lt; &gt; &quot; &apos;` and `&#N;` / `&#xN;`.
    static func decode(_ text: Substring) -> String {
        guard text.contains("&") else { return String(text) }
        var output = ""
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if character == "&", let semicolon = text[index...].firstIndex(of: ";") {
                let entity = text[text.index(after: index)..<semicolon]
                var replacement: String?
                switch entity {
                case "amp": replacement = "&"
                case "lt": replacement = "<"
                case "gt": replacement = ">"
                case "quot": replacement = "\""
                case "apos": replacement = "'"
                default:
                    if entity.hasPrefix("#x"), let code = UInt32(entity.dropFirst(2), radix: 16), let scalar = Unicode.Scalar(code) {
                        replacement = String(Character(scalar))
                    } else if entity.hasPrefix("#"), let code = UInt32(entity.dropFirst()), let scalar = Unicode.Scalar(code) {
                        replacement = String(Character(scalar))
                    }
                }
                if let replacement {
                    output += replacement
                    index = text.index(after: semicolon)
                    continue
                }
            }
            output.append(character)
            index = text.index(after: index)
        }
        return output
    }
}
