/// The JSON envelope of DESIGN.md, the body of every delivery and every `tail` line:
/// `{"id","type","timestamp","organization_id","offset"[,"delivery_id"],"data"}`.
extension EventRecord {
    /// The envelope as UTF-8 JSON bytes; `data` is embedded as stored (it was validated as JSON on publish).
    public func envelope(deliveryID: String? = nil) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(data.count + 200)
        output += Array(#"{"id":"#.utf8)
        JSONText.appendString(eventID, to: &output)
        output += Array(#","type":"#.utf8)
        JSONText.appendString(type, to: &output)
        output += Array(#","timestamp":""#.utf8)
        output += Array(Timestamp.format(ms: timestampMs).utf8)
        output += Array(#"","organization_id":"#.utf8)
        JSONText.appendString(organizationID, to: &output)
        output += Array(#","offset":"#.utf8)
        output += Array(String(offset).utf8)
        if let deliveryID {
            output += Array(#","delivery_id":"#.utf8)
            JSONText.appendString(deliveryID, to: &output)
        }
        output += Array(#","data":"#.utf8)
        output += data.isEmpty ? Array("null".utf8) : data
        output.append(UInt8(ascii: "}"))
        return output
    }
}

/// Minimal JSON text helpers.
public enum JSONText {
    /// Appends `text` as a JSON string literal (quotes, escapes for `"`, `\` and control characters).
    public static func appendString(_ text: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): output += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0A: output += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: output += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: output += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                output += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    /// `text` as a JSON string literal.
    public static func string(_ text: String) -> String {
        var output: [UInt8] = []
        appendString(text, to: &output)
        return String(decoding: output, as: UTF8.self)
    }
}
