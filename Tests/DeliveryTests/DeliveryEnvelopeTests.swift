import EventLog
import Testing
@testable import Delivery

@Suite struct DeliveryEnvelopeTests {
    @Test func aDeliveryBodyIsTheEventEnvelopeWithItsDeliveryIDBeforeData() {
        let event = NewEvent(organizationID: "org_\"42", type: "security.account_locked", eventID: "evt_1",
                             data: Array(#"{"a":[1,2]}"#.utf8))
        let record = EventRecord(event, offset: 7, timestampMs: 1_780_653_600_000, chainHash: [])
        let text = String(decoding: record.deliveryEnvelope(deliveryID: "d-\"1"), as: UTF8.self)
        #expect(text == #"{"id":"evt_1","type":"security.account_locked","timestamp":"2026-06-05T10:00:00.000+00:00","organization_id":"org_\"42","offset":7,"delivery_id":"d-\"1","data":{"a":[1,2]}}"#)
        // The members the log formats are byte for byte those of the envelope (tail lines, Merkle leaves).
        let envelope = record.envelope()
        #expect(Array(text.utf8.prefix(envelope.count - 20)) == Array(envelope.prefix(envelope.count - 20)))
    }
}
