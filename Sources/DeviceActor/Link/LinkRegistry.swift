import BlockingIO
import HPCore
import Synchronization

/// Hands out one shared `ModbusLink` per endpoint and closes it when its last device lets go.
public final class LinkRegistry: Sendable {
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

    /// Number of distinct links currently open.
    public var count: Int { entries.withLock { $0.count } }
}
