import Engine
import Foundation
import JSON
import NATS
import Synchronization
import SystemIO

/// Under `serve --engine`: which webhooks this process delivers. Every `EngineBinding.leaseRenewSeconds`
/// it renews the leases it holds (pushing each webhook's local cursor to the engine first, by
/// compare-and-set) and tries to take free or expired ones; a webhook is handed to the dispatcher when
/// its lease is taken (its local cursor set from the engine's) and taken away when the lease is lost,
/// the cursor's compare-and-set fails (another process moved it), or renewals failed for most of the
/// lease. A process that dies stops renewing: another takes its webhooks over within
/// `leaseSeconds` plus two rounds (about 14 s), from the last cursor pushed, so at most the deliveries
/// of the last round are repeated, with the same delivery ids.
final class DeliveryLeases: Sendable {
    private struct Held {
        var lease: Lease
        var pushedOffset: UInt64?
        var renewedAtNs: UInt64
    }

    let service: ArgusService
    let engine: EngineBinding
    private let held = Mutex<[String: Held]>([:])

    init(service: ArgusService, engine: EngineBinding) {
        self.service = service
        self.engine = engine
    }

    /// The webhooks delivered here now.
    var heldIDs: [String] { held.withLock { Array($0.keys) }.sorted() }

    /// Whether this process delivers webhook `id` now (holds its lease as of the last round).
    func holds(_ id: String) -> Bool { held.withLock { $0[id] != nil } }

    /// A webhook changed (from this process's API or from the engine): the dispatcher follows it when
    /// this process holds its lease. A deleted webhook's lease is released at the next round.
    func webhookChanged(_ webhook: Webhook?, id: String) {
        guard held.withLock({ $0[id] != nil }) else { return }
        service.dispatcher.apply(webhook?.subscription, id: id)
    }

    /// Rounds until cancelled; then pushes the cursors and releases every lease (another process takes
    /// over at once).
    func run() async {
        while !Task.isCancelled {
            await round()
            try? await Task.sleep(nanoseconds: UInt64(EngineBinding.leaseRenewSeconds * 1e9))
        }
        for (id, entry) in held.withLock({ $0 }) {
            await pushCursor(id, entry)
            try? await engine.leases.release(entry.lease)
        }
    }

    /// One round: release leases of deleted webhooks, renew held ones, take free ones.
    func round() async {
        let webhooks = service.webhooks.all()
        let ids = Set(webhooks.map(\.id))
        for (id, entry) in held.withLock({ $0 }) where !ids.contains(id) {
            lose(id)
            try? await engine.leases.release(entry.lease)
        }
        for webhook in webhooks {
            if let entry = held.withLock({ $0[webhook.id] }) {
                await renew(webhook.id, entry)
            } else {
                await take(webhook)
            }
        }
    }

    private func renew(_ id: String, _ entry: Held) async {
        guard await pushCursor(id, entry) else {
            lose(id)
            return
        }
        do {
            guard let renewed = try await engine.leases.renew(entry.lease) else {
                service.configuration.logger.info("delivery lease lost", [("webhook_id", .string(id))])
                lose(id)
                return
            }
            held.withLock { $0[id]?.lease = renewed; $0[id]?.renewedAtNs = SystemClock.monotonicNanoseconds() }
        } catch {
            // Keep delivering while the lease may still be ours; stop before another process may take it.
            let ageSeconds = Double(SystemClock.monotonicNanoseconds() - entry.renewedAtNs) / 1e9
            if ageSeconds > EngineBinding.leaseSeconds * 0.6 {
                service.configuration.logger.error("delivery lease not renewed; stopping this webhook's delivery here",
                                                   [("webhook_id", .string(id)), ("error", .string(String(describing: error)))])
                lose(id)
            }
        }
    }

    /// Pushes the local cursor of `id` to the engine when it moved; false when another process moved the
    /// engine's cursor (the lease is no longer ours).
    @discardableResult
    private func pushCursor(_ id: String, _ entry: Held) async -> Bool {
        guard let offset = service.cursors.offset(of: id), offset != entry.pushedOffset else { return true }
        do {
            try await engine.cursors.commit(id, offset: offset)
            held.withLock { $0[id]?.pushedOffset = offset }
            return true
        } catch JetStreamError.revisionMismatch {
            service.configuration.logger.info("cursor moved by another process; stopping this webhook's delivery here", [("webhook_id", .string(id))])
            return false
        } catch {
            service.configuration.logger.error("could not push a cursor to the engine", [("webhook_id", .string(id)), ("error", .string(String(describing: error)))])
            return true
        }
    }

    private func take(_ webhook: Webhook) async {
        do {
            guard let lease = try await engine.leases.acquire(webhook.id, holder: engine.holder) else { return }
            let offset = try await engine.cursors.committedOffset(of: webhook.id)
            if let offset {
                try await service.cursors.commit(webhook.id, offset: offset)
            } else {
                try await service.cursors.remove(webhook.id)
            }
            held.withLock { $0[webhook.id] = Held(lease: lease, pushedOffset: offset, renewedAtNs: SystemClock.monotonicNanoseconds()) }
            service.configuration.logger.info("delivery lease taken", [("webhook_id", .string(webhook.id)), ("cursor", offset.map { .integer($0) } ?? .null)])
            service.dispatcher.apply(webhook.subscription, id: webhook.id)
        } catch {
            service.configuration.logger.error("could not take a delivery lease", [("webhook_id", .string(webhook.id)), ("error", .string(String(describing: error)))])
        }
    }

    private func lose(_ id: String) {
        guard held.withLock({ $0.removeValue(forKey: id) }) != nil else { return }
        service.dispatcher.apply(nil, id: id)
    }
}

extension ArgusService {
    /// Under `serve --engine`: starts the dispatcher with no webhook; `leases` hands it those this process
    /// leases, and follows their changes.
    func startLeasedDelivery(_ leases: DeliveryLeases) async throws {
        webhooks.observe { webhook, id in leases.webhookChanged(webhook, id: id) }
        try await dispatcher.start([])
    }
}
