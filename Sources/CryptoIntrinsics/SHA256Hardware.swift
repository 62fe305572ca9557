#if arch(x86_64)
import _Builtin_intrinsics.intel

/// The SHA-256 compression function on the x86 SHA extensions (SHA-NI: `sha256rnds2`,
/// `sha256msg1`, `sha256msg2`), four rounds per message vector.
///
/// Call only when `CPUFeatures` reports SHA-NI, SSSE3 and SSE4.1: this target is compiled for them.
package enum SHA256Hardware {
    /// The eight chaining words `h0...h7`.
    package typealias Words = (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32)

    /// The round constants K0...K63, read four at a time.
    private static let roundConstants: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    @inline(__always)
    private static func vector(_ lanes: SIMD4<UInt32>) -> SIMD2<Int64> { unsafeBitCast(lanes, to: SIMD2<Int64>.self) }

    @inline(__always)
    private static func lanes(_ vector: SIMD2<Int64>) -> SIMD4<UInt32> { unsafeBitCast(vector, to: SIMD4<UInt32>.self) }

    /// One message's compression: its chaining state (as the instructions keep it: ABEF and CDGH, lane 3
    /// first), the state before the current block, and the block's four message vectors. `compress` runs
    /// one lane, `compressPair` two, step by step in turn; the rounds are written once, here.
    private struct Lane {
        var abef: SIMD2<Int64>
        var cdgh: SIMD2<Int64>
        private var abefBefore = SIMD2<Int64>()
        private var cdghBefore = SIMD2<Int64>()
        private var m0 = SIMD2<Int64>(), m1 = SIMD2<Int64>(), m2 = SIMD2<Int64>(), m3 = SIMD2<Int64>()

        @inline(__always)
        init(_ words: Words) {
            abef = vector(SIMD4<UInt32>(words.5, words.4, words.1, words.0))
            cdgh = vector(SIMD4<UInt32>(words.7, words.6, words.3, words.2))
        }

        @inline(__always)
        var words: Words {
            let front = lanes(abef), back = lanes(cdgh)
            return (front[3], front[2], back[3], back[2], front[1], front[0], back[1], back[0])
        }

        /// Loads the 64-byte block at `block` (big-endian words) and notes the state before it.
        @inline(__always)
        mutating func load(_ block: UnsafeRawPointer) {
            let byteSwap = vector(SIMD4<UInt32>(0x0001_0203, 0x0405_0607, 0x0809_0a0b, 0x0c0d_0e0f))
            abefBefore = abef
            cdghBefore = cdgh
            m0 = _mm_shuffle_epi8(block.loadUnaligned(as: SIMD2<Int64>.self), byteSwap)
            m1 = _mm_shuffle_epi8(block.loadUnaligned(fromByteOffset: 16, as: SIMD2<Int64>.self), byteSwap)
            m2 = _mm_shuffle_epi8(block.loadUnaligned(fromByteOffset: 32, as: SIMD2<Int64>.self), byteSwap)
            m3 = _mm_shuffle_epi8(block.loadUnaligned(fromByteOffset: 48, as: SIMD2<Int64>.self), byteSwap)
        }

        /// Rounds 4g...4g+3 of the block: groups 0-3 use the loaded words, later groups first schedule
        /// theirs from the four before (W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16]).
        @inline(__always)
        mutating func rounds(group: Int, constants: UnsafeRawPointer) {
            let message: SIMD2<Int64>
            switch group & 3 {
            case 0:
                if group >= 4 { m0 = schedule(m0, m1, m2, m3) }
                message = m0
            case 1:
                if group >= 4 { m1 = schedule(m1, m2, m3, m0) }
                message = m1
            case 2:
                if group >= 4 { m2 = schedule(m2, m3, m0, m1) }
                message = m2
            default:
                if group >= 4 { m3 = schedule(m3, m0, m1, m2) }
                message = m3
            }
            let k = constants.loadUnaligned(fromByteOffset: 16 * group, as: SIMD4<UInt32>.self)
            let sum = vector(lanes(message) &+ k)
            cdgh = _mm_sha256rnds2_epu32(cdgh, abef, sum)
            abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_unpackhi_epi64(sum, sum))
        }

        /// Ends the block: adds the state before it.
        @inline(__always)
        mutating func finishBlock() {
            abef = vector(lanes(abef) &+ lanes(abefBefore))
            cdgh = vector(lanes(cdgh) &+ lanes(cdghBefore))
        }

        @inline(__always)
        private func schedule(_ minus4: SIMD2<Int64>, _ minus3: SIMD2<Int64>, _ minus2: SIMD2<Int64>,
                              _ minus1: SIMD2<Int64>) -> SIMD2<Int64> {
            let partial = lanes(_mm_sha256msg1_epu32(minus4, minus3))
            let older = lanes(minus2), newer = lanes(minus1)
            let minus7 = SIMD4<UInt32>(older[1], older[2], older[3], newer[0])
            return _mm_sha256msg2_epu32(vector(partial &+ minus7), minus1)
        }
    }

    /// Compresses `blockCount` consecutive 64-byte blocks at `blocks` into `words`.
    package static func compress(_ words: inout Words, blocks: UnsafeRawPointer, blockCount: Int) {
        var lane = Lane(words)
        roundConstants.withUnsafeBytes { constantBytes in
            let k = constantBytes.baseAddress.unsafelyUnwrapped
            for index in 0..<blockCount {
                lane.load(blocks + 64 * index)
                for group in 0..<16 { lane.rounds(group: group, constants: k) }
                lane.finishBlock()
            }
        }
        words = lane.words
    }

    /// Compresses `blockCount` blocks at `firstBlocks` into `first` and as many at `secondBlocks` into
    /// `second`, the two streams' rounds interleaved: each `sha256rnds2` waits on the one before it in
    /// its stream, so a second, independent stream fills those waits (about twice the bytes per cycle on
    /// CPUs whose rounds unit accepts a new instruction before the last one's result is there).
    /// Gives exactly what two `compress` calls give.
    package static func compressPair(_ first: inout Words, blocks firstBlocks: UnsafeRawPointer,
                                     _ second: inout Words, blocks secondBlocks: UnsafeRawPointer, blockCount: Int) {
        var pair = (Lane(first), Lane(second))
        roundConstants.withUnsafeBytes { constantBytes in
            let k = constantBytes.baseAddress.unsafelyUnwrapped
            for index in 0..<blockCount {
                pair.0.load(firstBlocks + 64 * index)
                pair.1.load(secondBlocks + 64 * index)
                for group in 0..<16 {
                    pair.0.rounds(group: group, constants: k)
                    pair.1.rounds(group: group, constants: k)
                }
                pair.0.finishBlock()
                pair.1.finishBlock()
            }
        }
        first = pair.0.words
        second = pair.1.words
    }
}
#endif
