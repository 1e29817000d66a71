import Foundation

/// CPU, memory and threads of another process, from /proc.
struct ProcessSampler {
    let pid: Int32
    private let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// utime + stime in seconds.
    func cpuSeconds() -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / ticks
    }

    /// (RSS bytes, threads).
    func memoryAndThreads() -> (Double, Int) {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return (0, 0) }
        var rss = 0.0, threads = 0
        for line in status.split(separator: "\n") {
            if line.hasPrefix("VmRSS:") { rss = (Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024 }
            if line.hasPrefix("Threads:") { threads = Int(line.split(separator: "\t").last ?? "0") ?? 0 }
        }
        return (rss, threads)
    }
}
