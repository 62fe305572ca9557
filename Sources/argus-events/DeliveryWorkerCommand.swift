import Service

/// `argus-events delivery-worker` (hidden; started by `serve`): sends the server's `https://` deliveries
/// through URLSession in a process of its own, requests on standard input, results on standard output
/// (`DeliveryWorker`). Ends when its input ends.
enum DeliveryWorkerCommand: Command {
    static let name = "delivery-worker"
    static let usage = "delivery-worker (hidden: started by serve)"

    static func run(_ words: [String]) async throws -> Int32 {
        guard words.isEmpty else { throw UsageError("delivery-worker takes no arguments") }
        return await ArgusServer.runDeliveryWorker()
    }
}
