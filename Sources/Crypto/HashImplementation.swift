#if arch(x86_64)
import _Builtin_intrinsics.intel.cpuid
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Which code computes SHA-256 and CRC-32C: the portable Swift, or the CPU's own instructions
/// (SHA-NI for SHA-256, SSE4.2 `crc32` for CRC-32C). Chosen once per process from CPUID; setting
/// `ARGUS_CRYPTO_PORTABLE=1` in the environment forces the portable code (for tests and benchmarks).
/// Both give identical results; tests run both explicitly.
package enum HashImplementation: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Pure Swift, any CPU.
    case portable
    /// CPU instructions; only where `isAvailable(for:)` says so.
    case hardware

    /// The two algorithms with a hardware path.
    package enum Algorithm: Sendable {
        case sha256, crc32c
    }

    package var description: String { rawValue }

    /// Whether this implementation of `algorithm` can run on this CPU (ignoring the environment).
    package func isAvailable(for algorithm: Algorithm) -> Bool {
        switch self {
        case .portable: return true
        case .hardware:
            switch algorithm {
            case .sha256: return CPUFeatures.current.hasSHA256Instructions
            case .crc32c: return CPUFeatures.current.hasCRC32Instruction
            }
        }
    }

    /// True when `ARGUS_CRYPTO_PORTABLE` is set to anything but empty or `0`.
    package static let isPortableForced: Bool = {
        guard let value = getenv("ARGUS_CRYPTO_PORTABLE") else { return false }
        let text = String(cString: value)
        return !text.isEmpty && text != "0"
    }()

    /// What `SHA256()` uses by default.
    package static let preferredSHA256: HashImplementation = preferred(for: .sha256)
    /// What `CRC32C` uses by default.
    package static let preferredCRC32C: HashImplementation = preferred(for: .crc32c)

    private static func preferred(for algorithm: Algorithm) -> HashImplementation {
        !isPortableForced && HashImplementation.hardware.isAvailable(for: algorithm) ? .hardware : .portable
    }
}

/// The instruction-set extensions the hash code cares about, read once with CPUID.
package struct CPUFeatures: Sendable {
    /// SHA-NI plus the SSSE3 and SSE4.1 shuffles its code uses.
    package var hasSHA256Instructions = false
    /// SSE4.2 (`crc32`).
    package var hasCRC32Instruction = false

    /// This CPU's features.
    package static let current = CPUFeatures.detect()

    private static func detect() -> CPUFeatures {
        var features = CPUFeatures()
        #if arch(x86_64)
        var eax: UInt32 = 0, ebx: UInt32 = 0, ecx: UInt32 = 0, edx: UInt32 = 0
        guard __get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 else { return features }
        let ssse3 = ecx & (1 << 9) != 0
        let sse41 = ecx & (1 << 19) != 0
        features.hasCRC32Instruction = ecx & (1 << 20) != 0
        guard __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) != 0 else { return features }
        features.hasSHA256Instructions = ssse3 && sse41 && ebx & (1 << 29) != 0
        #endif
        return features
    }
}
