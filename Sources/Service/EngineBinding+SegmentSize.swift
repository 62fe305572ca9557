import JSON
import NATS

extension EngineBinding {
    /// The key of the service's segment roll size in `ARGUS_META` (decimal bytes).
    static let segmentBytesName = "segment-bytes"
    /// The refusal's code when a process's `--segment-bytes` differs from the engine's.
    static let segmentBytesMismatch = "segment_bytes_mismatch"

    /// What a process with roll size `sizeBytes` does about the engine's recorded one.
    enum SegmentSizeAgreement: Equatable {
        /// Nothing recorded yet: record `sizeBytes` (compare-and-set; the first process wins).
        case record
        /// The engine records the same size.
        case agrees
        /// The engine records another size (or one out of `ServeConfigFile.segmentBytesRange`).
        case differs(recorded: String)
    }

    /// Whether `sizeBytes` may join an engine whose entry `segment-bytes` holds `recorded` (nil: none).
    static func segmentSizeAgreement(recorded: [UInt8]?, sizeBytes: Int) -> SegmentSizeAgreement {
        guard let recorded else { return .record }
        let text = String(decoding: recorded.prefix(24), as: UTF8.self)
        // Plain decimal digits only (`Int` would also take a sign).
        guard recorded.count <= 24, !recorded.isEmpty, recorded.allSatisfy({ (0x30...0x39).contains($0) }),
              let size = Int(text), ServeConfigFile.segmentBytesRange.contains(size) else { return .differs(recorded: text) }
        return size == sizeBytes ? .agrees : .differs(recorded: text)
    }

    /// Makes every `serve --engine` process cut its copy of the log at one roll size (`--segment-bytes`):
    /// the sealer's copy is the service's record and another process that takes the role over seals on
    /// with its own size, so the sizes must be equal. The first process records its size in
    /// `ARGUS_META` by compare-and-set; a process whose size differs is refused. Runs before the data
    /// directory is opened, so a refused process changes nothing.
    /// - Throws: `JoinRefusal` (`segment_bytes_mismatch`); engine errors once retries took `openRetrySeconds`.
    package func shareSegmentSize(_ sizeBytes: Int, logger: Logger) async throws {
        for _ in 0..<3 {
            let entry = try await Self.retrying("segment size", logger: logger) { () throws(JetStreamError) in
                try await meta.get(Self.segmentBytesName)
            }
            switch Self.segmentSizeAgreement(recorded: entry?.value, sizeBytes: sizeBytes) {
            case .agrees:
                return
            case .differs(let recorded):
                throw JoinRefusal(code: Self.segmentBytesMismatch,
                                  "--segment-bytes \(sizeBytes) differs from the engine's \(recorded) (ARGUS_META \(Self.segmentBytesName)); every serve --engine process of one service needs the same --segment-bytes",
                                  details: [("segment_bytes", .integer(Int64(sizeBytes))), ("engine_segment_bytes", .string(recorded))])
            case .record:
                do {
                    _ = try await Self.retrying("segment size", logger: logger) { () throws(JetStreamError) in
                        try await meta.create(Self.segmentBytesName, Array(String(sizeBytes).utf8))
                    }
                    logger.info("segment size recorded in the engine", [("segment_bytes", .integer(Int64(sizeBytes)))])
                    return
                } catch JetStreamError.keyExists {
                    continue  // another process recorded first: compare with its size
                }
            }
        }
        throw JoinRefusal(code: Self.segmentBytesMismatch, "the engine's \(Self.segmentBytesName) changed while this process read it")
    }
}
