import Foundation

/// A small deterministic random number generator (SplitMix64) for tests that fuzz: the same seed
/// gives the same sequence, so a failure reproduces.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    /// A seed in `ARGUS_TEST_SEED` that is not a decimal or `0x` hexadecimal 64-bit number.
    public struct SeedError: Error, CustomStringConvertible {
        /// The text found.
        public let text: String
        public var description: String { "ARGUS_TEST_SEED=\(text) is not a decimal or 0x-hexadecimal number below 2^64" }
    }

    /// The seed this generator started from (a test puts it in its failure messages).
    public let seed: UInt64
    private var state: UInt64

    /// A generator whose sequence is fixed by `seed`.
    public init(seed: UInt64) {
        self.seed = seed
        state = seed
    }

    /// A generator for a test that varies from run to run: seeded from `ARGUS_TEST_SEED` in `environment`
    /// when set (to rerun a failure with the seed its messages name), else from the system's generator.
    /// - Throws: `SeedError` for an `ARGUS_TEST_SEED` that is not a 64-bit number.
    public static func varying(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> SeededGenerator {
        guard let text = environment["ARGUS_TEST_SEED"] else {
            return SeededGenerator(seed: UInt64.random(in: .min ... .max))
        }
        // Decimal or 0x-hex digits only (`UInt64(_:radix:)` would also take a sign).
        let hex = text.hasPrefix("0x")
        let digits = hex ? text.dropFirst(2) : Substring(text)
        guard !digits.isEmpty, digits.allSatisfy({ hex ? $0.isHexDigit : ("0"..."9").contains($0) }),
              let seed = UInt64(digits, radix: hex ? 16 : 10) else { throw SeedError(text: text) }
        return SeededGenerator(seed: seed)
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}
