import Foundation
import HTTPClient
import Testing
import WebhookSigning
@testable import Delivery

/// The transport hands a delivery's signed header fields to the client as they are (no pairs array per
/// attempt): the head carries them in order, drops the caller's framing fields and refuses a field that
/// would break the head.
@Suite struct HTTPClientTransportTests {
    @Test func theSignedFieldsGoIntoTheHeadInPlaceInOrder() throws {
        let fields = [HeaderField(name: "webhook-id", value: "msg_1"), HeaderField(name: "content-length", value: "99"),
                      HeaderField(name: "webhook-signature", value: "v1,abc")]
        let request = try #require(HTTPClient.Request(method: "POST", url: URL(string: "http://127.0.0.1:8080/hook")!,
                                                      fields: SignedFields(fields: fields), body: .bytes(Array("{}".utf8))))
        let head = String(decoding: try #require(request.head), as: UTF8.self)
        #expect(head == "POST /hook HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Length: 2\r\n"
            + "webhook-id: msg_1\r\nwebhook-signature: v1,abc\r\n\r\n")
        let broken = [HeaderField(name: "webhook-id", value: "msg_1\r\nx-injected: 1"), HeaderField(name: "x-after", value: "2")]
        let refused = try #require(HTTPClient.Request(method: "POST", url: URL(string: "http://127.0.0.1/hook")!,
                                                      fields: SignedFields(fields: broken), body: .bytes([])))
        #expect(refused.head == nil, "a value with CR LF never reaches the wire")
    }
}
