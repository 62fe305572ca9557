import EventLog
import Testing
@testable import Delivery

/// `start` refuses with the log's error when the log has no room for the dispatcher's append observer
/// (nothing runs), and starts once there is room.
@Suite struct DispatcherStartTests {
    @Test(.timeLimit(.minutes(1)))
    func aLogWithoutRoomForAnotherObserverRefusesTheStart() async throws {
        let harness = try DispatcherHarness("start")
        defer { harness.close() }
        var observers: [AppendObserverToken] = []
        for _ in 0..<EventLogLimits.appendObserverCountMax { observers.append(try harness.log.addAppendObserver { _ in }) }
        let transport = DispatcherHarness.CountingTransport()
        let configuration = try DispatcherHarness.configuration(transport)
        await #expect(throws: EventLogError.tooManyAppendObservers(directory: harness.directory + "/log",
                                                                   countMax: EventLogLimits.appendObserverCountMax)) {
            _ = try await harness.startDispatcher(configuration)
        }
        harness.log.removeAppendObserver(observers.removeFirst())
        try await harness.appendUserLogins(0..<3)
        let dispatcher = try await harness.startDispatcher(configuration)
        defer { dispatcher.stop() }
        #expect(try await DispatcherHarness.wait(seconds: 20) { transport.count == 3 }, "with room made, the dispatcher delivers the three events")
    }
}
