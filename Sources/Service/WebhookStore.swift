import Crypto
import Foundation
import JSON
import Synchronization
import SystemIO

/// Webhooks, one crash-safe file each under `webhooks/`, all held in memory.
public final class WebhookStore: Sendable {
    public let directory: String
    private let webhooks: Mutex<[String: Webhook]>
    private let observers: Mutex<[@Sendable (Webhook?, String) -> Void]>
    /// Serialises writers, so read-modify-write updates never lose a concurrent change.
    private let writer = Mutex(())

    /// Loads every webhook in `directory`.
    /// - Throws: `StoreError.corrupt` naming a file that cannot be read back.
    public init(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        self.directory = directory
        var loaded: [String: Webhook] = [:]
        for name in FileStore.names(in: directory, suffix: ".json") {
            guard let bytes = FileStore.read(directory: directory, name: name), let json = try? JSONParser.parse(bytes),
                  let webhook = Webhook(stored: json) else {
                throw StoreError.corrupt(path: directory + "/" + name, reason: "not a valid webhook record")
            }
            loaded[webhook.id] = webhook
        }
        webhooks = Mutex(loaded)
        observers = Mutex([])
    }

    /// The webhooks stored in `directory`, sorted by id, read without taking the store (for offline
    /// commands next to a running server); a file that cannot be read back is skipped.
    package static func readAll(directory: String) -> [Webhook] {
        FileStore.names(in: directory, suffix: ".json").compactMap { name in
            FileStore.read(directory: directory, name: name).flatMap { try? JSONParser.parse($0) }.flatMap(Webhook.init(stored:))
        }.sorted { $0.id < $1.id }
    }

    /// Calls `observer` after every change with the new webhook (nil when deleted) and its id.
    package func observe(_ observer: @escaping @Sendable (Webhook?, String) -> Void) {
        observers.withLock { $0.append(observer) }
    }

    private func notify(_ webhook: Webhook?, id: String) {
        for observer in observers.withLock({ $0 }) { observer(webhook, id) }
    }

    /// A new webhook id: `wh_` and 24 hex characters, time-ordered (so lists page in creation order).
    static func makeID(nowMs: Int64) throws -> String {
        var bytes: [UInt8] = []
        for shift in stride(from: 40, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: nowMs >> Int64(shift))) }
        return "wh_" + Hex.encode(bytes + (try SecureRandom.bytes(count: 6)))
    }

    public func get(_ id: String) -> Webhook? { webhooks.withLock { $0[id] } }

    /// Every webhook, ordered by id.
    public func all() -> [Webhook] { webhooks.withLock { Array($0.values) }.sorted { $0.id < $1.id } }

    /// Webhooks owned by `organizationID` (and `*` ones when `includeGlobal`), ordered by id.
    public func list(organizationID: String, includeGlobal: Bool) -> [Webhook] {
        all().filter { $0.organizationID == organizationID || (includeGlobal && $0.organizationID == "*") }
    }

    /// Stores `webhook` durably (create or replace), then tells observers.
    public func put(_ webhook: Webhook) throws {
        try writer.withLock { _ in try store(webhook) }
        notify(webhook, id: webhook.id)
    }

    private func store(_ webhook: Webhook) throws {
        try FileStore.write(webhook.storedJSON.encoded(), directory: directory, name: webhook.id + ".json")
        webhooks.withLock { $0[webhook.id] = webhook }
    }

    /// Applies `change` to the stored webhook `id` durably; returns the new value, or nil when absent.
    @discardableResult
    public func update(_ id: String, _ change: (inout Webhook) throws -> Void) throws -> Webhook? {
        let updated: Webhook? = try writer.withLock { _ in
            guard var webhook = get(id) else { return nil }
            try change(&webhook)
            try store(webhook)
            return webhook
        }
        if let updated { notify(updated, id: id) }
        return updated
    }

    /// Deletes `id` durably; returns false when absent.
    @discardableResult
    public func delete(_ id: String) throws -> Bool {
        let deleted: Bool = try writer.withLock { _ in
            guard get(id) != nil else { return false }
            try FileStore.remove(directory: directory, name: id + ".json")
            webhooks.withLock { _ = $0.removeValue(forKey: id) }
            return true
        }
        if deleted { notify(nil, id: id) }
        return deleted
    }
}
