/// The active segment as readers in the writer's process may see it: which segment, and how many of
/// its bytes are durable records (the zero-filled space after them is not).
struct ActiveExtent: Sendable, Equatable {
    /// Base offset of the active segment.
    var baseOffset: UInt64
    /// End of the last durable record in it, in bytes.
    var sizeBytes: Int64
}
