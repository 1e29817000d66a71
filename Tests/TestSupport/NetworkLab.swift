import Foundation

/// A small network a test builds for itself: one network namespace per site, each joined to the
/// test's own namespace (the central side) by a veth pair on a /24 of its own. Nothing leaves the
/// machine: the central side only has the veth addresses and loopback, and the sites have no route
/// but their uplink. Packet loss and link cuts are iptables rules inside a site's namespace.
///
/// The kernel here has no `sch_netem` (no modules), so delay is added by a `DelayRelay` on the
/// central side and loss by iptables' `statistic` match; reordering is not available.
public final class NetworkLab: @unchecked Sendable {
    // `@unchecked Sendable`: `sites` is immutable after init; `closed` is only touched by close(),
    // which tests call once (deinit calls it again, idempotently, from the last owner).
    public static let ip = "/usr/sbin/ip"
    public static let iptables = "/usr/sbin/iptables"

    public struct Site: Sendable {
        /// The namespace (`ip netns exec <namespace>`).
        public let namespace: String
        /// The uplink inside the site's namespace.
        public let interface: String
        /// The central side's address on this uplink: what the site's daemon connects to.
        public let centralAddress: String
        public let siteAddress: String
    }

    public struct CommandFailed: Error, CustomStringConvertible {
        public let description: String
    }

    public let sites: [Site]
    private let prefix: String
    private var closed = false

    /// Why namespaces cannot be built here, or nil when they can (root, `ip` and `iptables` present,
    /// and a namespace can really be created).
    public static func unavailable() -> String? {
        guard geteuid() == 0 else { return "network namespaces need root" }
        for tool in [ip, iptables] where !FileManager.default.isExecutableFile(atPath: tool) {
            return "\(tool) is missing (Debian iproute2 / iptables)"
        }
        let probe = "hpm-probe-\(getpid())"
        do {
            try run(ip, ["netns", "add", probe])
            _ = try? run(ip, ["netns", "delete", probe])
            return nil
        } catch {
            return "cannot create a network namespace: \(error)"
        }
    }

    /// - Parameter count: how many sites (at most 50).
    public init(sites count: Int) throws {
        precondition((1...50).contains(count), "1-50 sites")
        let pid = Int(getpid())
        prefix = "hpm-wan-\(pid)-"
        Self.removeStale()
        let net = 100 + pid % 100
        var built: [Site] = []
        for index in 1...count {
            let site = Site(namespace: "\(prefix)\(index)", interface: "hw\(pid % 100_000)s\(index)",
                            centralAddress: "10.\(net).\(index).1", siteAddress: "10.\(net).\(index).2")
            built.append(site)
        }
        sites = built
        do {
            for (index, site) in sites.enumerated() {
                let central = "hw\(pid % 100_000)c\(index + 1)"
                try Self.run(Self.ip, ["netns", "add", site.namespace])
                try Self.run(Self.ip, ["-n", site.namespace, "link", "set", "lo", "up"])
                try Self.run(Self.ip, ["link", "add", central, "type", "veth", "peer", "name", site.interface, "netns", site.namespace])
                try Self.run(Self.ip, ["addr", "add", "\(site.centralAddress)/24", "dev", central])
                try Self.run(Self.ip, ["link", "set", central, "up"])
                try Self.run(Self.ip, ["-n", site.namespace, "addr", "add", "\(site.siteAddress)/24", "dev", site.interface])
                try Self.run(Self.ip, ["-n", site.namespace, "link", "set", site.interface, "up"])
            }
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    /// Deletes the namespaces (which takes their veth pairs with them).
    public func close() {
        guard !closed else { return }
        closed = true
        for site in sites { _ = try? Self.run(Self.ip, ["netns", "delete", site.namespace]) }
    }

    /// Drops `percent` % of the packets in each direction of the site's uplink, at random.
    public func loss(_ site: Site, percent: Double) throws {
        let probability = String(format: "%.4f", percent / 100)
        for (chain, direction) in [("OUTPUT", "-o"), ("INPUT", "-i")] {
            try iptables(site, ["-A", chain, direction, site.interface, "-m", "statistic", "--mode", "random", "--probability", probability, "-j", "DROP"])
        }
    }

    /// Cuts the uplink: every packet is dropped silently (a dead WAN line, not a refused connection).
    public func cut(_ site: Site) throws {
        for (chain, direction) in [("OUTPUT", "-o"), ("INPUT", "-i")] {
            try iptables(site, ["-I", chain, "1", direction, site.interface, "-j", "DROP"])
        }
    }

    /// Undoes `cut`.
    public func restore(_ site: Site) throws {
        for (chain, direction) in [("OUTPUT", "-o"), ("INPUT", "-i")] {
            try iptables(site, ["-D", chain, direction, site.interface, "-j", "DROP"])
        }
    }

    /// Packets the random-loss rules of `site` dropped so far (both directions).
    public func droppedByLoss(_ site: Site) throws -> Int {
        var total = 0
        for chain in ["OUTPUT", "INPUT"] {
            let listing = try Self.run(Self.ip, ["netns", "exec", site.namespace, Self.iptables, "-w", "-L", chain, "-v", "-n", "-x"])
            for line in listing.split(separator: "\n") where line.contains("statistic") {
                total += Int(line.split(separator: " ").first ?? "") ?? 0
            }
        }
        return total
    }

    /// Runs a program inside the site's namespace; returns its standard output.
    @discardableResult
    public func exec(_ site: Site, _ executable: String, _ arguments: [String]) throws -> String {
        try Self.run(Self.ip, ["netns", "exec", site.namespace, executable] + arguments)
    }

    private func iptables(_ site: Site, _ arguments: [String]) throws {
        try Self.run(Self.ip, ["netns", "exec", site.namespace, Self.iptables, "-w"] + arguments)
    }

    /// Namespaces a killed earlier run left behind (their test process is gone).
    private static func removeStale() {
        guard let list = try? run(ip, ["netns", "list"]) else { return }
        for line in list.split(separator: "\n") {
            let name = String(line.split(separator: " ").first ?? "")
            let parts = name.split(separator: "-")
            guard name.hasPrefix("hpm-wan-"), parts.count == 4, let pid = Int32(parts[2]), kill(pid, 0) != 0 else { continue }
            _ = try? run(ip, ["netns", "delete", name])
        }
    }

    /// Runs a program to its end; returns its standard output, throws with its stderr on a non-zero exit.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CommandFailed(description: "\(executable) \(arguments.joined(separator: " ")): exit \(process.terminationStatus): \(errors.prefix(500))")
        }
        return text
    }
}
