import Foundation

/// Runs `openssl speed` as a peer and parses its machine-readable (`-mr`) output.
enum OpenSSLSpeed {
    /// `OPENSSL_ia32cap` value that hides SHA-NI (CPUID leaf 7 EBX bit 29) from OpenSSL, so it
    /// uses its best SIMD (AVX2) code path instead of the SHA extensions.
    static let maskSHANI = ":~0x20000000"
    /// `OPENSSL_ia32cap` value that also hides SSSE3, AVX, AVX2, BMI1 and BMI2, leaving
    /// OpenSSL's integer-only SHA-256: the same instructions our pure Swift code may use.
    static let integerOnly = "~0x1000020000000000:~0x20000128"

    /// The path of `openssl`, or nil when it is not installed.
    static func executable() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/openssl"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Bytes per second of `openssl speed -elapsed <algorithm...> -bytes N -seconds S -mr`, or nil on failure.
    /// - Parameters:
    ///   - algorithm: such as `["-evp", "sha256"]` or `["-hmac", "sha256"]`.
    ///   - ia32cap: the `OPENSSL_ia32cap` value, or nil to leave the variable unset.
    static func bytesPerSecond(executable: String, algorithm: [String], sizeBytes: Int, seconds: Int, ia32cap: String?) -> Double? {
        var environment = ProcessInfo.processInfo.environment
        // An empty OPENSSL_ia32cap is not "unset": it disables every extension. Remove it instead.
        environment["OPENSSL_ia32cap"] = ia32cap
        // -elapsed: wall-clock time, as our own rows are measured (not CPU user time).
        let arguments = ["speed", "-elapsed"] + algorithm + ["-bytes", String(sizeBytes), "-seconds", String(seconds), "-mr"]
        guard let (status, data) = try? ChildProcess.run(executable, arguments: arguments, environment: environment),
              status == 0 else { return nil }
        return parse(String(decoding: data, as: UTF8.self))
    }

    /// The rate of the `+F:<n>:<name>:<bytes per second>` line (one size requested).
    static func parse(_ output: String) -> Double? {
        for line in output.split(separator: "\n") where line.hasPrefix("+F:") {
            if let last = line.split(separator: ":").last, let value = Double(last) { return value }
        }
        return nil
    }
}
