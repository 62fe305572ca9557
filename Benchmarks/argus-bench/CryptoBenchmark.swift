import Crypto
import Foundation
import WebhookSigning

/// `argus-bench crypto`: SHA-256 and CRC-32C throughput (hardware and portable code), HMAC-SHA256 and
/// webhook signing rates, with `openssl speed` run in the same process as a peer (SHA-NI masked and
/// unmasked); then `argus-events sign` against two `openssl dgst -hmac` passes and `argus-events verify`
/// against `sha256sum` (see `CommandPeers`).
enum CryptoBenchmark: Benchmark {
    static let name = "crypto"
    static let summary = "SHA-256/CRC-32C MB/s, HMAC/s, Ed25519 signs/s and verifies/s, sign and verify end to end; openssl speed, openssl dgst, sha256sum alongside"
    static let usage = "crypto [--seconds S] [--openssl-seconds N] [--no-openssl] [--only NAME,...]"

    static let sha256Sizes = [64, 1024, 64 * 1024]
    static let hmacBodyBytes = 1024

    static func run(_ words: [String]) async throws -> Int32 {
        var seconds = 1.0
        var opensslSeconds = 1
        var runOpenSSL = true
        var only: Set<String>?
        var index = 0
        while index < words.count {
            switch words[index] {
            case "--seconds":
                guard index + 1 < words.count, let value = Double(words[index + 1]), value > 0, value <= 60 else {
                    throw BenchmarkUsageError("--seconds needs a number from 0 to 60")
                }
                seconds = value
                index += 1
            case "--openssl-seconds":
                guard index + 1 < words.count, let value = Int(words[index + 1]), (1...30).contains(value) else {
                    throw BenchmarkUsageError("--openssl-seconds needs an integer from 1 to 30")
                }
                opensslSeconds = value
                index += 1
            case "--no-openssl":
                runOpenSSL = false
            case "--only":
                guard index + 1 < words.count else { throw BenchmarkUsageError("--only needs row names, such as sha256,verify") }
                only = Set(words[index + 1].split(separator: ",").map(String.init))
                index += 1
            default:
                throw BenchmarkUsageError("unknown option \(words[index])")
            }
            index += 1
        }

        var report = BenchmarkReport(bench: name)
        var generator = SystemRandomNumberGenerator()
        let openssl = runOpenSSL ? OpenSSLSpeed.executable() : nil
        if runOpenSSL && openssl == nil {
            FileHandle.standardError.write(Data("argus-bench crypto: openssl not found, peer rows skipped\n".utf8))
        }

        func selected(_ row: String) -> Bool { only?.contains(row) ?? true }

        let forced = HashImplementation.isPortableForced ? " (ARGUS_CRYPTO_PORTABLE set)" : ""
        for size in sha256Sizes where selected("sha256") {
            let input = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
            for implementation in HashImplementation.allCases where implementation.isAvailable(for: .sha256) {
                let rate = Measure.operationsPerSecond(seconds: seconds) {
                    var hasher = SHA256(implementation: implementation)
                    hasher.update(input)
                    blackHole(hasher.finalize())
                }
                let chosen = implementation == HashImplementation.preferredSHA256 ? ", the default here" + forced : ""
                report.add(name: "sha256", impl: "argus \(implementation)", sizeBytes: size, value: rate * Double(size) / 1e6,
                           unit: .megabytesPerSecond, note: (implementation == .hardware ? "SHA-NI" : "pure Swift") + chosen)
            }
            if HashImplementation.hardware.isAvailable(for: .sha256) {
                // Two independent messages at once (`SHA256.update(_:with:_:with:)`, as the log writer does for
                // the leaf hashes and the payload digests): bytes of both messages per second.
                let other = Array(input.reversed())
                let rate = Measure.operationsPerSecond(seconds: seconds) {
                    var first = SHA256(implementation: .hardware), second = SHA256(implementation: .hardware)
                    input.withUnsafeBytes { firstBytes in
                        other.withUnsafeBytes { secondBytes in SHA256.update(&first, with: firstBytes, &second, with: secondBytes) }
                    }
                    blackHole(first.finalize())
                    blackHole(second.finalize())
                }
                report.add(name: "sha256", impl: "argus hardware, two messages at once", sizeBytes: size,
                           value: rate * Double(2 * size) / 1e6, unit: .megabytesPerSecond,
                           note: "SHA-NI, the rounds of two messages interleaved; bytes of both per second")
            }
            if let openssl {
                for (impl, cap, note) in peers {
                    // The SHA-NI peer is the target's yardstick: best of three runs, as our rows are best of rounds.
                    let runs = cap == nil ? 3 : 1
                    let rates = (0..<runs).compactMap { _ in
                        OpenSSLSpeed.bytesPerSecond(executable: openssl, algorithm: ["-evp", "sha256"], sizeBytes: size,
                                                    seconds: opensslSeconds, ia32cap: cap)
                    }
                    if let bytesPerSecond = rates.max() {
                        report.add(name: "sha256", impl: impl, sizeBytes: size, value: bytesPerSecond / 1e6, unit: .megabytesPerSecond,
                                   note: note + (runs > 1 ? ", best of \(runs) runs" : ""))
                    }
                }
            }
        }

        for size in sha256Sizes where selected("crc32c") {
            let input = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
            for implementation in HashImplementation.allCases where implementation.isAvailable(for: .crc32c) {
                let rate = Measure.operationsPerSecond(seconds: seconds) {
                    blackHole(input.withUnsafeBytes { CRC32C.update(0, $0, implementation: implementation) })
                }
                report.add(name: "crc32c", impl: "argus \(implementation)", sizeBytes: size, value: rate * Double(size) / 1e6,
                           unit: .megabytesPerSecond, note: implementation == .hardware ? "SSE4.2 crc32, 3 streams" : "slicing-by-8")
            }
        }

        let body = (0..<hmacBodyBytes).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let secret = try WebhookSecret.generate()
        let hmac = HMACSHA256(key: secret.keyBytes)
        if selected("hmac_sha256") {
        report.add(name: "hmac_sha256", impl: "argus", sizeBytes: hmacBodyBytes,
                   value: Measure.operationsPerSecond(seconds: seconds) { blackHole(hmac.authenticationCode(for: body)) },
                   unit: .operationsPerSecond, note: "key blocks precomputed")
        report.add(name: "hmac_sha256", impl: "argus", sizeBytes: hmacBodyBytes,
                   value: Measure.operationsPerSecond(seconds: seconds) {
                       blackHole(HMACSHA256.authenticationCode(for: body, key: secret.keyBytes))
                   },
                   unit: .operationsPerSecond, note: "key set up per call")
        if let openssl {
            for (impl, cap, note) in peers {
                if let bytesPerSecond = OpenSSLSpeed.bytesPerSecond(
                    executable: openssl, algorithm: ["-hmac", "sha256"], sizeBytes: hmacBodyBytes, seconds: opensslSeconds, ia32cap: cap) {
                    report.add(name: "hmac_sha256", impl: impl, sizeBytes: hmacBodyBytes,
                               value: bytesPerSecond / Double(hmacBodyBytes), unit: .operationsPerSecond, note: note)
                }
            }
        }

        }

        let id = "6f1c2a4e-8b3d-4c5e-9f70-1a2b3c4d5e6f"
        let timestampSeconds = Date().wholeUnixSeconds
        if selected("standard_webhooks_signature") {
        report.add(name: "standard_webhooks_signature", impl: "argus", sizeBytes: hmacBodyBytes,
                   value: Measure.operationsPerSecond(seconds: seconds) {
                       blackHole(WebhookSigner.standardSignature(secret: secret, id: id, timestampSeconds: timestampSeconds, body: body))
                   },
                   unit: .operationsPerSecond, note: "v1,<base64>")
        }
        if selected("delivery_headers") {
        report.add(name: "delivery_headers", impl: "argus", sizeBytes: hmacBodyBytes,
                   value: Measure.operationsPerSecond(seconds: seconds) {
                       blackHole(DeliveryHeaders(
                           newestSecret: secret, deliveryID: id, timestampSeconds: timestampSeconds, attempt: 1,
                           eventType: "user.created", body: body, version: "bench"))
                   },
                   unit: .operationsPerSecond, note: "all 12 headers, 1 secret")
        let older = try WebhookSecret.generate()
        report.add(name: "delivery_headers", impl: "argus", sizeBytes: hmacBodyBytes,
                   value: Measure.operationsPerSecond(seconds: seconds) {
                       blackHole(DeliveryHeaders(
                           newestSecret: secret, olderSecrets: [older], deliveryID: id, timestampSeconds: timestampSeconds,
                           attempt: 1, eventType: "user.created", body: body, version: "bench"))
                   },
                   unit: .operationsPerSecond, note: "all 12 headers, 2 secrets (rotation)")
        }
        let fields = DeliveryHeaders(
            newestSecret: secret, deliveryID: id, timestampSeconds: timestampSeconds, attempt: 1,
            eventType: "user.created", body: body, version: "bench").fields
        let verifier = WebhookVerifier(secret: secret)
        if selected("verify") {
        report.add(name: "verify", impl: "argus", sizeBytes: hmacBodyBytes,
                   value: Measure.operationsPerSecond(seconds: seconds) {
                       blackHole(try? verifier.verify(body: body, headers: fields, nowUnixSeconds: timestampSeconds))
                   },
                   unit: .operationsPerSecond, note: "webhook-signature and x-argus-signature")
        }

        if selected("ed25519") {
            try addEd25519Rows(to: &report, seconds: seconds, openssl: openssl, opensslSeconds: opensslSeconds, body: body)
        }

        if selected("sign_cli") || selected("verify_log") {
            let scratch = NSTemporaryDirectory() + "/argus-bench-crypto-\(getpid())"
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            if selected("sign_cli") { try CommandPeers.sign(into: &report, scratch: scratch) }
            if selected("verify_log") { try CommandPeers.verify(into: &report, scratch: scratch) }
        }

        report.print()
        return 0
    }

    /// The OpenSSL configurations run next to ours: SHA-NI masked (its AVX2 + BMI2 code),
    /// integer instructions only (the fair peer of pure Swift), and unmasked (SHA-NI).
    static let peers: [(impl: String, ia32cap: String?, note: String)] = [
        ("openssl", OpenSSLSpeed.maskSHANI, "SHA-NI masked: AVX2 (OPENSSL_ia32cap=\(OpenSSLSpeed.maskSHANI))"),
        ("openssl", OpenSSLSpeed.integerOnly, "integer only (OPENSSL_ia32cap=\(OpenSSLSpeed.integerOnly))"),
        ("openssl", nil, "SHA-NI"),
    ]
}
