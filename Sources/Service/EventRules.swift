import EventLog
import JSON

/// The rules every published event meets, whether it comes through the API or `publish --data-dir`.
/// Each check throws the API's answer; `context` (such as `body` or `events[3]`) starts its message.
public enum EventRules {
    /// `type` is `category.action` with `[a-z0-9_]` words and in the catalog.
    /// - Throws: 422 `invalid_event_type` or `unknown_event_type`.
    public static func checkType(_ type: String, context: String) throws(APIError) {
        guard EventType.isWellFormed(type) else {
            throw APIError(422, "invalid_event_type", "\(context): type must be category.action with [a-z0-9_] words")
        }
        guard EventType.isKnown(type) else {
            throw APIError(422, "unknown_event_type", "\(context): \(type) is not in the catalog (GET /v1/event-types)")
        }
    }

    /// `organizationID` is 1 to 128 characters of `[A-Za-z0-9_.-]`.
    /// - Throws: 422 `validation_failed`.
    public static func checkOrganization(_ organizationID: String, context: String) throws(APIError) {
        guard ClientStore.isValidOrganizationID(organizationID) else {
            throw APIError.invalid("\(context): organization_id must be 1 to 128 characters of [A-Za-z0-9_.-]")
        }
    }

    /// `data` is a JSON object of at most `ServiceLimits.Events.dataSizeBytesMax` bytes; returns its bytes as given.
    /// - Throws: 400 `invalid_json`; 422 `validation_failed` when not an object; 413 `data_too_large`.
    public static func checkedData(_ bytes: [UInt8], context: String) throws(APIError) -> [UInt8] {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw APIError(400, "invalid_json", "\(context): data: \(error.description)")
        }
        try checkIsObject(value, context: context)
        try checkDataSize(bytes.count, context: context)
        return bytes
    }

    /// The body of `POST /v1/events` for one event; `dataJSON` is already checked JSON (`checkedData`)
    /// and goes in as given.
    package static func publishRequestBody(type: String, organizationID: String, dataJSON: String) -> [UInt8] {
        Array(("{\"type\":" + JSONValue.string(type).text + ",\"organization_id\":" + JSONValue.string(organizationID).text
            + ",\"data\":" + dataJSON + "}").utf8)
    }

    /// - Throws: 422 `validation_failed` unless `data` is a JSON object.
    static func checkIsObject(_ data: JSONValue, context: String) throws(APIError) {
        guard case .object = data else { throw APIError.invalid("\(context): data must be a JSON object") }
    }

    /// - Throws: 413 `data_too_large` when `sizeBytes` exceeds `ServiceLimits.Events.dataSizeBytesMax`.
    static func checkDataSize(_ sizeBytes: Int, context: String) throws(APIError) {
        guard sizeBytes <= ServiceLimits.Events.dataSizeBytesMax else {
            throw APIError(413, "data_too_large", "\(context): data is \(sizeBytes) bytes; the limit is \(ServiceLimits.Events.dataSizeBytesMax)")
        }
    }
}
