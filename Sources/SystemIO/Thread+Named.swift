import Foundation

extension Thread {
    /// Starts a dedicated thread named `name` (as `top -H`, `ps -L` and debuggers show it) that runs
    /// `body` once and ends: the home of one component's blocking work (a writer, a reader, a flusher).
    package static func detachNewThread(named name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread(block: body)
        thread.name = name
        thread.start()
    }
}
