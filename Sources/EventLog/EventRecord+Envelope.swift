import JSON

/// The JSON envelope of DESIGN.md ("Event envelope"): `{"id","type","timestamp","organization_id","offset","data"}`,
/// the line `tail --format json` prints and the Merkle leaf of the event. Formats that add members before `data`
/// (a delivery's `delivery_id`, in Delivery) build on `envelopeHead()` and `appendEnvelopeData(to:)`, so the
/// members this log knows are formatted in one place.
extension EventRecord {
    /// The envelope as UTF-8 JSON bytes; `data` is embedded as stored (it was validated as JSON on publish).
    public func envelope() -> [UInt8] {
        var output = envelopeHead(reservingCapacity: data.count + 200)
        appendEnvelopeData(to: &output)
        return output
    }

    /// The envelope up to `data`, without a trailing comma: `{"id":…,"type":…,"timestamp":…,"organization_id":…,"offset":N`.
    /// - Parameter reservingCapacity: bytes to reserve for what the caller appends, in bytes.
    package func envelopeHead(reservingCapacity: Int = 0) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(reservingCapacity)
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
        return output
    }

    /// Ends an envelope begun with `envelopeHead()`: `,"data":<data>}` (`null` for empty data).
    package func appendEnvelopeData(to output: inout [UInt8]) {
        output += Array(#","data":"#.utf8)
        output += data.isEmpty ? Array("null".utf8) : data
        output.append(UInt8(ascii: "}"))
    }
}
