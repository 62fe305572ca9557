/// A wait that doubles after each consecutive failure, from `firstMs` up to `lastMs`: a read or a load that
/// keeps failing is tried again less and less often, but at least every `lastMs`.
package struct DoublingBackoff: Sendable, Equatable {
    /// The wait after the first failure, in milliseconds (more than 0).
    package let firstMs: Int64
    /// The longest wait, in milliseconds (at least `firstMs`).
    package let lastMs: Int64

    /// The wait after a failure whose previous wait was `previousMs` (nil: the first failure of a series),
    /// in milliseconds: twice the previous one, within [`firstMs`, `lastMs`]. Never traps.
    package func delayMs(afterPrevious previousMs: Int64?) -> Int64 {
        let previous = min(max(previousMs ?? 0, 0), lastMs)
        return min(lastMs, max(firstMs, previous * 2))
    }
}
