import Crypto

/// The on-disk framing of records and segment footers.
///
/// ```
/// frame  = length u32 | crc u32 | body        (little-endian)
/// crc    = CRC32C(length bytes ++ body)
/// event  = kind=1 u8 | 0 u8 | orgLen u16 | typeLen u16 | idLen u16 | offset u64 | timestampMs i64
///          | chain[32] | org | type | id | data
/// footer = kind=2 u8 | 0[7] | recordCount u64 | lastOffset u64 | lastChain[32] | segmentSHA256[32]
/// chain  = SHA-256(previousChain[32] ++ event body[0..<24] ++ SHA-256(org ++ type ++ id ++ data))
/// ```
/// The chain covers kind, lengths, offset and time directly and the payload through its digest.
/// `org ++ type ++ id ++ data` is the body from byte 56 on. The writer frames, chains and CRCs each record
/// (`appendEvent`), then adds it to the segment's running SHA-256 while it is in cache, hashing the next
/// event's payload for its chain beside it (`absorb(frame:into:withPayloadOf:to:)`, two streams at once).
enum RecordFrame {
    static let headerSizeBytes = 8
    static let eventFixedSizeBytes = 56
    static let footerBodySizeBytes = 88
    static let kindEvent: UInt8 = 1
    static let kindFooter: UInt8 = 2

    /// The payload digest that enters the chain (recomputed from a parsed record).
    static func payloadDigest(_ event: NewEvent) -> [UInt8] {
        var hasher = namesHasher(event)
        hasher.update(event.data)
        return hasher.finalize()
    }

    /// The chain value after a record with `fixedPrefix` (its first 24 body bytes) and `payloadDigest`.
    static func chain(previous: [UInt8], fixedPrefix: UnsafeRawBufferPointer, payloadDigest: some Collection<UInt8>) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(previous)
        hasher.update(fixedPrefix)
        hasher.update(payloadDigest)
        return hasher.finalize()
    }

    /// Checks `event` against the limits; nothing is written when this throws.
    static func validate(_ event: NewEvent) throws(EventLogError) {
        if event.data.count > EventLogLimits.dataSizeBytesMax {
            throw .invalidEvent(reason: "data is \(event.data.count) bytes, limit \(EventLogLimits.dataSizeBytesMax)")
        }
        for (name, value) in [("organization id", event.organizationID), ("type", event.type), ("event id", event.eventID)] {
            if value.utf8.isEmpty { throw .invalidEvent(reason: "\(name) is empty") }
            if value.utf8.count > EventLogLimits.nameSizeBytesMax {
                throw .invalidEvent(reason: "\(name) is longer than \(EventLogLimits.nameSizeBytesMax) bytes")
            }
        }
    }

    /// Appends the frame of `event` to `output`. `chain` has absorbed the previous record's chain value and
    /// nothing else; on return it has absorbed this record's, which is also at the returned position of
    /// `output` (32 bytes). `payloadDigest` is 32 bytes (see `appendPayloadDigest(of:to:)`). Each byte is
    /// copied in once, then CRC'd while in cache (`absorb(frame:into:withPayloadOf:to:)` hashes it for the
    /// segment next); no heap allocation but `output`'s growth.
    static func appendEvent(_ event: NewEvent, offset: UInt64, timestampMs: Int64, payloadDigest: UnsafeRawBufferPointer,
                            chain: inout SHA256, to output: inout ByteWriter) -> Int {
        var organization = event.organizationID, type = event.type, identifier = event.eventID
        let organizationCount = organization.utf8.count, typeCount = type.utf8.count, identifierCount = identifier.utf8.count
        let bodySize = eventFixedSizeBytes + organizationCount + typeCount + identifierCount + event.data.count
        let start = output.bytes.count
        output.append(UInt32(bodySize))
        output.append(UInt32(0))
        let bodyStart = output.bytes.count
        output.append(kindEvent)
        output.append(UInt8(0))
        output.append(UInt16(organizationCount))
        output.append(UInt16(typeCount))
        output.append(UInt16(identifierCount))
        output.append(offset)
        output.append(timestampMs)
        output.bytes.withUnsafeBytes { chain.update(UnsafeRawBufferPointer(rebasing: $0[bodyStart..<(bodyStart + 24)])) }
        chain.update(payloadDigest)
        let chainPosition = output.bytes.count
        let finished = chain
        chain = SHA256()
        finished.finalizeDigest().withUnsafeBytes { digest in
            output.bytes.append(contentsOf: digest)
            chain.update(digest)
        }
        organization.withUTF8 { output.bytes.append(contentsOf: $0) }
        type.withUTF8 { output.bytes.append(contentsOf: $0) }
        identifier.withUTF8 { output.bytes.append(contentsOf: $0) }
        output.bytes.append(contentsOf: event.data)
        sealCRC(in: &output, frameStart: start)
        return chainPosition
    }

    /// Appends the payload digest of `event` (SHA-256 of organization id, type, event id and data, as
    /// `appendEvent` frames them; 32 bytes) to `digests`.
    static func appendPayloadDigest(of event: NewEvent, to digests: inout [UInt8]) {
        var hasher = namesHasher(event)
        hasher.update(event.data)
        hasher.finalizeDigest().withUnsafeBytes { digests.append(contentsOf: $0) }
    }

    /// Absorbs `frame` into `segmentDigest` (the running SHA-256 of the segment file) and appends the payload
    /// digest of `next` (the event framed after it, if any) to `digests`: the frame and `next`'s data are
    /// hashed together, two streams at once on SHA-NI (`SHA256.update(_:with:_:with:)`), so the segment's
    /// digest, one sequential stream, does not leave the SHA unit half idle.
    static func absorb(frame: UnsafeRawBufferPointer, into segmentDigest: inout SHA256, withPayloadOf next: NewEvent?,
                       to digests: inout [UInt8]) {
        guard let next else {
            segmentDigest.update(frame)
            return
        }
        var hasher = namesHasher(next)
        next.data.withUnsafeBytes { SHA256.update(&segmentDigest, with: frame, &hasher, with: $0) }
        hasher.finalizeDigest().withUnsafeBytes { digests.append(contentsOf: $0) }
    }

    /// A hasher that has absorbed the event's names, the payload's part before `data`.
    static func namesHasher(_ event: NewEvent) -> SHA256 {
        var hasher = SHA256()
        var organization = event.organizationID, type = event.type, identifier = event.eventID
        organization.withUTF8 { hasher.update(UnsafeRawBufferPointer($0)) }
        type.withUTF8 { hasher.update(UnsafeRawBufferPointer($0)) }
        identifier.withUTF8 { hasher.update(UnsafeRawBufferPointer($0)) }
        return hasher
    }

    /// The bytes `appendEvent` writes for `event`: the frame header and the body.
    static func frameSizeBytes(of event: NewEvent) -> Int {
        headerSizeBytes + eventFixedSizeBytes + event.organizationID.utf8.count + event.type.utf8.count + event.eventID.utf8.count + event.data.count
    }

    /// Appends a footer frame.
    static func appendFooter(_ footer: SegmentFooter, to output: inout ByteWriter) {
        let start = output.bytes.count
        output.append(UInt32(footerBodySizeBytes))
        output.append(UInt32(0))
        output.append(kindFooter)
        output.append(contentsOf: [UInt8](repeating: 0, count: 7))
        output.append(footer.recordCount)
        output.append(footer.lastOffset)
        output.append(contentsOf: footer.lastChain)
        output.append(contentsOf: footer.segmentDigest)
        sealCRC(in: &output, frameStart: start)
    }

    private static func sealCRC(in output: inout ByteWriter, frameStart: Int) {
        let crc = output.bytes.withUnsafeBytes { buffer in
            let length = CRC32C.update(0, UnsafeRawBufferPointer(rebasing: buffer[frameStart..<(frameStart + 4)]))
            return CRC32C.update(length, UnsafeRawBufferPointer(rebasing: buffer[(frameStart + 8)...]))
        }
        output.set(crc, at: frameStart + 4)
    }

    /// What a scanner found at one position.
    enum Parsed {
        case event(EventRecord, frameSizeBytes: Int)
        case footer(SegmentFooter, frameSizeBytes: Int)
        /// Fewer bytes than the frame needs: not written yet, or a torn tail.
        case incomplete
        /// The bytes are all there but fail a check.
        case invalid(reason: String)
    }

    /// Parses the frame at the start of `buffer` (which may hold more frames after it).
    static func parse(_ buffer: UnsafeRawBufferPointer) -> Parsed {
        guard buffer.count >= headerSizeBytes else { return .incomplete }
        let bodySize = Int(buffer.uint32(at: 0))
        if bodySize > EventLogLimits.frameBodySizeBytesMax || bodySize < min(footerBodySizeBytes, eventFixedSizeBytes) {
            return .invalid(reason: "frame length \(bodySize) out of range")
        }
        guard buffer.count >= headerSizeBytes + bodySize else { return .incomplete }
        let storedCRC = buffer.uint32(at: 4)
        let body = UnsafeRawBufferPointer(rebasing: buffer[headerSizeBytes..<(headerSizeBytes + bodySize)])
        let crc = CRC32C.update(CRC32C.update(0, UnsafeRawBufferPointer(rebasing: buffer[0..<4])), body)
        guard crc == storedCRC else { return .invalid(reason: "CRC mismatch") }
        let frameSize = headerSizeBytes + bodySize
        switch body[0] {
        case kindEvent:
            let organizationCount = Int(body.uint16(at: 2))
            let typeCount = Int(body.uint16(at: 4))
            let identifierCount = Int(body.uint16(at: 6))
            let variableStart = eventFixedSizeBytes
            let dataStart = variableStart + organizationCount + typeCount + identifierCount
            guard dataStart <= bodySize else { return .invalid(reason: "field lengths exceed the frame") }
            func text(_ start: Int, _ count: Int) -> String? {
                String(validating: UnsafeRawBufferPointer(rebasing: body[start..<(start + count)]), as: UTF8.self)
            }
            guard let organization = text(variableStart, organizationCount),
                  let type = text(variableStart + organizationCount, typeCount),
                  let identifier = text(variableStart + organizationCount + typeCount, identifierCount)
            else { return .invalid(reason: "names are not UTF-8") }
            let event = NewEvent(organizationID: organization, type: type, eventID: identifier, data: Array(body[dataStart..<bodySize]))
            let record = EventRecord(event, offset: body.uint64(at: 8), timestampMs: body.int64(at: 16), chainHash: Array(body[24..<56]))
            return .event(record, frameSizeBytes: frameSize)
        case kindFooter:
            guard bodySize == footerBodySizeBytes else { return .invalid(reason: "footer of wrong length") }
            let footer = SegmentFooter(recordCount: body.uint64(at: 8), lastOffset: body.uint64(at: 16),
                                       lastChain: Array(body[24..<56]), segmentDigest: Array(body[56..<88]))
            return .footer(footer, frameSizeBytes: frameSize)
        default:
            return .invalid(reason: "unknown record kind \(body[0])")
        }
    }

    /// Recomputes the chain of a parsed record from its predecessor's chain.
    static func expectedChain(of record: EventRecord, previous: [UInt8]) -> [UInt8] {
        var prefix = ByteWriter(capacity: 24)
        prefix.append(kindEvent)
        prefix.append(UInt8(0))
        prefix.append(UInt16(record.organizationID.utf8.count))
        prefix.append(UInt16(record.type.utf8.count))
        prefix.append(UInt16(record.eventID.utf8.count))
        prefix.append(record.offset)
        prefix.append(record.timestampMs)
        let digest = payloadDigest(NewEvent(organizationID: record.organizationID, type: record.type,
                                            eventID: record.eventID, data: record.data))
        return prefix.bytes.withUnsafeBytes { chain(previous: previous, fixedPrefix: $0, payloadDigest: digest) }
    }
}

/// The last frame of a sealed segment.
public struct SegmentFooter: Sendable, Equatable {
    /// Event records in the segment.
    public var recordCount: UInt64
    /// Offset of the last record.
    public var lastOffset: UInt64
    /// Chain value after the last record; the next segment's header continues from it.
    public var lastChain: [UInt8]
    /// SHA-256 of every byte of the segment file before the footer.
    package var segmentDigest: [UInt8]
}
