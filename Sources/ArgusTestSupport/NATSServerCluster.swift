import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Real `nats-server` processes with JetStream for tests: one node, or a cluster of several on loopback,
/// each on free ports with its store in a temporary directory (removed by `stop()`).
///
/// Each node runs under a small `sh` started by `ChildProcess`: the shell starts `nats-server` in the
/// background, prints its pid, then waits for its standard input to reach end-of-file and kills the
/// server. The test process holds that pipe, so a server never outlives the test, even one killed with
/// SIGKILL. `kill(node:)` kills one server (SIGKILL) and leaves its store for `restart(node:)`.
///
/// `@unchecked Sendable`: `nodes` and `portTakenCount` change only under `lock` (in `restart`, `kill` and `stop`).
public final class NATSServerCluster: @unchecked Sendable {
    struct Node {
        var shell: ChildProcess
        var serverPid: pid_t
    }

    /// The client port of each node.
    public let clientPorts: [Int]
    /// The temporary directory with the nodes' configurations and stores.
    public let directory: String
    /// The cluster (route) port of each node (unused by a single node).
    private let clusterPorts: [Int]
    private let lock = NSLock()
    private var nodes: [Node?]
    private var portTakenCountValue = 0
    private let executable: String

    /// The `nats-server` executable: `NATS_SERVER` or the first of PATH, /usr/sbin, /usr/bin, /usr/local/bin.
    public static var executable: String? {
        if let configured = ProcessInfo.processInfo.environment["NATS_SERVER"], FileManager.default.isExecutableFile(atPath: configured) {
            return configured
        }
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        for directory in path + ["/usr/sbin", "/usr/bin", "/usr/local/bin"] {
            let candidate = directory + "/nats-server"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Why real-peer tests are skipped, or nil when `nats-server` was found. Printed once when missing.
    public static let unavailableReason: String? = {
        guard executable == nil else { return nil }
        let reason = "nats-server not found (PATH, /usr/sbin, /usr/bin, /usr/local/bin, or NATS_SERVER); install the Debian package nats-server to run the NATS real-peer tests"
        print("NATSServerCluster: skipping: \(reason)")
        return reason
    }()

    /// The servers as a client server list: `nats://127.0.0.1:P1,nats://127.0.0.1:P2,...`.
    public var url: String { clientPorts.map { "nats://127.0.0.1:\($0)" }.joined(separator: ",") }

    /// The URL of one node only.
    public func url(node: Int) -> String { "nats://127.0.0.1:\(clientPorts[node])" }

    /// Starts `nodeCount` nodes (a cluster when more than one) and waits until each says it is ready.
    /// JetStream's cluster may still be electing its meta leader: callers wait for `$JS.API.INFO`.
    /// The ports are free when chosen but are bound by the servers only later (one node after the
    /// other): when another process took one meanwhile (the server stops with "address already in
    /// use"), every node is started again on fresh ports, at most `portAttemptCountMax` times in all.
    /// - Throws: `ChildProcess.SpawnError` when nats-server is missing, a port cannot be found, or a
    ///   node stops or is not ready within `readySeconds` (its output is in the error); `PortTaken`
    ///   when a port was still taken at the last attempt.
    public init(nodeCount: Int, readySeconds: Double = 30) async throws {
        guard let executable = Self.executable else { throw ChildProcess.SpawnError(description: Self.unavailableReason ?? "nats-server missing") }
        self.executable = executable
        var attempt = 1
        var launched: Launched?
        while launched == nil {
            do {
                launched = try await Self.launch(nodeCount: nodeCount, executable: executable, readySeconds: readySeconds)
            } catch let error as PortTaken where attempt < Self.portAttemptCountMax {
                print("NATSServerCluster: a port was taken before nats-server bound it (attempt \(attempt)), choosing others: \(error.description.suffix(300))")
                attempt += 1
            }
        }
        self.clientPorts = launched!.clientPorts
        clusterPorts = launched!.clusterPorts
        directory = launched!.directory
        nodes = launched!.nodes
    }

    deinit { stop() }

    /// How many times at most every node is started on fresh ports (when a port was taken before a server bound
    /// it), and a restarted node is started again on its ports.
    static let portAttemptCountMax = 3

    /// What `launch` started.
    private typealias Launched = (clientPorts: [Int], clusterPorts: [Int], directory: String, nodes: [Node])

    /// A node stopped because one of its ports was taken after `freePorts` chose it.
    struct PortTaken: Error, CustomStringConvertible {
        let description: String
    }

    /// Chooses ports, writes the configurations into a new directory and starts every node; on failure
    /// stops the nodes it started and removes the directory.
    private static func launch(nodeCount: Int, executable: String, readySeconds: Double) async throws -> Launched {
        let ports = try freePorts(count: nodeCount * 2)
        let clientPorts = Array(ports.prefix(nodeCount))
        let clusterPorts = Array(ports.suffix(nodeCount))
        let directory = NSTemporaryDirectory() + "argus-nats-\(UUID().uuidString.prefix(8))"
        var nodes: [Node] = []
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for index in 0..<nodeCount {
                var configuration = """
                server_name: n\(index + 1)
                listen: 127.0.0.1:\(clientPorts[index])
                max_payload: 1048576
                jetstream {
                  store_dir: "\(directory)/n\(index + 1)"
                  max_memory_store: 67108864
                  max_file_store: 1073741824
                }

                """
                if nodeCount > 1 {
                    let routes = clusterPorts.enumerated().filter { $0.offset != index }.map { "nats-route://127.0.0.1:\($0.element)" }
                    configuration += """
                    cluster {
                      name: argus-test
                      listen: 127.0.0.1:\(clusterPorts[index])
                      routes: [\(routes.joined(separator: ", "))]
                    }

                    """
                }
                try configuration.write(toFile: "\(directory)/n\(index + 1).conf", atomically: true, encoding: .utf8)
            }
            for index in 0..<nodeCount {
                nodes.append(try await start(node: index, directory: directory, executable: executable, readySeconds: readySeconds))
            }
        } catch {
            nodes.forEach(terminate)
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        return (clientPorts, clusterPorts, directory, nodes)
    }

    /// Starts node `index` with its configuration in `directory` and waits until it says it is ready, or
    /// stops (nats-server logs a fatal error, `[FTL]`, and exits: then waiting longer is useless).
    /// - Throws: `PortTaken` when a port was in use, else `ChildProcess.SpawnError`, with the output.
    private static func start(node index: Int, directory: String, executable: String, readySeconds: Double) async throws -> Node {
        let configuration = "\(directory)/n\(index + 1).conf"
        let script = "\"$0\" -c \"$1\" 2>&1 & server=$!; echo \"pid $server\"; cat > /dev/null; kill -9 $server 2>/dev/null"
        let shell = try ChildProcess("/bin/sh", ["-c", script, executable, configuration])
        let ready = await shell.waitForOutput(timeoutSeconds: readySeconds) { $0.contains("Server is ready") || $0.contains("[FTL]") }
        let output = shell.standardOutput
        guard ready, !output.contains("[FTL]"), let pidLine = output.split(separator: "\n").first(where: { $0.hasPrefix("pid ") }),
              let pid = pid_t(pidLine.dropFirst(4)) else {
            shell.stop()
            if output.contains("[FTL]") {
                let description = "nats-server node \(index + 1) stopped:\n\(output.suffix(2_000))"
                if output.contains("address already in use") { throw PortTaken(description: description) }
                throw ChildProcess.SpawnError(description: description)
            }
            throw ChildProcess.SpawnError(description: "nats-server node \(index + 1) not ready within \(readySeconds) s:\n\(output.suffix(2_000))")
        }
        return Node(shell: shell, serverPid: pid)
    }

    /// Kills a node's server and its shell.
    private static func terminate(_ node: Node) {
        Glibc.kill(node.serverPid, SIGKILL)
        node.shell.stop()
    }

    private func setNode(_ index: Int, _ node: Node) {
        lock.lock(); defer { lock.unlock() }
        nodes[index] = node
    }

    /// Kills node `index` with SIGKILL (no shutdown, no flush), keeping its store.
    public func kill(node index: Int) async {
        guard let node = takeNode(index) else { return }
        Glibc.kill(node.serverPid, SIGKILL)
        node.shell.closeStandardInput()
        _ = await node.shell.wait(timeoutSeconds: 10)
        node.shell.stop()
    }

    private func takeNode(_ index: Int) -> Node? {
        lock.lock(); defer { lock.unlock() }
        let node = nodes[index]
        nodes[index] = nil
        return node
    }

    /// Starts node `index` again on its ports with its store. The ports stay (clients and the other nodes know
    /// them): when another process took one while the node was down (the server stops with "address already in
    /// use"), the restart waits until the node's ports can be bound again, at most `portFreeSeconds`, and starts it
    /// again, at most `portAttemptCountMax` starts in all.
    /// - Throws: `PortTaken` when a port is still taken at the last start or after `portFreeSeconds`;
    ///   `ChildProcess.SpawnError` when the node stops otherwise or is not ready within `readySeconds`.
    public func restart(node index: Int, readySeconds: Double = 30, portFreeSeconds: Double = 10) async throws {
        await kill(node: index)
        var attempt = 1
        while true {
            do {
                let node = try await Self.start(node: index, directory: directory, executable: executable, readySeconds: readySeconds)
                setNode(index, node)
                return
            } catch let error as PortTaken where attempt < Self.portAttemptCountMax {
                print("NATSServerCluster: node \(index + 1)'s port was taken while it was down (attempt \(attempt)), waiting until it is free: \(error.description.suffix(300))")
                lock.withLock { portTakenCountValue += 1 }
                attempt += 1
                let ports = clusterPorts.count > 1 ? [clientPorts[index], clusterPorts[index]] : [clientPorts[index]]
                guard await Self.waitUntilFree(ports, timeoutSeconds: portFreeSeconds) else {
                    throw PortTaken(description: "nats-server node \(index + 1): port \(ports) still taken after \(portFreeSeconds) s")
                }
            }
        }
    }

    /// Restarts that found a port of their node taken and started it again (tests observe the retry with it).
    public var portTakenCount: Int { lock.withLock { portTakenCountValue } }

    /// Waits (polling every 20 ms, at most `timeoutSeconds`) until every port in `ports` can be bound on
    /// 127.0.0.1; false when one is still taken then.
    private static func waitUntilFree(_ ports: [Int], timeoutSeconds: Double) async -> Bool {
        await eventually(seconds: timeoutSeconds) {
            ports.allSatisfy { port in
                guard let descriptor = try? boundLoopbackSocket(port: port) else { return false }
                close(descriptor)
                return true
            }
        }
    }

    /// The output node `index` printed so far (empty when it is not running).
    public func output(node index: Int) -> String {
        lock.lock(); defer { lock.unlock() }
        return nodes[index]?.shell.standardOutput ?? ""
    }

    /// Kills every node and removes the directory. Safe to call more than once.
    public func stop() {
        for index in clientPorts.indices {
            guard let node = takeNode(index) else { continue }
            Self.terminate(node)
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// `count` distinct free TCP ports on 127.0.0.1 (bound together, then released).
    static func freePorts(count: Int) throws -> [Int] {
        var descriptors: [Int32] = []
        defer { for descriptor in descriptors { close(descriptor) } }
        var ports: [Int] = []
        for _ in 0..<count {
            let descriptor = try boundLoopbackSocket(port: 0, reusingAddress: false)
            descriptors.append(descriptor)
            var address = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let named = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) == 0 }
            }
            guard named else { throw ChildProcess.SpawnError(description: "getsockname failed, errno \(errno)") }
            ports.append(Int(UInt16(bigEndian: address.sin_port)))
        }
        return ports
    }

    /// A TCP socket bound to 127.0.0.1:`port` (0: any free port); the caller closes it. `reusingAddress` sets
    /// `SO_REUSEADDR` as servers do (a port with connections in TIME_WAIT can be bound; not for port 0, where the
    /// kernel could then hand out a port another such socket holds).
    /// - Throws: `ChildProcess.SpawnError` with the errno when the socket cannot be made or bound (the port is
    ///   taken: EADDRINUSE).
    package static func boundLoopbackSocket(port: Int, reusingAddress: Bool = true) throws -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw ChildProcess.SpawnError(description: "socket failed, errno \(errno)") }
        var reuse: Int32 = 1
        if reusingAddress { setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size)) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard bound else {
            let code = errno
            close(descriptor)
            throw ChildProcess.SpawnError(description: "bind to 127.0.0.1:\(port) failed, errno \(code)")
        }
        return descriptor
    }
}
