import Crypto
import Foundation
import SystemIO

extension CryptoBenchmark {
    /// Ed25519 signatures/s and verifications/s of a 1 KiB message, beside `openssl speed ed25519`
    /// (whose message size is fixed by OpenSSL).
    static func addEd25519Rows(to report: inout BenchmarkReport, seconds: Double, openssl: String?, opensslSeconds: Int, body: [UInt8]) throws {
        let key = try Ed25519PrivateKey.generate()
        let signature = key.signature(for: body)
        report.add(name: "ed25519_sign", impl: "argus", sizeBytes: body.count,
                   value: Measure.operationsPerSecond(seconds: seconds) { blackHole(key.signature(for: body)) },
                   unit: .operationsPerSecond, note: "constant-time base multiplication")
        report.add(name: "ed25519_verify", impl: "argus", sizeBytes: body.count,
                   value: Measure.operationsPerSecond(seconds: seconds) { blackHole(key.publicKey.isValidSignature(signature, for: body)) },
                   unit: .operationsPerSecond)
        guard let openssl, let (signs, verifies) = OpenSSLSpeed.ed25519OperationsPerSecond(executable: openssl, seconds: opensslSeconds) else {
            return
        }
        report.add(name: "ed25519_sign", impl: "openssl", sizeBytes: nil, value: signs, unit: .operationsPerSecond, note: "openssl speed ed25519")
        report.add(name: "ed25519_verify", impl: "openssl", sizeBytes: nil, value: verifies, unit: .operationsPerSecond, note: "openssl speed ed25519")
    }
}

extension OpenSSLSpeed {
    /// Signatures/s and verifications/s from `openssl speed -elapsed -seconds S -mr ed25519`
    /// (its `+F6:0:253:Ed25519:<sign/s>:<verify/s>` line), or nil on failure.
    static func ed25519OperationsPerSecond(executable: String, seconds: Int) -> (Double, Double)? {
        let arguments = ["speed", "-elapsed", "-seconds", String(seconds), "-mr", "ed25519"]
        guard let (status, data) = try? ChildProcess.run(executable, arguments: arguments, environment: ProcessInfo.processInfo.environment), status == 0 else {
            return nil
        }
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where line.hasPrefix("+F6:") {
            let fields = line.split(separator: ":")
            if fields.count >= 6, let signs = Double(fields[4]), let verifies = Double(fields[5]) { return (signs, verifies) }
        }
        return nil
    }
}
