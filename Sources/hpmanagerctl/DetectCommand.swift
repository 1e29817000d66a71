import ArgumentParser
import ControlProtocol
import Foundation

extension HPManagerCtl {
    struct Detect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Probe a Modbus TCP device and propose a built-in model with its circuits/zones.",
            discussion: """
            A few identifying reads per model (the models' detect: registers), through the daemon's own
            poller, on a link of its own. Exit status 0 when a model is proposed, 1 when none fits.
            """)
        @Argument(help: "HOST or HOST:PORT ([IPv6]:PORT); port 502 by default.") var target: String
        @Option(help: "Modbus unit id.") var unit = 1
        @Option(help: "Seconds to wait for each Modbus answer.") var timeout = 1.0
        @Option(help: "Control socket path (default: $HPMANAGER_SOCKET or /run/hpmanager/hpmanager.sock).") var socket: String?
        @Flag(help: "Print the daemon's JSON result instead of a table.") var json = false

        /// HOST, HOST:PORT or [IPv6]:PORT.
        static func split(_ target: String) throws -> (host: String, port: Int) {
            var host = target, port = 502
            if target.hasPrefix("["), let close = target.firstIndex(of: "]") {
                host = String(target[target.index(after: target.startIndex)..<close])
                let rest = target[target.index(after: close)...]
                if !rest.isEmpty {
                    guard rest.hasPrefix(":"), let p = Int(rest.dropFirst()) else { throw ValidationError("expected [HOST]:PORT, found \(target)") }
                    port = p
                }
            } else if target.filter({ $0 == ":" }).count == 1, let colon = target.firstIndex(of: ":") {
                host = String(target[..<colon])
                guard let p = Int(target[target.index(after: colon)...]) else { throw ValidationError("expected HOST:PORT, found \(target)") }
                port = p
            }
            guard !host.isEmpty else { throw ValidationError("no host in \(target)") }
            guard (1...65535).contains(port) else { throw ValidationError("port must be 1-65535, found \(port)") }
            return (host, port)
        }

        func run() throws {
            let (host, port) = try Self.split(target)
            let path = socket ?? ProcessInfo.processInfo.environment["HPMANAGER_SOCKET"] ?? "/run/hpmanager/hpmanager.sock"
            // Every probe may wait its full timeout: allow for a few dozen of them.
            let session = ControlSession(path: path, json: json, timeout: 30 + 60 * max(0, min(timeout, 30)))
            let result = try session.call("detect", ["host": .string(host), "port": JSONValue(port), "unit": JSONValue(unit), "timeout": .number(timeout)])
            session.show(result) { r in
                var lines: [String] = [Output.text(r["message"])]
                if let p = r["proposal"], p != .null {
                    let config = (p["config"]?.object ?? [:]).keys.sorted().map { key in
                        "--config \(key)=" + (p["config"]?[key]?.array ?? []).map { Output.text($0) }.joined(separator: ",")
                    }
                    lines.append("add it: hpmanagerctl add --id ID --model \(Output.text(p["model"])) --host \(host) --port \(port) --unit \(unit)"
                                 + (config.isEmpty ? "" : " " + config.joined(separator: " ")))
                }
                lines.append(Output.table(["MODEL", "CONFIDENCE", "FITS", "REASON"], (r["candidates"]?.array ?? []).map { c in
                    [Output.text(c["model"]), "\(Int(((c["confidence"]?.number ?? 0) * 100).rounded())) %", c["viable"]?.bool == true ? "yes" : "no", Output.text(c["reason"])]
                }))
                return lines.joined(separator: "\n")
            }
            if result["proposal"] == nil || result["proposal"] == .null { throw ExitCode(1) }
        }
    }
}
