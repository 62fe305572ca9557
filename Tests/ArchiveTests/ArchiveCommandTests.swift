import ArgusTestSupport
import Crypto
import Foundation
import Testing
@testable import Archive
import EventLog

/// `argus-events archive`, `verify --archive`, `segments` and `tail` on a directory target, as a user runs them.
@Suite(.serialized, .timeLimit(.minutes(5))) struct ArchiveCommandTests {
    /// The built `argus-events` (the tests run from the same build directory).
    static let executable = BuiltProduct.argusEvents

    /// Runs `argus-events` (killed after 120 s: status -1); the child cannot outlive the test process.
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
        let result = try ChildProcess.run(executable, arguments)
        return (result.status ?? -1, result.output, result.errors)
    }

    @Test func archiveVerifySegmentsAndTailBack() throws {
        let fixture = try ArchiveFixture()
        let data = fixture.dataDirectory
        let target = "file://" + fixture.archiveRoot
        let sealed = try fixture.sealedBases()

        let archived = try Self.run(["archive", "--data-dir", data, "--target", target])
        #expect(archived.status == 0, "\(archived.errors)")
        #expect(archived.output.contains("archived \(sealed.count) segments"))
        #expect(archived.output.contains("nothing deleted"))

        let segments = try Self.run(["segments", "--data-dir", data, "--format", "json"])
        let rows = segments.output.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(rows.count == sealed.count + 1)
        #expect(!rows.isEmpty && rows.allSatisfy { ($0["archived"] as? Bool) == ($0["sealed"] as? Bool) })

        let verified = try Self.run(["verify", "--data-dir", data, "--archive", target])
        #expect(verified.status == 0, "\(verified.output) \(verified.errors)")

        // Retention removed the two oldest local segments: tail reads them back from the archive.
        let before = try Self.run(["tail", "--data-dir", data, "--from", "3", "--count", "100", "--format", "text"])
        for base in sealed.prefix(2) {
            try FileManager.default.removeItem(atPath: fixture.logDirectory + "/" + SegmentName.log(baseOffset: base))
        }
        let after = try Self.run(["tail", "--data-dir", data, "--from", "3", "--count", "100", "--format", "text"])
        #expect(after.status == 0, "\(after.errors)")
        #expect(after.output == before.output && !after.output.isEmpty)

        // A tampered archived record: exit 1, naming its offset.
        let victim = sealed[1]
        let path = fixture.object(ArchiveLayout.segmentKey(baseOffset: victim))
        let frame = try frames(of: path)[1]
        try TestFiles.flipByte(path, at: frame.position + frame.size - 1)
        let failed = try Self.run(["verify", "--data-dir", data, "--archive", target])
        #expect(failed.status == 1)
        #expect(failed.output.hasPrefix("FAILED at offset \(victim + 1):"), "\(failed.output)")
    }

    /// `verify --archive` checks the archive as a transparency log too: the checkpoint's signature and
    /// every hash tile against the archived events; a changed or missing tile, or another key, exits 1.
    @Test func verifyArchiveChecksTheCheckpointAndHashTiles() throws {
        let fixture = try ArchiveFixture(count: 600)
        let data = fixture.dataDirectory
        let target = "file://" + fixture.archiveRoot
        #expect(try Self.run(["archive", "--data-dir", data, "--target", target]).status == 0)
        let clean = try Self.run(["verify", "--data-dir", data, "--archive", target])
        #expect(clean.status == 0, "\(clean.output) \(clean.errors)")
        #expect(clean.output.contains("is signed by argus.local/") && clean.output.contains("hash tiles match the archived events"), "\(clean.output)")

        let tile = fixture.archiveRoot + "/tile/0/001"
        let original = try Data(contentsOf: URL(fileURLWithPath: tile))
        try TestFiles.flipByte(tile, at: 100)
        let changed = try Self.run(["verify", "--data-dir", data, "--archive", target])
        #expect(changed.status == 1)
        #expect(changed.output.contains("FAILED: archive tile/0/001: differs from the hashes of the archived events"), "\(changed.output)")
        try FileManager.default.removeItem(atPath: tile)
        let missing = try Self.run(["verify", "--data-dir", data, "--archive", target])
        #expect(missing.status == 1)
        #expect(missing.output.contains("FAILED: archive tile/0/001: missing"), "\(missing.output)")
        try original.write(to: URL(fileURLWithPath: tile))

        // Another log's verifier key: the signature does not verify.
        let name = "argus.local/other"
        let publicKey = try Ed25519PrivateKey.generate().publicKey.rawRepresentation
        let keyID = SHA256.hash(Array(name.utf8) + [0x0A, 0x01] + publicKey).prefix(4)
        let foreign = name + "+" + keyID.map { String(format: "%02x", $0) }.joined() + "+" + Data([0x01] + publicKey).base64EncodedString()
        let otherKey = try Self.run(["verify", "--data-dir", data, "--archive", target, "--vkey", foreign])
        #expect(otherKey.status == 1, "\(otherKey.output)")
        #expect(otherKey.output.contains("FAILED: archive checkpoint:"), "\(otherKey.output)")
        #expect(try Self.run(["verify", "--data-dir", data, "--archive", target]).status == 0, "restored")
        // A key that does not parse is a usage error that names the flag.
        let malformed = try Self.run(["verify", "--data-dir", data, "--archive", target, "--vkey", "not-a-key"])
        #expect(malformed.status == 2, "\(malformed.errors)")
        #expect(malformed.errors.contains("--vkey: malformed verifier key"), "\(malformed.errors)")
    }

    @Test func usageErrors() throws {
        let fixture = try ArchiveFixture(count: 10)
        let data = fixture.dataDirectory
        #expect(try Self.run(["archive", "--data-dir", data]).status == 2)
        #expect(try Self.run(["archive", "--data-dir", data, "--target", "ftp://x"]).status == 2)
        #expect(try Self.run(["archive", "--data-dir", data, "--target", "file:///tmp/x", "--object-lock-days", "3"]).status == 2)
    }
}
