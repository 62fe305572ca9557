// swift-tools-version:6.0
// Argus Events: the webhook and event-subscription service of the Argus identity platform.
// No package dependencies: Foundation, FoundationNetworking, Dispatch, Glibc and Synchronization only.
import PackageDescription

let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

// The SHA-NI and SSE4.2 code compiles only for x86-64 (the flags are x86 options; elsewhere the
// target is empty and the portable code runs).
#if arch(x86_64)
let intrinsicsFlags: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-msha", "-Xcc", "-msse4.1", "-Xcc", "-msse4.2"])]
#else
let intrinsicsFlags: [SwiftSetting] = []
#endif

let package = Package(
    name: "ArgusEvents",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "argus-events", targets: ["argus-events"]),
        .executable(name: "argus-bench", targets: ["argus-bench"]),
    ],
    targets: [
        // The syscall layer: typed file descriptors (EINTR, short reads and writes), one error type
        // (call, errno, path, offset), atomic writes with directory fsync, one directory lock, one
        // append-only journal (CRC32C-framed records: its only use of Crypto, which does no I/O).
        .target(name: "SystemIO", dependencies: ["Crypto"], swiftSettings: strict),
        // SHA-256 with SHA-NI and CRC32C with the SSE4.2 crc32 instruction. The only target compiled for
        // newer instructions; Crypto calls into it only after CPUID says they exist.
        .target(name: "CryptoIntrinsics", swiftSettings: strict + intrinsicsFlags),
        // Pure functions, no I/O: SHA-256, HMAC, CRC32C, encodings, secure random.
        .target(name: "Crypto", dependencies: ["CryptoIntrinsics"], swiftSettings: strict),
        // RFC 9162 Merkle trees: leaf and node hashes, roots, inclusion and consistency proofs, C2SP hash tiles
        // (building and reading them), signed-note checkpoints. Pure, no I/O.
        .target(name: "Merkle", dependencies: ["Crypto"], swiftSettings: strict),
        // A strict JSON parser and encoder that keeps member order and number text.
        .target(name: "JSON", swiftSettings: strict),
        // Webhook secrets, rotation, Standard Webhooks and X-Argus-Signature headers.
        .target(name: "WebhookSigning", dependencies: ["Crypto", "SystemIO"], swiftSettings: strict),
        // Our NATS client: the text protocol over plain sockets (reader and writer threads, reconnect across
        // a cluster), JetStream streams, publishes with acks, reads by sequence, pull consumers, key-value buckets.
        .target(name: "NATS", dependencies: ["JSON", "SystemIO"], swiftSettings: strict),
        // The engine seams: the log, cursors and leases behind protocols (EventSource, EventAppender and CursorBook in
        // EventLog; LeaseBook here) and their NATS JetStream implementations; the local ones are the data directory's stores.
        .target(name: "Engine", dependencies: ["EventLog", "JSON", "NATS", "SystemIO"], swiftSettings: strict),
        // Records, segments, group commit, indexes, recovery, readers, cursors, Merkle hash tiles.
        .target(name: "EventLog", dependencies: ["Crypto", "JSON", "Merkle", "SystemIO"], swiftSettings: strict),
        // Linux's epoll header for the HTTP server's loop (the Glibc module does not export it).
        .systemLibrary(name: "CEpoll", path: "Sources/CEpoll"),
        // HTTP/1.1 server: sockets, epoll loop, request parser, limits, router. Knows nothing of webhooks;
        // uses the one JSON string escaper and SystemIO's clock.
        .target(name: "HTTPServer", dependencies: ["CEpoll", "JSON", "SystemIO"], swiftSettings: strict),
        // Our HTTP/1.1 client for http:// peers (webhook receivers, S3-compatible endpoints): addresses and
        // resolving, non-blocking sockets with deadlines, the response reader, kept-alive connections, its own threads.
        .target(name: "HTTPClient", dependencies: ["HTTPServer", "SystemIO"], swiftSettings: strict),
        // Delivery: target guard (SSRF), dispatcher, retry policy, transport, history.
        .target(name: "Delivery", dependencies: ["Crypto", "EventLog", "HTTPClient", "HTTPServer", "JSON", "WebhookSigning", "SystemIO"], swiftSettings: strict),
        // Compliance archive: cold-storage targets (directory, S3 SigV4), manifest, archive verify, read-back cache.
        .target(name: "Archive", dependencies: ["Crypto", "EventLog", "HTTPClient", "JSON", "SystemIO"], swiftSettings: strict),
        // The API: OAuth 2.0, tenants, events and webhook routes, stores; ArgusServer wires the parts
        // together (HTTP server, delivery, spool, background archiving and retention, and under `serve --engine`
        // the engine's mirror, replicated stores and delivery leases); DataLayout names every path.
        .target(name: "Service", dependencies: ["Crypto", "EventLog", "HTTPClient", "HTTPServer", "JSON", "Merkle", "WebhookSigning", "Delivery", "Archive", "SystemIO",
                                                "Engine", "NATS"],
                swiftSettings: strict),
        // The command line: parses arguments, calls Service (and EventLog and Archive for the offline commands),
        // prints. Signing, proofs, JSON output and the config file are Service's; so are the supervisor, the
        // parent watch and signal handling.
        .executableTarget(
            name: "argus-events",
            dependencies: ["EventLog", "Service", "Archive"],
            swiftSettings: strict),
        // For tests only: child processes that die with the test process, the built executables' paths.
        .target(name: "ArgusTestSupport", dependencies: ["SystemIO"], swiftSettings: strict),
        .executableTarget(
            name: "argus-bench",
            dependencies: ["Crypto", "WebhookSigning", "EventLog", "JSON", "Delivery", "HTTPClient", "HTTPServer", "Service", "Archive", "SystemIO", "Engine", "NATS"],
            path: "Benchmarks/argus-bench",
            swiftSettings: strict),
        .testTarget(name: "SystemIOTests", dependencies: ["SystemIO"]),
        .testTarget(name: "CryptoTests", dependencies: ["Crypto", "SystemIO"], resources: [.copy("Fixtures")]),
        .testTarget(name: "WebhookSigningTests", dependencies: ["WebhookSigning", "Crypto", "SystemIO"]),
        .testTarget(name: "EventLogTests", dependencies: ["ArgusTestSupport", "EventLog", "Crypto", "Merkle", "SystemIO"]),
        .testTarget(name: "HTTPServerTests", dependencies: ["ArgusTestSupport", "HTTPServer", "SystemIO"]),
        .testTarget(name: "JSONTests", dependencies: ["ArgusTestSupport", "JSON"]),
        .testTarget(name: "NATSTests", dependencies: ["NATS", "Engine", "EventLog", "ArgusTestSupport", "JSON"]),
        .testTarget(name: "MerkleTests", dependencies: ["ArgusTestSupport", "Merkle", "Crypto"]),
        .testTarget(name: "HTTPClientTests", dependencies: ["ArgusTestSupport", "HTTPClient", "HTTPServer", "SystemIO"]),
        .testTarget(name: "DeliveryTests", dependencies: ["Delivery", "HTTPClient", "EventLog", "JSON", "WebhookSigning", "SystemIO"]),
        .testTarget(name: "ArchiveTests", dependencies: ["SystemIO", "ArgusTestSupport", "Archive", "EventLog", "Crypto", "HTTPClient", "HTTPServer"]),
        .testTarget(name: "ServiceTests", dependencies: ["ArgusTestSupport", "SystemIO", "Service", "Merkle", "HTTPServer", "JSON", "EventLog", "Crypto", "Delivery", "HTTPClient",
                                                         "WebhookSigning", "Archive", "NATS"]),
    ],
    swiftLanguageModes: [.v6]
)
