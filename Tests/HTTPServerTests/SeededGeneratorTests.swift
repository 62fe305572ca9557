import ArgusTestSupport
import Testing

/// The generator the fuzzing tests here draw from: `ARGUS_TEST_SEED` (decimal or 0x-hex) reruns a seed a
/// failure message named; anything else there is refused, not ignored.
@Suite struct SeededGeneratorTests {
    @Test func aSeedFromTheEnvironmentRepeatsItsSequence() throws {
        var named = try SeededGenerator.varying(environment: ["ARGUS_TEST_SEED": "0x5eed"])
        var same = SeededGenerator(seed: 0x5EED)
        #expect(named.seed == 0x5EED && (0..<4).map { _ in named.next() } == (0..<4).map { _ in same.next() })
        #expect(try SeededGenerator.varying(environment: ["ARGUS_TEST_SEED": "18446744073709551615"]).seed == .max)
        #expect(throws: SeededGenerator.SeedError.self) { try SeededGenerator.varying(environment: ["ARGUS_TEST_SEED": "18446744073709551616"]) }
        #expect(throws: SeededGenerator.SeedError.self) { try SeededGenerator.varying(environment: ["ARGUS_TEST_SEED": "seed"]) }
        for malformed in ["+5", "-1", "", "0x", "0x+5", "0x10000000000000000", " 5"] {
            #expect(throws: SeededGenerator.SeedError.self, "\(malformed)") { try SeededGenerator.varying(environment: ["ARGUS_TEST_SEED": malformed]) }
        }
        #expect(try SeededGenerator.varying(environment: [:]).seed != SeededGenerator.varying(environment: [:]).seed,
                "without the variable, two runs draw different seeds (equal with chance 2^-64)")
    }
}
