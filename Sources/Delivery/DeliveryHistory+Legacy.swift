import JSON
import SystemIO

extension DeliveryHistory {
    /// Opens the statistics journal and converts every `<webhook>.jsonl` of the JSON-lines format (one line
    /// per change of a delivery, each followed by a `{"statistics":...}` line; a torn last line skipped) into a
    /// `<webhook>.journal` holding the latest record of each of its newest `recordCountMax` deliveries, then
    /// removes it. Order makes a crash harmless: statistics first, the journal atomically, the old file last
    /// (a `.jsonl` next to its `.journal` is the leftover of an interrupted conversion).
    /// - Returns: the statistics journal and the live counters of every webhook.
    /// - Throws: `SystemError` when a file cannot be read or written.
    static func migrateLegacyFiles(in directory: String, recordCountMax: Int,
                                   recordSizeBytesMax: Int) throws(SystemError) -> (journal: Journal, live: [String: Statistics]) {
        let (journal, records) = try Journal.open(path: directory + "/" + statisticsFileName, durability: .none,
                                                  recordSizeBytesMax: recordSizeBytesMax)
        var live = DeliveryHistoryWriter.statistics(from: records)
        for name in try FileSystem.names(in: directory) where name.hasSuffix(".jsonl") {
            let webhookID = String(name.dropLast(6))
            let legacyPath = directory + "/" + name
            let journalPath = directory + "/" + webhookID + journalSuffix
            if FileSystem.size(journalPath) == nil {
                let (deliveries, statistics) = legacyRecords(try FileSystem.contents(of: legacyPath) ?? [], recordCountMax: recordCountMax)
                live[webhookID] = statistics
                try journal.append(DeliveryHistoryWriter.statisticsRecord(webhookID, statistics))
                let (converted, _) = try Journal.open(path: journalPath, durability: .none, recordSizeBytesMax: recordSizeBytesMax)
                try converted.replace(with: deliveries.filter { $0.count <= recordSizeBytesMax })
            }
            try FileSystem.remove(legacyPath)
        }
        try FileSystem.synchronizeDirectory(directory)
        return (journal, live)
    }

    /// The latest line of each of the newest `recordCountMax` deliveries (oldest first) and the last
    /// statistics of a JSON-lines history file.
    static func legacyRecords(_ data: [UInt8], recordCountMax: Int) -> (deliveries: [[UInt8]], statistics: Statistics) {
        var latest: [String: [UInt8]] = [:]
        var order: [String] = []
        var statistics = Statistics()
        var start = 0
        while start < data.count {
            let end = data[start...].firstIndex(of: UInt8(ascii: "\n")) ?? data.count
            defer { start = end + 1 }
            guard end > start, end < data.count else { continue } // a torn last line (crash mid-write) is skipped
            let line = Array(data[start..<end])
            guard let json = try? JSONParser.parse(line) else { continue }
            if let counters = json["statistics"] {
                statistics = Statistics(json: counters)
                continue
            }
            guard let record = DeliveryRecord(stored: json) else { continue }
            if latest.updateValue(line, forKey: record.deliveryID) == nil { order.append(record.deliveryID) }
        }
        return (order.suffix(recordCountMax).compactMap { latest[$0] }, statistics)
    }
}
