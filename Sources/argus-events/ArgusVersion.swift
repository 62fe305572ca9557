/// The version of this build, sent as `user-agent: Argus-Webhooks/<version>`.
enum ArgusVersion {
    static let current = "0.1.0"
}
