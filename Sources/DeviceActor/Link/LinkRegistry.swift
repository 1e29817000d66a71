import BlockingIO
import HPCore
import Synchronization

/// Hands out one shared `ModbusLink` per endpoint and closes it when its last device lets go.
public final class LinkRegistry: Sendable, DaemonMetricsSource {
    private struct Entry {
        var link: ModbusLink
        var users: Int
    }

    public let pool: IOThreadPool
    private let entries = Mutex<[String: Entry]>([:])

    public init(pool: IOThreadPool) {
        self.pool = pool
    }

    public func acquire(_ endpoint: LinkEndpoint) -> ModbusLink {
        entries.withLock { entries in
            if var entry = entries[endpoint.key] {
                entry.users += 1
                entries[endpoint.key] = entry
                return entry.link
            }
            let link = ModbusLink(endpoint: endpoint, pool: pool)
            entries[endpoint.key] = Entry(link: link, users: 1)
            return link
        }
    }

    public func release(_ endpoint: LinkEndpoint) {
        let closing: ModbusLink? = entries.withLock { entries in
            guard var entry = entries[endpoint.key] else { return nil }
            entry.users -= 1
            if entry.users > 0 {
                entries[endpoint.key] = entry
                return nil
            }
            entries[endpoint.key] = nil
            return entry.link
        }
        closing?.close()
    }

    /// `hpmanager_link_*` series: devices, measured cycle and saturation per link.
    public func daemonMetrics() -> [DaemonMetric] {
        let links = entries.withLock { $0.values.map { ($0.link, $0.users) } }
        var metrics: [DaemonMetric] = [DaemonMetric("hpmanager_links", help: "Open Modbus links (TCP connections or serial buses).", value: Double(links.count))]
        for (link, users) in links.sorted(by: { $0.0.endpoint.key < $1.0.endpoint.key }) {
            let load = link.currentLoad
            let labels = [("link", link.endpoint.description)]
            metrics.append(DaemonMetric("hpmanager_link_devices", help: "Devices sharing the link.", labels: labels, value: Double(users)))
            metrics.append(DaemonMetric("hpmanager_link_cycle_seconds", help: "Bus time of one poll of every device on the link.", labels: labels, value: load.cycle))
            metrics.append(DaemonMetric("hpmanager_link_saturated", help: "1 when the link cannot poll its devices at their interval (schedule stretched).", labels: labels, value: load.saturated ? 1 : 0))
        }
        metrics.append(DaemonMetric("hpmanager_io_threads", help: "Threads started for blocking Modbus I/O.", value: Double(pool.threadCount)))
        return metrics
    }

}
