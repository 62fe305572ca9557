/// A point of the twisted Edwards curve -x^2 + y^2 = 1 + d x^2 y^2 (edwards25519) in extended
/// coordinates (X:Y:Z:T), x = X/Z, y = Y/Z, x*y = T/Z.
///
/// Addition and doubling use the complete formulas of Hisil, Wong, Carter and Dawson (2008) for
/// a = -1, so they need no special cases (and no branches): the identity adds like any point.
struct Ed25519Point: Sendable {
    var x: Ed25519FieldElement, y: Ed25519FieldElement, z: Ed25519FieldElement, t: Ed25519FieldElement

    /// The neutral element (0, 1).
    static let identity = Ed25519Point(x: .zero, y: .one, z: .one, t: .zero)

    /// The base point B of RFC 8032 (y = 4/5, x positive).
    static let base: Ed25519Point = {
        guard let point = Ed25519Point(encoded: Hex.bytes("5866666666666666666666666666666666666666666666666666666666666666")) else {
            preconditionFailure("the base point constant does not decode")
        }
        return point
    }()

    init(x: Ed25519FieldElement, y: Ed25519FieldElement, z: Ed25519FieldElement, t: Ed25519FieldElement) {
        self.x = x; self.y = y; self.z = z; self.t = t
    }

    /// Decodes 32 bytes per RFC 8032 section 5.1.3; nil for a non-canonical y (y >= p), for a y
    /// with no x on the curve, and for x = 0 with the sign bit set. Not constant time (public data).
    init?(encoded bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        let sign = bytes[31] >> 7
        var yBytes = bytes
        yBytes[31] &= 0x7f
        let y = Ed25519FieldElement(littleEndianBytes: yBytes)
        guard y.littleEndianBytes == yBytes else { return nil }
        let y2 = y.squared()
        let u = y2 - .one
        let v = Ed25519FieldElement.d * y2 + .one
        let v3 = v.squared() * v
        var x = u * v3 * (u * v3.squared() * v).powerP58()
        let vx2 = v * x.squared()
        if (vx2 - u).isZero {
            // x is a root.
        } else if (vx2 + u).isZero {
            x = x * .sqrtMinusOne
        } else {
            return nil
        }
        if x.isZero && sign == 1 { return nil }
        if (x.isNegative ? 1 : 0) != sign { x = -x }
        self.init(x: x, y: y, z: .one, t: x * y)
    }

    /// The 32-byte encoding of RFC 8032 section 5.1.2 (y with the sign of x in bit 255).
    var encoded: [UInt8] {
        let inverse = z.inverted()
        let affineX = x * inverse
        var bytes = (y * inverse).littleEndianBytes
        bytes[31] |= (affineX.isNegative ? 0x80 : 0)
        return bytes
    }

    /// True when this is the neutral element (projectively: X = 0 and Y = Z).
    var isIdentity: Bool { x.isZero && (y - z).isZero }

    /// -P.
    var negated: Ed25519Point { Ed25519Point(x: -x, y: y, z: z, t: -t) }

    /// P + Q.
    static func + (p: Ed25519Point, q: Ed25519Point) -> Ed25519Point {
        let a = (p.y - p.x) * (q.y - q.x)
        let b = (p.y + p.x) * (q.y + q.x)
        let c = p.t * Ed25519FieldElement.d2 * q.t
        let zz = p.z * q.z
        let d = zz + zz
        return finish(e: b - a, f: d - c, g: d + c, h: b + a)
    }

    /// P + Q with Q in cached form (precomputed sums and 2dT): four products fewer per add.
    static func + (p: Ed25519Point, q: Cached) -> Ed25519Point {
        let a = (p.y - p.x) * q.yMinusX
        let b = (p.y + p.x) * q.yPlusX
        let c = p.t * q.t2d
        let d = p.z * q.z2
        return finish(e: b - a, f: d - c, g: d + c, h: b + a)
    }

    @inline(__always)
    private static func finish(e: Ed25519FieldElement, f: Ed25519FieldElement, g: Ed25519FieldElement, h: Ed25519FieldElement) -> Ed25519Point {
        Ed25519Point(x: e * f, y: g * h, z: f * g, t: e * h)
    }

    /// 2P.
    func doubled() -> Ed25519Point {
        let a = x.squared()
        let b = y.squared()
        let zz = z.squared()
        let c = zz + zz
        let h = a + b
        let e = h - (x + y).squared()
        let g = a - b
        let f = c + g
        return Self.finish(e: e, f: f, g: g, h: h)
    }

    /// The point in cached form, for repeated additions.
    var cached: Cached { Cached(yPlusX: y + x, yMinusX: y - x, z2: z + z, t2d: t * .d2) }

    /// A point prepared for addition: (Y+X, Y-X, 2Z, 2dT).
    struct Cached: Sendable {
        var yPlusX: Ed25519FieldElement, yMinusX: Ed25519FieldElement, z2: Ed25519FieldElement, t2d: Ed25519FieldElement

        /// The cached form of the identity.
        static let identity = Ed25519Point.identity.cached

        /// Replaces self with `other` when `choice` is 1, in constant time.
        @inline(__always)
        mutating func conditionallyAssign(_ other: Cached, choice: UInt64) {
            yPlusX.conditionallyAssign(other.yPlusX, choice: choice)
            yMinusX.conditionallyAssign(other.yMinusX, choice: choice)
            z2.conditionallyAssign(other.z2, choice: choice)
            t2d.conditionallyAssign(other.t2d, choice: choice)
        }
    }
}
