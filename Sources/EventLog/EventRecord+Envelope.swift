import JSON
import SystemIO

/// The JSON envelope of DESIGN.md ("Event envelope"): `{"id","type","timestamp","organization_id","offset","data"}`,
/// the line `tail --format json` prints and the Merkle leaf of the event. Formats that add members before `data`
/// (a delivery's `delivery_id`, in Delivery) build on `envelopeHead()` and `appendEnvelopeData(to:)`, so the
/// members this log knows are formatted in one place.
extension EventRecord {
    /// The envelope as UTF-8 JSON bytes; `data` is embedded as stored (it was validated as JSON on publish).
    /// - Parameter formattedTimestamp: `Timestamp.format(ms: timestampMs)` when the caller has it already
    ///   (the log writer formats it once per group commit); nil formats it here.
    public func envelope(formattedTimestamp: String? = nil) -> [UInt8] {
        var output = envelopeHead(reservingCapacity: data.count + 200, formattedTimestamp: formattedTimestamp)
        appendEnvelopeData(to: &output)
        return output
    }

    /// The envelope up to `data`, without a trailing comma: `{"id":…,"type":…,"timestamp":…,"organization_id":…,"offset":N`.
    /// - Parameters:
    ///   - reservingCapacity: bytes to reserve for what the caller appends, in bytes.
    ///   - formattedTimestamp: `Timestamp.format(ms: timestampMs)` when the caller has it already (the log
    ///     writer formats it once per group commit); nil formats it here.
    package func envelopeHead(reservingCapacity: Int = 0, formattedTimestamp: String? = nil) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(reservingCapacity)
        Self.appendEnvelopeHead(eventID: eventID, type: type, formattedTimestamp: formattedTimestamp ?? Timestamp.format(ms: timestampMs),
                                organizationID: organizationID, offset: offset, to: &output)
        return output
    }

    /// Appends the envelope up to `data` (as `envelopeHead()`) from its fields, without an `EventRecord`
    /// (the log writer formats the leaf heads of new events in place).
    package static func appendEnvelopeHead(eventID: String, type: String, formattedTimestamp: String, organizationID: String,
                                           offset: UInt64, to output: inout [UInt8]) {
        output.append(contentsOf: #"{"id":"#.utf8)
        JSONValue.appendString(eventID, to: &output)
        output.append(contentsOf: #","type":"#.utf8)
        JSONValue.appendString(type, to: &output)
        output.append(contentsOf: #","timestamp":""#.utf8)
        output.append(contentsOf: formattedTimestamp.utf8)
        output.append(contentsOf: #"","organization_id":"#.utf8)
        JSONValue.appendString(organizationID, to: &output)
        output.append(contentsOf: #","offset":"#.utf8)
        output.appendDecimal(offset)
    }

    /// Ends an envelope begun with `envelopeHead()`: `,"data":<data>}` (`null` for empty data).
    package func appendEnvelopeData(to output: inout [UInt8]) {
        output.append(contentsOf: #","data":"#.utf8)
        if data.isEmpty { output.append(contentsOf: "null".utf8) } else { output += data }
        output.append(UInt8(ascii: "}"))
    }
}
