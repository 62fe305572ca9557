/// SHA-512 (FIPS 180-4), streaming and one-shot. Ed25519 (RFC 8032) hashes with it.
///
/// Pure Swift, no I/O; the eighty-word message schedule lives in inline storage (no allocation
/// per block).
public struct SHA512: Sendable, BlockHashing, StreamingHash {
    /// Size of a digest, in bytes.
    public static let digestByteCount = 64
    /// Size of one compression block, in bytes.
    package static let blockByteCount = 128

    private var state: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (
        0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b, 0xa54ff53a5f1d36f1,
        0x510e527fade682d1, 0x9b05688c2b3e6c1f, 0x1f83d9abfb41bd6b, 0x5be0cd19137e2179)
    /// Bytes waiting for a full block; only the first `pendingByteCount` are meaningful.
    private var pending = [UInt8](repeating: 0, count: SHA512.blockByteCount)
    var pendingByteCount = 0
    /// Total message length so far, in bytes (messages up to 2^64 - 1 bytes).
    var messageByteCount: UInt64 = 0

    /// Creates a hasher in the initial state.
    public init() {}

    /// Absorbs the bytes at `buffer`.
    public mutating func update(_ buffer: UnsafeRawBufferPointer) { absorb(buffer) }

    mutating func storePending(from source: UnsafeRawPointer, count: Int, at offset: Int) {
        pending.withUnsafeMutableBytes { destination in
            (destination.baseAddress.unsafelyUnwrapped + offset).copyMemory(from: source, byteCount: count)
        }
    }

    mutating func compressPending() {
        let block = pending
        block.withUnsafeBytes { compress(blocks: $0.baseAddress.unsafelyUnwrapped, blockCount: 1) }
    }

    /// Pads, finishes and returns the 64-byte digest. The hasher is consumed.
    public consuming func finalize() -> [UInt8] {
        let bitCount = messageByteCount &* 8
        var block = [UInt8](repeating: 0, count: 2 * SHA512.blockByteCount)
        for index in 0..<pendingByteCount { block[index] = pending[index] }
        block[pendingByteCount] = 0x80
        // The length field is 128 bits; the high 64 bits are zero for any message we can hold.
        let blockCount = pendingByteCount >= SHA512.blockByteCount - 16 ? 2 : 1
        let end = blockCount * SHA512.blockByteCount
        for index in 0..<8 { block[end - 1 - index] = UInt8(truncatingIfNeeded: bitCount >> (8 * UInt64(index))) }
        block.withUnsafeBytes { compress(blocks: $0.baseAddress.unsafelyUnwrapped, blockCount: blockCount) }
        var digest = [UInt8](repeating: 0, count: SHA512.digestByteCount)
        let words = [state.0, state.1, state.2, state.3, state.4, state.5, state.6, state.7]
        for (wordIndex, word) in words.enumerated() {
            for byteIndex in 0..<8 {
                digest[wordIndex * 8 + byteIndex] = UInt8(truncatingIfNeeded: word >> (56 - 8 * UInt64(byteIndex)))
            }
        }
        return digest
    }

    @inline(__always)
    private static func rotr(_ x: UInt64, _ n: UInt64) -> UInt64 { (x &>> n) | (x &<< (64 &- n)) }

    /// Compresses `blockCount` consecutive 128-byte blocks starting at `blocks`.
    mutating func compress(blocks: UnsafeRawPointer, blockCount: Int) {
        var schedule: (
            UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64
        ) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var block = blocks
        for _ in 0..<blockCount {
            withUnsafeMutableBytes(of: &schedule) { raw in
                let w = raw.bindMemory(to: UInt64.self)
                for index in 0..<16 {
                    w[index] = UInt64(bigEndian: block.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self))
                }
                var a = state.0, b = state.1, c = state.2, d = state.3
                var e = state.4, f = state.5, g = state.6, h = state.7
                for round in 0..<80 {
                    let word: UInt64
                    if round < 16 {
                        word = w[round]
                    } else {
                        let w15 = w[(round - 15) & 15], w2 = w[(round - 2) & 15]
                        let s0 = Self.rotr(w15, 1) ^ Self.rotr(w15, 8) ^ (w15 &>> 7)
                        let s1 = Self.rotr(w2, 19) ^ Self.rotr(w2, 61) ^ (w2 &>> 6)
                        word = w[round & 15] &+ s0 &+ w[(round - 7) & 15] &+ s1
                        w[round & 15] = word
                    }
                    let big1 = Self.rotr(e, 14) ^ Self.rotr(e, 18) ^ Self.rotr(e, 41)
                    let choose = g ^ (e & (f ^ g))
                    let t1 = h &+ big1 &+ choose &+ SHA512.roundConstants[round] &+ word
                    let big0 = Self.rotr(a, 28) ^ Self.rotr(a, 34) ^ Self.rotr(a, 39)
                    let majority = (a & b) | (c & (a | b))
                    let t2 = big0 &+ majority
                    h = g; g = f; f = e; e = d &+ t1
                    d = c; c = b; b = a; a = t1 &+ t2
                }
                state.0 &+= a; state.1 &+= b; state.2 &+= c; state.3 &+= d
                state.4 &+= e; state.5 &+= f; state.6 &+= g; state.7 &+= h
            }
            block += SHA512.blockByteCount
        }
    }

    private static let roundConstants: [UInt64] = [
        0x428a2f98d728ae22, 0x7137449123ef65cd, 0xb5c0fbcfec4d3b2f, 0xe9b5dba58189dbbc, 0x3956c25bf348b538,
        0x59f111f1b605d019, 0x923f82a4af194f9b, 0xab1c5ed5da6d8118, 0xd807aa98a3030242, 0x12835b0145706fbe,
        0x243185be4ee4b28c, 0x550c7dc3d5ffb4e2, 0x72be5d74f27b896f, 0x80deb1fe3b1696b1, 0x9bdc06a725c71235,
        0xc19bf174cf692694, 0xe49b69c19ef14ad2, 0xefbe4786384f25e3, 0x0fc19dc68b8cd5b5, 0x240ca1cc77ac9c65,
        0x2de92c6f592b0275, 0x4a7484aa6ea6e483, 0x5cb0a9dcbd41fbd4, 0x76f988da831153b5, 0x983e5152ee66dfab,
        0xa831c66d2db43210, 0xb00327c898fb213f, 0xbf597fc7beef0ee4, 0xc6e00bf33da88fc2, 0xd5a79147930aa725,
        0x06ca6351e003826f, 0x142929670a0e6e70, 0x27b70a8546d22ffc, 0x2e1b21385c26c926, 0x4d2c6dfc5ac42aed,
        0x53380d139d95b3df, 0x650a73548baf63de, 0x766a0abb3c77b2a8, 0x81c2c92e47edaee6, 0x92722c851482353b,
        0xa2bfe8a14cf10364, 0xa81a664bbc423001, 0xc24b8b70d0f89791, 0xc76c51a30654be30, 0xd192e819d6ef5218,
        0xd69906245565a910, 0xf40e35855771202a, 0x106aa07032bbd1b8, 0x19a4c116b8d2d0c8, 0x1e376c085141ab53,
        0x2748774cdf8eeb99, 0x34b0bcb5e19b48a8, 0x391c0cb3c5c95a63, 0x4ed8aa4ae3418acb, 0x5b9cca4f7763e373,
        0x682e6ff3d6b2b8a3, 0x748f82ee5defb2fc, 0x78a5636f43172f60, 0x84c87814a1f0ab72, 0x8cc702081a6439ec,
        0x90befffa23631e28, 0xa4506cebde82bde9, 0xbef9a3f7b2c67915, 0xc67178f2e372532b, 0xca273eceea26619c,
        0xd186b8c721c0c207, 0xeada7dd6cde0eb1e, 0xf57d4f7fee6ed178, 0x06f067aa72176fba, 0x0a637dc5a2c898a6,
        0x113f9804bef90dae, 0x1b710b35131c471b, 0x28db77f523047d84, 0x32caab7b40c72493, 0x3c9ebe0a15c9bebc,
        0x431d67c49c100d4c, 0x4cc5d4becb3e42b6, 0x597f299cfc657e2a, 0x5fcb6fab3ad6faec, 0x6c44198c4a475817,
    ]
}
