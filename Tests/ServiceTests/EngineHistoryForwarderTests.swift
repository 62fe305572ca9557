import Foundation
import Testing
@testable import Service

/// Where a history request is forwarded: always to the lease holder's advertised address, whatever
/// the request target says.
@Suite struct EngineHistoryForwarderTests {
    static let holder = "http://10.1.2.3:8787"

    @Test func aPathGoesToTheHolderWithItsQuery() {
        let url = EngineHistoryForwarder.forwardURL(target: "/v1/webhooks/wh_1/deliveries?limit=5", holderAddress: Self.holder)
        #expect(url?.absoluteString == "http://10.1.2.3:8787/v1/webhooks/wh_1/deliveries?limit=5")
        #expect(EngineHistoryForwarder.forwardURL(target: "/v1/x", holderAddress: Self.holder + "/")?.absoluteString == "http://10.1.2.3:8787/v1/x")
    }

    @Test func aTargetNamingAnotherHostIsNotForwarded() {
        // Absolute form (accepted by the parser and routed by its path) and authority-like paths.
        for target in ["http://169.254.169.254/v1/webhooks/wh_1/deliveries", "//evil.example/v1/webhooks/wh_1/deliveries",
                       "*", "", "evil.example/v1"] {
            let url = EngineHistoryForwarder.forwardURL(target: target, holderAddress: Self.holder)
            #expect(url == nil || (url?.host == "10.1.2.3" && url?.port == 8787), "\(target) -> \(String(describing: url))")
        }
        #expect(EngineHistoryForwarder.forwardURL(target: "http://169.254.169.254/v1", holderAddress: Self.holder) == nil)
    }

    @Test func aHolderAddressThatIsNotPlainHTTPIsRefused() {
        #expect(EngineHistoryForwarder.forwardURL(target: "/v1/x", holderAddress: "https://10.1.2.3:8787") == nil)
        #expect(EngineHistoryForwarder.forwardURL(target: "/v1/x", holderAddress: "not a url") == nil)
    }
}
