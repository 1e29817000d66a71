import Foundation

/// CPU time of this process's threads grouped by name (`/proc/self/task/*/{comm,stat}`): separates a
/// sink's own threads (`hpm-rw-1`, `hpm-mqtt-1`) from the callers' work in a row.
enum ThreadCPU {
    /// Seconds of user + system time per thread name, with the trailing `-<n>` of pool threads kept.
    static func byName() -> [String: Double] {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        var out: [String: Double] = [:]
        guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") else { return out }
        for tid in tasks {
            guard let comm = try? String(contentsOfFile: "/proc/self/task/\(tid)/comm", encoding: .utf8),
                  let stat = try? String(contentsOfFile: "/proc/self/task/\(tid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { continue }
            out[comm.trimmingCharacters(in: .whitespacesAndNewlines), default: 0] += (user + system) / ticks
        }
        return out
    }

    /// CPU seconds of the calling thread (CLOCK_THREAD_CPUTIME_ID).
    static func current() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// What each thread name used between two snapshots, largest first (threads that ended are not counted).
    static func delta(_ before: [String: Double], _ after: [String: Double]) -> [(String, Double)] {
        after.map { ($0.key, $0.value - (before[$0.key] ?? 0)) }.filter { $0.1 > 0.005 }.sorted { $0.1 > $1.1 }
    }
}
