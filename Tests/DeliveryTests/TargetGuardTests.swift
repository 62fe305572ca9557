import Testing
@testable import Delivery

@Suite struct TargetGuardTests {
    static let forbidden = [
        "https://127.0.0.1/", "https://127.1/", "https://0x7f.0.0.1/", "https://2130706433/", "https://017700000001/",
        "https://[::1]/", "https://[::ffff:127.0.0.1]/", "https://[::ffff:7f00:1]/", "https://169.254.169.254/latest",
        "https://100.64.0.1/", "https://[fc00::1]/", "https://[fd12:3456::1]/", "https://[fe80::1]/", "https://0.0.0.0/",
        "https://10.1.2.3/", "https://172.16.0.1/", "https://192.168.1.1/", "https://224.0.0.1/", "https://255.255.255.255/",
        "https://[::]/", "https://[64:ff9b::7f00:1]/", "https://[2002:7f00:1::]/", "https://localhost/", "https://198.18.0.1/",
        "https://[ff02::1]/", "https://[2001:db8::1]/", "https://192.0.2.1/",
    ]

    @Test(arguments: forbidden)
    func nonPublicTargetsAreRefused(url: String) async {
        await #expect(throws: TargetGuard.Refusal.self) { _ = try await TargetGuard().check(url) }
    }

    @Test func publicAddressesPass() async throws {
        let (target, addresses) = try await TargetGuard().check("https://93.184.216.34:8443/hook")
        #expect(target.port == 8443 && addresses == [IPAddress("93.184.216.34")])
        #expect(try await TargetGuard().check("https://[2606:4700::1111]/").1 == [IPAddress("2606:4700::1111")])
    }

    @Test(arguments: ["http://93.184.216.34/", "ftp://93.184.216.34/", "not a url", "https:///path", "https://user:pw@93.184.216.34/",
                      "https://93.184.216.34/#frag", "https://93.184.216.34:0/", "//93.184.216.34/"])
    func malformedOrPlainHTTPURLsAreRefused(url: String) async {
        await #expect(throws: TargetGuard.Refusal.self) { _ = try await TargetGuard().check(url) }
    }

    @Test func anUnresolvableHostIsRefusedAtCheck() async {
        do {
            _ = try await TargetGuard().check("https://no-such-host.invalid/")
            Issue.record("resolved")
        } catch {
            #expect(error.code == "unresolvable_host")
        }
    }

    @Test func allowListAndHTTPFlagOpenLoopbackForTests() async throws {
        let guardForTests = TargetGuard(allowsHTTP: true, allowedCIDRs: [CIDR("127.0.0.0/8")].compactMap { $0 })
        #expect(try await guardForTests.check("http://127.0.0.1:9999/").1 == [IPAddress("127.0.0.1")])
        await #expect(throws: TargetGuard.Refusal.self) { _ = try await guardForTests.check("http://[::1]:9999/") }
    }

    @Test func cidrParsing() {
        #expect(CIDR("10.0.0.0/8")?.contains(IPAddress("10.255.0.1")!) == true)
        #expect(CIDR("10.0.0.0/8")?.contains(IPAddress("11.0.0.1")!) == false)
        #expect(CIDR("::1")?.prefixLength == 128)
        #expect(CIDR("10.0.0.0/33") == nil && CIDR("x/8") == nil)
    }
}
