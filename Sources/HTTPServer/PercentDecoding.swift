/// Percent-decoding (RFC 3986 §2.1) of paths and query components.
enum PercentDecoding {
    /// `encoded` with `%XX` escapes decoded (and `+` as space when `plusIsSpace`); nil when an
    /// escape is malformed or the result is not valid UTF-8.
    static func decode(_ encoded: Substring, plusIsSpace: Bool) -> String? {
        let utf8 = encoded.utf8
        let needsWork = utf8.contains { $0 == ASCII.percent || (plusIsSpace && $0 == ASCII.plus) }
        if !needsWork { return String(encoded) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        var index = utf8.startIndex
        while index < utf8.endIndex {
            let byte = utf8[index]
            if byte == ASCII.percent {
                let first = utf8.index(after: index)
                guard first < utf8.endIndex else { return nil }
                let second = utf8.index(after: first)
                guard second < utf8.endIndex,
                      let high = ASCII.hexValue(utf8[first]), let low = ASCII.hexValue(utf8[second]) else { return nil }
                bytes.append(high << 4 | low)
                index = utf8.index(after: second)
            } else {
                bytes.append(plusIsSpace && byte == ASCII.plus ? ASCII.space : byte)
                index = utf8.index(after: index)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
