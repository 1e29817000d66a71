import HPCore
import NIOCore
import Synchronization

/// Hands out one shared `ModbusLink` per endpoint and closes it when its last device lets go.
/// Links are spread over the event loops round-robin; every device on a link runs on the link's loop.
public final class LinkRegistry: Sendable, DaemonMetricsSource {
    private struct Entry {
        var link: ModbusLink
        var users: Int
    }

    public let group: any EventLoopGroup
    public let throttle: ConnectThrottle
    private let entries = Mutex<[String: Entry]>([:])
    /// One `LoopTimers` per event loop, shared by every link on it (the loop is kept alive by its
    /// entry, so its identifier is never reused while the entry exists).
    private let timers = Mutex<[ObjectIdentifier: LoopTimers]>([:])

    public init(group: any EventLoopGroup, throttle: ConnectThrottle) {
        self.group = group
        self.throttle = throttle
    }

    public func acquire(_ endpoint: LinkEndpoint) -> ModbusLink {
        let link = entries.withLock { entries in
            if var entry = entries[endpoint.key] {
                entry.users += 1
                entries[endpoint.key] = entry
                return entry.link
            }
            let link = ModbusLink(endpoint: endpoint, timers: timers(for: group.next()), throttle: throttle)
            entries[endpoint.key] = Entry(link: link, users: 1)
            return link
        }
        link.addUser(1)
        return link
    }

    private func timers(for loop: any EventLoop) -> LoopTimers {
        timers.withLock { all in
            if let known = all[ObjectIdentifier(loop)] { return known }
            let made = LoopTimers(loop: loop)
            all[ObjectIdentifier(loop)] = made
            return made
        }
    }

    public func release(_ endpoint: LinkEndpoint) {
        let (link, closing): (ModbusLink?, Bool) = entries.withLock { entries in
            guard var entry = entries[endpoint.key] else { return (nil, false) }
            entry.users -= 1
            if entry.users > 0 {
                entries[endpoint.key] = entry
                return (entry.link, false)
            }
            entries[endpoint.key] = nil
            return (entry.link, true)
        }
        link?.addUser(-1)
        if closing { link?.close() }
    }

    /// Devices per open link (for tests and status).
    public var linkUsers: [String: Int] { entries.withLock { $0.mapValues(\.users) } }

    /// `hpmanager_link_*` series: devices, measured cycle, saturation and protocol counters per link.
    public func daemonMetrics() -> [DaemonMetric] {
        let links = entries.withLock { $0.values.map { ($0.link, $0.users) } }
        var metrics: [DaemonMetric] = [DaemonMetric("hpmanager_links", help: "Open Modbus links (TCP connections or serial buses).", value: Double(links.count))]
        for (link, users) in links.sorted(by: { $0.0.endpoint.key < $1.0.endpoint.key }) {
            let load = link.currentLoad
            let stats = link.currentStatistics
            let labels = [("link", link.endpoint.description)]
            metrics.append(DaemonMetric("hpmanager_link_devices", help: "Devices sharing the link.", labels: labels, value: Double(users)))
            metrics.append(DaemonMetric("hpmanager_link_cycle_seconds", help: "Bus time of one poll of every device on the link.", labels: labels, value: load.cycle))
            metrics.append(DaemonMetric("hpmanager_link_saturated", help: "1 when the link cannot poll its devices at their interval (schedule stretched).", labels: labels, value: load.saturated ? 1 : 0))
            metrics.append(DaemonMetric("hpmanager_link_connects_total", help: "Connection attempts on the link.", kind: .counter, labels: labels, value: Double(stats.connects)))
            metrics.append(DaemonMetric("hpmanager_link_timeouts_total", help: "Requests without a complete answer before their deadline.", kind: .counter, labels: labels, value: Double(stats.timeouts)))
            metrics.append(DaemonMetric("hpmanager_link_stale_responses_total", help: "Late or duplicate answers discarded by transaction id.", kind: .counter, labels: labels, value: Double(stats.staleResponses)))
            metrics.append(DaemonMetric("hpmanager_link_protocol_errors_total", help: "Answers that broke the protocol (wrong unit, protocol id, length or content).", kind: .counter, labels: labels, value: Double(stats.protocolErrors)))
        }
        return metrics
    }
}
