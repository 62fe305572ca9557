import JSON

/// The JSON envelope of DESIGN.md, the body of every delivery and every `tail` line:
/// `{"id","type","timestamp","organization_id","offset"[,"delivery_id"],"data"}`.
extension EventRecord {
    /// The envelope as UTF-8 JSON bytes; `data` is embedded as stored (it was validated as JSON on publish).
    public func envelope(deliveryID: String? = nil) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(data.count + 200)
        output += Array(#"{"id":"#.utf8)
        JSONValue.appendString(eventID, to: &output)
        output += Array(#","type":"#.utf8)
        JSONValue.appendString(type, to: &output)
        output += Array(#","timestamp":""#.utf8)
        output += Array(Timestamp.format(ms: timestampMs).utf8)
        output += Array(#"","organization_id":"#.utf8)
        JSONValue.appendString(organizationID, to: &output)
        output += Array(#","offset":"#.utf8)
        output += Array(String(offset).utf8)
        if let deliveryID {
            output += Array(#","delivery_id":"#.utf8)
            JSONValue.appendString(deliveryID, to: &output)
        }
        output += Array(#","data":"#.utf8)
        output += data.isEmpty ? Array("null".utf8) : data
        output.append(UInt8(ascii: "}"))
        return output
    }
}
