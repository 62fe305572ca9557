/// Names one observer added by `EventLog.addAppendObserver(_:)`.
public struct AppendObserverToken: Sendable, Hashable {
    let id: Int
}
