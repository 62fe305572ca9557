/// The connections that may be closed to admit a new one (no request in progress), least recently
/// active first: an intrusive doubly linked list through ``HTTPConnection/idlePrevious`` and
/// ``HTTPConnection/idleNext``, so noting activity, removing and finding the eviction candidate
/// are all O(1). Used on the I/O thread only.
struct IdleList {
    private(set) var first: HTTPConnection?
    private var last: HTTPConnection?
    /// How many connections are in the list.
    private(set) var count = 0

    /// Puts `connection` at the most recently active end (moving it when already listed).
    mutating func moveToBack(_ connection: HTTPConnection) {
        if connection.isInIdleList {
            if last === connection { return }
            remove(connection)
        }
        connection.idlePrevious = last
        connection.idleNext = nil
        if let last { last.idleNext = connection } else { first = connection }
        last = connection
        connection.isInIdleList = true
        count += 1
    }

    /// Takes `connection` out of the list; nothing happens when it is not listed.
    mutating func remove(_ connection: HTTPConnection) {
        guard connection.isInIdleList else { return }
        if let previous = connection.idlePrevious { previous.idleNext = connection.idleNext } else { first = connection.idleNext }
        if let next = connection.idleNext { next.idlePrevious = connection.idlePrevious } else { last = connection.idlePrevious }
        connection.idlePrevious = nil
        connection.idleNext = nil
        connection.isInIdleList = false
        count -= 1
    }
}
