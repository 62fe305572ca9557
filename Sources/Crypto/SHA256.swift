#if arch(x86_64)
import CryptoIntrinsics
#endif

/// SHA-256 (FIPS 180-4), streaming and one-shot.
///
/// Uses the SHA-NI instructions where the CPU has them (see `HashImplementation`), otherwise a
/// portable compression function, fully unrolled over eight rotating working variables and a
/// sixteen-word message schedule held in locals, so the optimiser keeps everything in registers.
/// No I/O, no allocation per block.
public struct SHA256: Sendable, BlockHashing, StreamingHash {
    /// Size of a digest, in bytes.
    public static let digestByteCount = 32
    /// Size of one compression block, in bytes.
    package static let blockByteCount = 64

    private var state: State
    /// Bytes waiting for a full block; only the first `pendingByteCount` are meaningful.
    private var pending: Block
    var pendingByteCount: Int
    /// Total message length so far, in bytes.
    var messageByteCount: UInt64
    /// The compression code this hasher runs.
    package let implementation: HashImplementation

    /// Creates a hasher in the initial state.
    public init() {
        self.init(implementation: HashImplementation.preferredSHA256)
    }

    /// Creates a hasher that runs `implementation` (tests and benchmarks pick one explicitly).
    /// - Precondition: `implementation.isAvailable(for: .sha256)`.
    package init(implementation: HashImplementation) {
        precondition(implementation.isAvailable(for: .sha256), "SHA-256 \(implementation) code is not available on this CPU")
        state = State()
        pending = Block()
        pendingByteCount = 0
        messageByteCount = 0
        self.implementation = implementation
    }

    /// Absorbs the bytes at `buffer`.
    public mutating func update(_ buffer: UnsafeRawBufferPointer) { absorb(buffer) }

    mutating func storePending(from source: UnsafeRawPointer, count: Int, at offset: Int) {
        pending.copy(from: source, count: count, at: offset)
    }

    mutating func compressPending() {
        pending.withPointer { state.compress(blocks: $0, blockCount: 1, implementation: implementation) }
    }

    mutating func compress(blocks: UnsafeRawPointer, blockCount: Int) {
        state.compress(blocks: blocks, blockCount: blockCount, implementation: implementation)
    }

    /// Pads, finishes and returns the 32-byte digest. The hasher is consumed.
    public consuming func finalize() -> [UInt8] {
        finalizedState().bigEndianBytes()
    }

    /// Pads and compresses the last block(s); returns the final chaining value (the digest as
    /// eight words). Padding is built in inline storage: no heap allocation.
    consuming func finalizedState() -> State {
        var blocks = paddingBlocks()
        withUnsafeBytes(of: &blocks) { bytes in
            state.compress(blocks: bytes.baseAddress.unsafelyUnwrapped, blockCount: pendingByteCount >= 56 ? 2 : 1,
                           implementation: implementation)
        }
        return state
    }

    /// Exposes the chaining value so HMAC can precompute its padded-key states.
    init(resumingFrom state: State, messageByteCount: UInt64, implementation: HashImplementation) {
        self.state = state
        self.pending = Block()
        self.pendingByteCount = 0
        self.messageByteCount = messageByteCount
        self.implementation = implementation
    }

    /// The chaining value; valid as a resume point only when no bytes are pending.
    var chainingState: State { state }
}

extension SHA256 {
    /// Sixty-four bytes of inline storage: no heap allocation per hasher.
    struct Block: Sendable {
        private var words: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)

        mutating func copy(from source: UnsafeRawPointer, count: Int, at offset: Int) {
            withUnsafeMutableBytes(of: &words) { destination in
                // Precondition of the caller: offset + count <= 64.
                (destination.baseAddress.unsafelyUnwrapped + offset).copyMemory(from: source, byteCount: count)
            }
        }

        /// Writes 0x80 at `offset` and zeros after it (the stale bytes of earlier blocks too).
        mutating func pad(from offset: Int) {
            withUnsafeMutableBytes(of: &words) { bytes in
                // Precondition of the caller: offset < 64.
                bytes[offset] = 0x80
                for index in (offset + 1)..<64 { bytes[index] = 0 }
            }
        }

        /// Stores the message length in bits, big-endian, in the last eight bytes.
        mutating func storeBigEndianLength(_ bitCount: UInt64) {
            words.7 = bitCount.bigEndian
        }

        func withPointer<R>(_ body: (UnsafeRawPointer) -> R) -> R {
            withUnsafeBytes(of: words) { body($0.baseAddress.unsafelyUnwrapped) }
        }
    }

    /// The eight 32-bit chaining words.
    struct State: Sendable {
        var h0: UInt32 = 0x6a09e667, h1: UInt32 = 0xbb67ae85, h2: UInt32 = 0x3c6ef372, h3: UInt32 = 0xa54ff53a
        var h4: UInt32 = 0x510e527f, h5: UInt32 = 0x9b05688c, h6: UInt32 = 0x1f83d9ab, h7: UInt32 = 0x5be0cd19

        /// The digest bytes: the eight words, big-endian. One allocation, the result.
        func bigEndianBytes() -> [UInt8] {
            [UInt8](unsafeUninitializedCapacity: 32) { buffer, initializedCount in
                let raw = UnsafeMutableRawBufferPointer(buffer)
                for (index, word) in [h0, h1, h2, h3, h4, h5, h6, h7].enumerated() {
                    raw.storeBytes(of: word.bigEndian, toByteOffset: index * 4, as: UInt32.self)
                }
                initializedCount = 32
            }
        }

        /// Calls `body` with the digest bytes in inline storage (no allocation).
        func withBigEndianBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
            let words = (h0.bigEndian, h1.bigEndian, h2.bigEndian, h3.bigEndian,
                         h4.bigEndian, h5.bigEndian, h6.bigEndian, h7.bigEndian)
            return withUnsafeBytes(of: words) { body($0) }
        }

        @inline(__always)
        private static func load(_ block: UnsafeRawPointer, _ offset: Int) -> UInt32 {
            UInt32(bigEndian: block.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
        }

        @inline(__always)
        private static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x &>> n) | (x &<< (32 &- n)) }

        @inline(__always)
        private static func small0(_ x: UInt32) -> UInt32 { rotr(x ^ rotr(x, 11), 7) ^ (x &>> 3) }

        @inline(__always)
        private static func small1(_ x: UInt32) -> UInt32 { rotr(x ^ rotr(x, 2), 17) ^ (x &>> 10) }

        @inline(__always)
        private static func round(
            _ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: inout UInt32,
            _ e: UInt32, _ f: UInt32, _ g: UInt32, _ h: inout UInt32, _ kw: UInt32, _ bXorC: inout UInt32
        ) {
            let big1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
            let choose = g ^ (e & (f ^ g))
            let t1 = h &+ big1 &+ choose &+ kw
            let big0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
            // Maj(a, b, c) = b ^ ((a ^ b) & (b ^ c)); this round's a ^ b is the next round's b ^ c.
            let aXorB = a ^ b
            let majority = b ^ (aXorB & bXorC)
            bXorC = aXorB
            d = d &+ t1
            h = t1 &+ big0 &+ majority
        }

        /// Compresses `blockCount` consecutive 64-byte blocks starting at `blocks` with `implementation`.
        @inline(__always)
        mutating func compress(blocks: UnsafeRawPointer, blockCount: Int, implementation: HashImplementation) {
            #if arch(x86_64)
            if implementation == .hardware {
                SHA256Hardware.compress(&words, blocks: blocks, blockCount: blockCount)
                return
            }
            #endif
            compressPortably(blocks: blocks, blockCount: blockCount)
        }

        /// Compresses `blockCount` consecutive 64-byte blocks starting at `blocks`, in portable Swift.
        mutating func compressPortably(blocks: UnsafeRawPointer, blockCount: Int) {
            var a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7
            var w0: UInt32 = 0, w1: UInt32 = 0, w2: UInt32 = 0, w3: UInt32 = 0
            var w4: UInt32 = 0, w5: UInt32 = 0, w6: UInt32 = 0, w7: UInt32 = 0
            var w8: UInt32 = 0, w9: UInt32 = 0, w10: UInt32 = 0, w11: UInt32 = 0
            var w12: UInt32 = 0, w13: UInt32 = 0, w14: UInt32 = 0, w15: UInt32 = 0
            var block = blocks
            for _ in 0..<blockCount {
                var bXorC = b ^ c
                w0 = Self.load(block, 0)
                Self.round(a, b, c, &d, e, f, g, &h, 0x428a2f98 &+ w0, &bXorC)
                w1 = Self.load(block, 4)
                Self.round(h, a, b, &c, d, e, f, &g, 0x71374491 &+ w1, &bXorC)
                w2 = Self.load(block, 8)
                Self.round(g, h, a, &b, c, d, e, &f, 0xb5c0fbcf &+ w2, &bXorC)
                w3 = Self.load(block, 12)
                Self.round(f, g, h, &a, b, c, d, &e, 0xe9b5dba5 &+ w3, &bXorC)
                w4 = Self.load(block, 16)
                Self.round(e, f, g, &h, a, b, c, &d, 0x3956c25b &+ w4, &bXorC)
                w5 = Self.load(block, 20)
                Self.round(d, e, f, &g, h, a, b, &c, 0x59f111f1 &+ w5, &bXorC)
                w6 = Self.load(block, 24)
                Self.round(c, d, e, &f, g, h, a, &b, 0x923f82a4 &+ w6, &bXorC)
                w7 = Self.load(block, 28)
                Self.round(b, c, d, &e, f, g, h, &a, 0xab1c5ed5 &+ w7, &bXorC)
                w8 = Self.load(block, 32)
                Self.round(a, b, c, &d, e, f, g, &h, 0xd807aa98 &+ w8, &bXorC)
                w9 = Self.load(block, 36)
                Self.round(h, a, b, &c, d, e, f, &g, 0x12835b01 &+ w9, &bXorC)
                w10 = Self.load(block, 40)
                Self.round(g, h, a, &b, c, d, e, &f, 0x243185be &+ w10, &bXorC)
                w11 = Self.load(block, 44)
                Self.round(f, g, h, &a, b, c, d, &e, 0x550c7dc3 &+ w11, &bXorC)
                w12 = Self.load(block, 48)
                Self.round(e, f, g, &h, a, b, c, &d, 0x72be5d74 &+ w12, &bXorC)
                w13 = Self.load(block, 52)
                Self.round(d, e, f, &g, h, a, b, &c, 0x80deb1fe &+ w13, &bXorC)
                w14 = Self.load(block, 56)
                Self.round(c, d, e, &f, g, h, a, &b, 0x9bdc06a7 &+ w14, &bXorC)
                w15 = Self.load(block, 60)
                Self.round(b, c, d, &e, f, g, h, &a, 0xc19bf174 &+ w15, &bXorC)
                w0 = Self.small1(w14) &+ w9 &+ Self.small0(w1) &+ w0
                Self.round(a, b, c, &d, e, f, g, &h, 0xe49b69c1 &+ w0, &bXorC)
                w1 = Self.small1(w15) &+ w10 &+ Self.small0(w2) &+ w1
                Self.round(h, a, b, &c, d, e, f, &g, 0xefbe4786 &+ w1, &bXorC)
                w2 = Self.small1(w0) &+ w11 &+ Self.small0(w3) &+ w2
                Self.round(g, h, a, &b, c, d, e, &f, 0x0fc19dc6 &+ w2, &bXorC)
                w3 = Self.small1(w1) &+ w12 &+ Self.small0(w4) &+ w3
                Self.round(f, g, h, &a, b, c, d, &e, 0x240ca1cc &+ w3, &bXorC)
                w4 = Self.small1(w2) &+ w13 &+ Self.small0(w5) &+ w4
                Self.round(e, f, g, &h, a, b, c, &d, 0x2de92c6f &+ w4, &bXorC)
                w5 = Self.small1(w3) &+ w14 &+ Self.small0(w6) &+ w5
                Self.round(d, e, f, &g, h, a, b, &c, 0x4a7484aa &+ w5, &bXorC)
                w6 = Self.small1(w4) &+ w15 &+ Self.small0(w7) &+ w6
                Self.round(c, d, e, &f, g, h, a, &b, 0x5cb0a9dc &+ w6, &bXorC)
                w7 = Self.small1(w5) &+ w0 &+ Self.small0(w8) &+ w7
                Self.round(b, c, d, &e, f, g, h, &a, 0x76f988da &+ w7, &bXorC)
                w8 = Self.small1(w6) &+ w1 &+ Self.small0(w9) &+ w8
                Self.round(a, b, c, &d, e, f, g, &h, 0x983e5152 &+ w8, &bXorC)
                w9 = Self.small1(w7) &+ w2 &+ Self.small0(w10) &+ w9
                Self.round(h, a, b, &c, d, e, f, &g, 0xa831c66d &+ w9, &bXorC)
                w10 = Self.small1(w8) &+ w3 &+ Self.small0(w11) &+ w10
                Self.round(g, h, a, &b, c, d, e, &f, 0xb00327c8 &+ w10, &bXorC)
                w11 = Self.small1(w9) &+ w4 &+ Self.small0(w12) &+ w11
                Self.round(f, g, h, &a, b, c, d, &e, 0xbf597fc7 &+ w11, &bXorC)
                w12 = Self.small1(w10) &+ w5 &+ Self.small0(w13) &+ w12
                Self.round(e, f, g, &h, a, b, c, &d, 0xc6e00bf3 &+ w12, &bXorC)
                w13 = Self.small1(w11) &+ w6 &+ Self.small0(w14) &+ w13
                Self.round(d, e, f, &g, h, a, b, &c, 0xd5a79147 &+ w13, &bXorC)
                w14 = Self.small1(w12) &+ w7 &+ Self.small0(w15) &+ w14
                Self.round(c, d, e, &f, g, h, a, &b, 0x06ca6351 &+ w14, &bXorC)
                w15 = Self.small1(w13) &+ w8 &+ Self.small0(w0) &+ w15
                Self.round(b, c, d, &e, f, g, h, &a, 0x14292967 &+ w15, &bXorC)
                w0 = Self.small1(w14) &+ w9 &+ Self.small0(w1) &+ w0
                Self.round(a, b, c, &d, e, f, g, &h, 0x27b70a85 &+ w0, &bXorC)
                w1 = Self.small1(w15) &+ w10 &+ Self.small0(w2) &+ w1
                Self.round(h, a, b, &c, d, e, f, &g, 0x2e1b2138 &+ w1, &bXorC)
                w2 = Self.small1(w0) &+ w11 &+ Self.small0(w3) &+ w2
                Self.round(g, h, a, &b, c, d, e, &f, 0x4d2c6dfc &+ w2, &bXorC)
                w3 = Self.small1(w1) &+ w12 &+ Self.small0(w4) &+ w3
                Self.round(f, g, h, &a, b, c, d, &e, 0x53380d13 &+ w3, &bXorC)
                w4 = Self.small1(w2) &+ w13 &+ Self.small0(w5) &+ w4
                Self.round(e, f, g, &h, a, b, c, &d, 0x650a7354 &+ w4, &bXorC)
                w5 = Self.small1(w3) &+ w14 &+ Self.small0(w6) &+ w5
                Self.round(d, e, f, &g, h, a, b, &c, 0x766a0abb &+ w5, &bXorC)
                w6 = Self.small1(w4) &+ w15 &+ Self.small0(w7) &+ w6
                Self.round(c, d, e, &f, g, h, a, &b, 0x81c2c92e &+ w6, &bXorC)
                w7 = Self.small1(w5) &+ w0 &+ Self.small0(w8) &+ w7
                Self.round(b, c, d, &e, f, g, h, &a, 0x92722c85 &+ w7, &bXorC)
                w8 = Self.small1(w6) &+ w1 &+ Self.small0(w9) &+ w8
                Self.round(a, b, c, &d, e, f, g, &h, 0xa2bfe8a1 &+ w8, &bXorC)
                w9 = Self.small1(w7) &+ w2 &+ Self.small0(w10) &+ w9
                Self.round(h, a, b, &c, d, e, f, &g, 0xa81a664b &+ w9, &bXorC)
                w10 = Self.small1(w8) &+ w3 &+ Self.small0(w11) &+ w10
                Self.round(g, h, a, &b, c, d, e, &f, 0xc24b8b70 &+ w10, &bXorC)
                w11 = Self.small1(w9) &+ w4 &+ Self.small0(w12) &+ w11
                Self.round(f, g, h, &a, b, c, d, &e, 0xc76c51a3 &+ w11, &bXorC)
                w12 = Self.small1(w10) &+ w5 &+ Self.small0(w13) &+ w12
                Self.round(e, f, g, &h, a, b, c, &d, 0xd192e819 &+ w12, &bXorC)
                w13 = Self.small1(w11) &+ w6 &+ Self.small0(w14) &+ w13
                Self.round(d, e, f, &g, h, a, b, &c, 0xd6990624 &+ w13, &bXorC)
                w14 = Self.small1(w12) &+ w7 &+ Self.small0(w15) &+ w14
                Self.round(c, d, e, &f, g, h, a, &b, 0xf40e3585 &+ w14, &bXorC)
                w15 = Self.small1(w13) &+ w8 &+ Self.small0(w0) &+ w15
                Self.round(b, c, d, &e, f, g, h, &a, 0x106aa070 &+ w15, &bXorC)
                w0 = Self.small1(w14) &+ w9 &+ Self.small0(w1) &+ w0
                Self.round(a, b, c, &d, e, f, g, &h, 0x19a4c116 &+ w0, &bXorC)
                w1 = Self.small1(w15) &+ w10 &+ Self.small0(w2) &+ w1
                Self.round(h, a, b, &c, d, e, f, &g, 0x1e376c08 &+ w1, &bXorC)
                w2 = Self.small1(w0) &+ w11 &+ Self.small0(w3) &+ w2
                Self.round(g, h, a, &b, c, d, e, &f, 0x2748774c &+ w2, &bXorC)
                w3 = Self.small1(w1) &+ w12 &+ Self.small0(w4) &+ w3
                Self.round(f, g, h, &a, b, c, d, &e, 0x34b0bcb5 &+ w3, &bXorC)
                w4 = Self.small1(w2) &+ w13 &+ Self.small0(w5) &+ w4
                Self.round(e, f, g, &h, a, b, c, &d, 0x391c0cb3 &+ w4, &bXorC)
                w5 = Self.small1(w3) &+ w14 &+ Self.small0(w6) &+ w5
                Self.round(d, e, f, &g, h, a, b, &c, 0x4ed8aa4a &+ w5, &bXorC)
                w6 = Self.small1(w4) &+ w15 &+ Self.small0(w7) &+ w6
                Self.round(c, d, e, &f, g, h, a, &b, 0x5b9cca4f &+ w6, &bXorC)
                w7 = Self.small1(w5) &+ w0 &+ Self.small0(w8) &+ w7
                Self.round(b, c, d, &e, f, g, h, &a, 0x682e6ff3 &+ w7, &bXorC)
                w8 = Self.small1(w6) &+ w1 &+ Self.small0(w9) &+ w8
                Self.round(a, b, c, &d, e, f, g, &h, 0x748f82ee &+ w8, &bXorC)
                w9 = Self.small1(w7) &+ w2 &+ Self.small0(w10) &+ w9
                Self.round(h, a, b, &c, d, e, f, &g, 0x78a5636f &+ w9, &bXorC)
                w10 = Self.small1(w8) &+ w3 &+ Self.small0(w11) &+ w10
                Self.round(g, h, a, &b, c, d, e, &f, 0x84c87814 &+ w10, &bXorC)
                w11 = Self.small1(w9) &+ w4 &+ Self.small0(w12) &+ w11
                Self.round(f, g, h, &a, b, c, d, &e, 0x8cc70208 &+ w11, &bXorC)
                w12 = Self.small1(w10) &+ w5 &+ Self.small0(w13) &+ w12
                Self.round(e, f, g, &h, a, b, c, &d, 0x90befffa &+ w12, &bXorC)
                w13 = Self.small1(w11) &+ w6 &+ Self.small0(w14) &+ w13
                Self.round(d, e, f, &g, h, a, b, &c, 0xa4506ceb &+ w13, &bXorC)
                w14 = Self.small1(w12) &+ w7 &+ Self.small0(w15) &+ w14
                Self.round(c, d, e, &f, g, h, a, &b, 0xbef9a3f7 &+ w14, &bXorC)
                w15 = Self.small1(w13) &+ w8 &+ Self.small0(w0) &+ w15
                Self.round(b, c, d, &e, f, g, h, &a, 0xc67178f2 &+ w15, &bXorC)
                a = a &+ h0; b = b &+ h1; c = c &+ h2; d = d &+ h3
                e = e &+ h4; f = f &+ h5; g = g &+ h6; h = h &+ h7
                h0 = a; h1 = b; h2 = c; h3 = d; h4 = e; h5 = f; h6 = g; h7 = h
                block += 64
            }
        }
    }
}

extension SHA256 {
    /// Absorbs `firstBytes` into `first` and `secondBytes` into `second`: the same as
    /// `first.update(firstBytes)` then `second.update(secondBytes)`, except that on SHA-NI the whole
    /// blocks the two inputs have in common are compressed two streams at a time
    /// (`SHA256Hardware.compressPair`: one stream leaves the rounds unit idle between its dependent
    /// rounds, a second one fills those waits). Either hasher may hold pending bytes.
    package static func update(_ first: inout SHA256, with firstBytes: UnsafeRawBufferPointer,
                               _ second: inout SHA256, with secondBytes: UnsafeRawBufferPointer) {
        #if arch(x86_64)
        if first.implementation == .hardware, second.implementation == .hardware {
            let firstTotal = first.messageByteCount &+ UInt64(firstBytes.count)
            let secondTotal = second.messageByteCount &+ UInt64(secondBytes.count)
            var (firstRest, firstFull) = first.topUpPending(from: firstBytes)
            var (secondRest, secondFull) = second.topUpPending(from: secondBytes)
            if firstFull && secondFull {
                var firstWords = first.state.words, secondWords = second.state.words
                first.pending.withPointer { firstBlock in
                    second.pending.withPointer { secondBlock in
                        SHA256Hardware.compressPair(&firstWords, blocks: firstBlock, &secondWords, blocks: secondBlock, blockCount: 1)
                    }
                }
                first.state.words = firstWords
                second.state.words = secondWords
            } else {
                if firstFull { first.compressPending() }
                if secondFull { second.compressPending() }
            }
            if firstFull { first.pendingByteCount = 0 }
            if secondFull { second.pendingByteCount = 0 }
            let sharedBlockCount = min(firstRest.count, secondRest.count) / blockByteCount
            if sharedBlockCount > 0, let firstBase = firstRest.baseAddress, let secondBase = secondRest.baseAddress {
                var firstWords = first.state.words, secondWords = second.state.words
                SHA256Hardware.compressPair(&firstWords, blocks: firstBase, &secondWords, blocks: secondBase,
                                            blockCount: sharedBlockCount)
                first.state.words = firstWords
                second.state.words = secondWords
                firstRest = UnsafeRawBufferPointer(rebasing: firstRest[(sharedBlockCount * blockByteCount)...])
                secondRest = UnsafeRawBufferPointer(rebasing: secondRest[(sharedBlockCount * blockByteCount)...])
            }
            // What is left (no pending bytes before it): whole blocks one stream at a time, then the tail.
            first.absorb(firstRest)
            second.absorb(secondRest)
            first.messageByteCount = firstTotal
            second.messageByteCount = secondTotal
            return
        }
        #endif
        first.update(firstBytes)
        second.update(secondBytes)
    }

    /// Tops up the partial block from `buffer` and returns the bytes after what it took (empty when the
    /// partial block took them all), and whether the block is now full (the caller compresses it and
    /// empties it). Leaves `messageByteCount` alone.
    private mutating func topUpPending(from buffer: UnsafeRawBufferPointer) -> (rest: UnsafeRawBufferPointer, full: Bool) {
        guard pendingByteCount > 0, let base = buffer.baseAddress, buffer.count > 0 else { return (buffer, false) }
        let taken = min(buffer.count, Self.blockByteCount - pendingByteCount)
        storePending(from: base, count: taken, at: pendingByteCount)
        pendingByteCount += taken
        return (UnsafeRawBufferPointer(rebasing: buffer[taken...]), pendingByteCount == Self.blockByteCount)
    }
}

extension SHA256.State {
    /// The eight chaining words as one tuple (the form `SHA256Hardware` takes).
    var words: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) {
        get { (h0, h1, h2, h3, h4, h5, h6, h7) }
        set { (h0, h1, h2, h3, h4, h5, h6, h7) = newValue }
    }
}

extension SHA256 {
    /// Writes `SHA-256(prefix || message)` of each of the `messageCount` messages of `messageByteCount`
    /// bytes laid end to end at `messages` to `digests`, 32 bytes each, end to end (a Merkle tree level:
    /// `prefix` 0x01, messages of two child hashes). On SHA-NI two messages are hashed at once, padding
    /// included (`SHA256Hardware.compressPair`); no allocation. `digests` may start where `messages` does
    /// when `messageByteCount >= 32` (each pair is read before its digests are written).
    /// - Precondition: `messages` holds `messageCount * messageByteCount` bytes, `digests` `messageCount * 32`.
    package static func hashEach(prefix: UInt8, messages: UnsafeRawBufferPointer, messageCount: Int, messageByteCount: Int,
                                 into digests: UnsafeMutableRawBufferPointer,
                                 implementation: HashImplementation = HashImplementation.preferredSHA256) {
        precondition(messages.count >= messageCount * messageByteCount && digests.count >= messageCount * digestByteCount)
        guard messageCount > 0, let base = messages.baseAddress else { return }
        func message(_ index: Int) -> UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(start: base + index * messageByteCount, count: messageByteCount)
        }
        func store(_ state: State, at index: Int) {
            state.withBigEndianBytes { digests.baseAddress.unsafelyUnwrapped.advanced(by: index * digestByteCount).copyMemory(from: $0.baseAddress.unsafelyUnwrapped, byteCount: digestByteCount) }
        }
        var prefixHasher = SHA256(implementation: implementation)
        withUnsafeBytes(of: prefix) { prefixHasher.update($0) }
        var index = 0
        while index + 1 < messageCount {
            var first = prefixHasher, second = prefixHasher
            update(&first, with: message(index), &second, with: message(index + 1))
            let (firstState, secondState) = finalizedStates(first, second)
            store(firstState, at: index)
            store(secondState, at: index + 1)
            index += 2
        }
        if index < messageCount {
            var last = prefixHasher
            last.update(message(index))
            store(last.finalizedState(), at: index)
        }
    }

    /// `first.finalizedState()` and `second.finalizedState()`, their padding blocks compressed together on
    /// SHA-NI when both need as many (one, or two when 56 or more bytes are pending).
    static func finalizedStates(_ first: consuming SHA256, _ second: consuming SHA256) -> (State, State) {
        #if arch(x86_64)
        let blockCount = first.pendingByteCount >= 56 ? 2 : 1
        if first.implementation == .hardware, second.implementation == .hardware, blockCount == (second.pendingByteCount >= 56 ? 2 : 1) {
            var firstBlocks = first.paddingBlocks(), secondBlocks = second.paddingBlocks()
            var firstWords = first.state.words, secondWords = second.state.words
            withUnsafeBytes(of: &firstBlocks) { firstBytes in
                withUnsafeBytes(of: &secondBlocks) { secondBytes in
                    SHA256Hardware.compressPair(&firstWords, blocks: firstBytes.baseAddress.unsafelyUnwrapped,
                                                &secondWords, blocks: secondBytes.baseAddress.unsafelyUnwrapped, blockCount: blockCount)
                }
            }
            var firstState = State(), secondState = State()
            firstState.words = firstWords
            secondState.words = secondWords
            return (firstState, secondState)
        }
        #endif
        return (first.finalizedState(), second.finalizedState())
    }

    /// The pending bytes padded, and the message length, as the last block or two (the second only used
    /// when 56 or more bytes are pending), one after the other.
    private func paddingBlocks() -> (Block, Block) {
        var blocks = (pending, Block())
        blocks.0.pad(from: pendingByteCount)
        if pendingByteCount >= 56 {
            blocks.1.storeBigEndianLength(messageByteCount &* 8)
        } else {
            blocks.0.storeBigEndianLength(messageByteCount &* 8)
        }
        return blocks
    }
}
