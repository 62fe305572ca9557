extension Sequence {
    /// Calls `pair` with the elements two at a time, in order, then `last` with the final element when
    /// their count is odd: the loop of hashing two messages at once (`SHA256.update(_:with:_:with:)`).
    func forEachPair(_ pair: (Element, Element) throws -> Void, last: (Element) throws -> Void) rethrows {
        var pending: Element?
        for element in self {
            if let first = pending {
                pending = nil
                try pair(first, element)
            } else {
                pending = element
            }
        }
        if let pending { try last(pending) }
    }
}
