import EventLog
import JSON

extension EventRecord {
    /// The body of one delivery (DESIGN.md "Event envelope"): the event's envelope with `delivery_id` before
    /// `data`: `{"id","type","timestamp","organization_id","offset","delivery_id","data"}` as UTF-8 JSON bytes.
    func deliveryEnvelope(deliveryID: String) -> [UInt8] {
        var output = envelopeHead(reservingCapacity: data.count + 240)
        output += Array(#","delivery_id":"#.utf8)
        JSONValue.appendString(deliveryID, to: &output)
        appendEnvelopeData(to: &output)
        return output
    }
}
