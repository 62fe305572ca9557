/// A byte buffer kept from one use to the next, so a loop that needs one each time (the log writer, per
/// group) does not allocate it each time: a capacity up to `capacityBytesMax` is kept, a larger one is
/// released when the buffer comes back.
struct ReusableBytes {
    /// Largest capacity kept between uses, in bytes.
    let capacityBytesMax: Int
    private var storage: [UInt8] = []

    init(capacityBytesMax: Int) { self.capacityBytesMax = capacityBytesMax }

    /// The buffer, empty, with room for at least `capacity` bytes; hand it back with `keep(_:)` (until then
    /// this holds none).
    mutating func take(reservingCapacity capacity: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        swap(&bytes, &storage)
        bytes.removeAll(keepingCapacity: true)
        bytes.reserveCapacity(capacity)
        return bytes
    }

    /// Keeps `bytes` for the next `take` when their capacity is at most `capacityBytesMax`.
    mutating func keep(_ bytes: consuming [UInt8]) {
        storage = bytes.capacity <= capacityBytesMax ? bytes : []
    }

    /// The capacity held now, in bytes.
    var capacityBytes: Int { storage.capacity }
}
