import HTTPClient
import Testing
@testable import Delivery

@Suite(.timeLimit(.minutes(1))) struct TargetGuardTests {
    static let forbidden = [
        "https://127.0.0.1/", "https://127.1/", "https://0x7f.0.0.1/", "https://2130706433/", "https://017700000001/",
        "https://[::1]/", "https://[::ffff:127.0.0.1]/", "https://[::ffff:7f00:1]/", "https://169.254.169.254/latest",
        "https://100.64.0.1/", "https://[fc00::1]/", "https://[fd12:3456::1]/", "https://[fe80::1]/", "https://0.0.0.0/",
        "https://10.1.2.3/", "https://172.16.0.1/", "https://192.168.1.1/", "https://224.0.0.1/", "https://255.255.255.255/",
        "https://[::]/", "https://[64:ff9b::7f00:1]/", "https://[2002:7f00:1::]/", "https://localhost/", "https://198.18.0.1/",
        "https://[ff02::1]/", "https://[2001:db8::1]/", "https://192.0.2.1/",
    ]

    /// Refused because the host resolved to a non-public address: not for a failed lookup
    /// (`unresolvable_host`) nor a bad URL (`invalid_url`), which would hide a resolver that reads
    /// `127.1` or octal and hex forms differently from the connecting side.
    @Test(arguments: forbidden)
    func nonPublicTargetsAreRefused(url: String) async {
        do {
            let accepted = try await TargetGuard().check(url)
            Issue.record("accepted \(url) as \(accepted.1)")
        } catch {
            #expect(error.code == "forbidden_target", "\(url): \(error.code) \(error.message)")
            #expect(error.message.contains("not a public unicast address"), "\(url): \(error.message)")
        }
    }

    /// Numeric shorthands are read as the connecting side reads them (inet_aton), then refused.
    @Test(arguments: [("https://127.1/", "127.0.0.1"), ("https://0x7f.0.0.1/", "127.0.0.1"), ("https://2130706433/", "127.0.0.1"),
                      ("https://017700000001/", "127.0.0.1"), ("https://0177.0.0.1/", "127.0.0.1"), ("https://10.1/", "10.0.0.1"),
                      ("https://0xa9.0xfe.0xa9.0xfe/", "169.254.169.254")])
    func numericShorthandsAreReadAsAddresses(url: String, address: String) async {
        do {
            _ = try await TargetGuard().check(url)
            Issue.record("accepted \(url)")
        } catch {
            #expect(error.code == "forbidden_target" && error.message.contains("resolves to \(address),"), "\(url): \(error.message)")
        }
        #expect(await TargetGuard.resolve(String(url.dropFirst(8).dropLast())) == [IPAddress(address)].compactMap { $0 })
    }

    @Test func publicAddressesPass() async throws {
        let (target, addresses) = try await TargetGuard().check("https://93.184.216.34:8443/hook")
        #expect(target.port == 8443 && addresses == [IPAddress("93.184.216.34")])
        #expect(try await TargetGuard().check("https://[2606:4700::1111]/").1 == [IPAddress("2606:4700::1111")])
    }

    @Test(arguments: ["http://93.184.216.34/", "ftp://93.184.216.34/", "not a url", "https:///path", "https://user:pw@93.184.216.34/",
                      "https://93.184.216.34/#frag", "https://93.184.216.34:0/", "//93.184.216.34/"])
    func malformedOrPlainHTTPURLsAreRefused(url: String) async {
        // Refused for its form, before any lookup: the resolver must never be asked.
        let guardWithoutDNS = TargetGuard { host in
            Issue.record("resolved \(host) for \(url)")
            return []
        }
        do {
            _ = try await guardWithoutDNS.check(url)
            Issue.record("accepted \(url)")
        } catch {
            #expect(error.code == "invalid_url", "\(url): \(error.code) \(error.message)")
        }
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
        do {
            _ = try await guardForTests.check("http://[::1]:9999/")
            Issue.record("accepted ::1 outside the allow-list")
        } catch {
            #expect(error.code == "forbidden_target", "\(error.message)")
        }
    }

    @Test func cidrParsing() {
        #expect(CIDR("10.0.0.0/8")?.contains(IPAddress("10.255.0.1")!) == true)
        #expect(CIDR("10.0.0.0/8")?.contains(IPAddress("11.0.0.1")!) == false)
        #expect(CIDR("::1")?.prefixLength == 128)
        #expect(CIDR("10.0.0.0/33") == nil && CIDR("x/8") == nil)
    }
}
