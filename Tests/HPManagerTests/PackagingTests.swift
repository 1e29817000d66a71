import Foundation
import Testing
import TestSupport

/// The Debian package and the systemd unit, checked with Debian's own tools: the package is built
/// from the binaries under test, unpacked into a throwaway root, and its binaries run there.
@Suite("Debian package and systemd unit", .harnessThreads, .serialized)
struct PackagingTests {
    static let version = (try? DeployFiles.text("VERSION"))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"

    /// Builds the .deb from this build's binaries (debug, Swift runtime linked dynamically).
    static func buildPackage(into directory: TemporaryDirectory) throws -> String {
        _ = try Products.path("generate-manual")  // `make test` builds it beside the tests
        let process = Process()
        process.executableURL = URL(fileURLWithPath: DeployFiles.path("deploy/debian/build-deb.sh"))
        process.arguments = [Products.binDirectory, directory.path + "/out"]
        var environment = ProcessInfo.processInfo.environment
        environment["HPM_DEB_ALLOW_UNPACKAGED"] = "1"
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0, let path = text.split(separator: "\n").last.map(String.init), path.hasSuffix(".deb") else {
            throw DeployFiles.Failure(description: "build-deb.sh failed (\(process.terminationStatus)):\n\(text)")
        }
        return path
    }

    @Test("make deb's package: control fields, runtime Depends only, conffiles, files, scripts; installed binaries run --version and --check")
    func debianPackage() throws {
        let dir = try TemporaryDirectory(prefix: "hpm-deb")
        let deb = try Self.buildPackage(into: dir)
        #expect(deb.hasSuffix("/hpmanager_\(Self.version)_amd64.deb"))

        func field(_ name: String) throws -> String {
            let (status, text) = try DeployFiles.run("/usr/bin/dpkg-deb", ["-f", deb, name])
            #expect(status == 0)
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(try field("Package") == "hpmanager")
        #expect(try field("Version") == Self.version)
        let depends = try field("Depends").components(separatedBy: ", ")
        for needed in try DeployFiles.runtimePackages() + ["adduser"] { #expect(depends.contains(needed), "Depends \(depends)") }
        // Runtime only: no -dev package, no toolchain, no test tool.
        #expect(!depends.contains { $0.hasSuffix("-dev") || $0.contains("swift") || ["influxdb", "prometheus", "socat", "mbpoll"].contains($0) },
                "Depends \(depends)")

        let (listed, contents) = try DeployFiles.run("/usr/bin/dpkg-deb", ["-c", deb])
        #expect(listed == 0)
        for path in ["./usr/bin/hpmanagerd", "./usr/bin/hpmanagerctl", "./usr/bin/hpsim", "./lib/systemd/system/hpmanagerd.service",
                     "./usr/share/man/man8/hpmanagerd.8.gz", "./usr/share/man/man1/hpmanagerctl.1.gz", "./usr/share/man/man1/hpsim.1.gz",
                     "./usr/share/man/man5/hpmanager.yml.5.gz", "./usr/share/bash-completion/completions/hpmanagerctl",
                     "./usr/share/zsh/vendor-completions/_hpmanagerctl", "./usr/share/fish/vendor_completions.d/hpmanagerctl.fish",
                     "./usr/share/doc/hpmanager/copyright", "./etc/hpmanager/heatpumps.yml", "./etc/hpmanager/collector.yml"] {
            #expect(contents.contains(" \(path)\n"), "\(path) in the package")
        }
        // The config may hold secrets: never world-readable, owned by root in the archive.
        for line in contents.split(separator: "\n") where line.contains("./etc/") && line.hasPrefix("-") {
            #expect(line.hasPrefix("-rw-r----- root/root"), "\(line)")
        }

        let root = dir.path + "/root"
        let (extracted, extractOutput) = try DeployFiles.run("/usr/bin/dpkg-deb", ["-R", deb, root])
        #expect(extracted == 0, "\(extractOutput)")
        let conffiles = try String(contentsOfFile: root + "/DEBIAN/conffiles", encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(Set(conffiles) == ["/etc/default/hpmanagerd", "/etc/hpmanager/collector.yml", "/etc/hpmanager/display.yml",
                                   "/etc/hpmanager/heatpumps.yml", "/etc/hpmanager/registers.yml"])
        for script in ["postinst", "prerm", "postrm"] {
            let (status, output) = try DeployFiles.run("/bin/sh", ["-n", root + "/DEBIAN/" + script])
            #expect(status == 0, "\(script): \(output)")
        }
        let postinst = try String(contentsOfFile: root + "/DEBIAN/postinst", encoding: .utf8)
        #expect(postinst.contains("adduser --system") && postinst.contains("chmod 0640"))
        // A fresh install never starts or enables the service: only an upgrade restarts a running one.
        let commands = postinst.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.hasPrefix("echo") && !$0.hasPrefix("#") }
        #expect(!commands.contains { $0.contains("enable") || $0.contains(" start ") || $0.contains("restart hpmanagerd") && !$0.contains("try-restart") },
                "postinst only tells the user how to enable the service")
        let postrm = try String(contentsOfFile: root + "/DEBIAN/postrm", encoding: .utf8)
        #expect(postrm.contains("purge") && postrm.contains("rm -rf /var/lib/hpmanager"))

        // The installed binaries run: version and commit, and the shipped config passes --check with nothing enabled.
        let (versionStatus, versionText) = try DeployFiles.run(root + "/usr/bin/hpmanagerd", ["--version"])
        #expect(versionStatus == 0)
        #expect(versionText.hasPrefix("\(Self.version) (commit ") && !versionText.contains("commit unknown"), "\(versionText)")
        let (ctlStatus, ctlText) = try DeployFiles.run(root + "/usr/bin/hpmanagerctl", ["--version"])
        #expect(ctlStatus == 0 && ctlText == versionText, "\(ctlText)")
        let (checkStatus, checkText) = try DeployFiles.run(root + "/usr/bin/hpmanagerd", ["--config-dir", root + "/etc/hpmanager", "--check"])
        #expect(checkStatus == 0, "\(checkText)")
        #expect(checkText.contains("(0 enabled)"), "the package enables no heat pump: \(checkText)")
        // Man pages render.
        for page in ["usr/share/man/man8/hpmanagerd.8.gz", "usr/share/man/man5/hpmanager.yml.5.gz"] {
            let (status, text) = try DeployFiles.run("/usr/bin/man", ["-l", root + "/" + page], timeout: 20)
            #expect(status == 0 && text.contains("NAME"), "\(page): \(text.prefix(300))")
        }

        // lintian: no errors but the debug build's RUNPATH (the release build links Swift statically).
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/lintian") {
            let (_, report) = try DeployFiles.run("/usr/bin/lintian", ["--allow-root", deb], timeout: 120)
            let errors = report.split(separator: "\n").filter { $0.hasPrefix("E:") && !$0.contains("custom-library-search-path") }
            #expect(errors.isEmpty, "lintian:\n\(report)")
        } else {
            print("lintian not installed; `make deps` installs it")
        }
    }

    @Test("make install-files (what make install copies) with PREFIX and DESTDIR: binaries, man pages, the unit's paths rewritten, examples that pass --check")
    func makeInstall() throws {
        _ = try Products.path("generate-manual")  // `make test` builds it beside the tests
        let root = try TemporaryDirectory(prefix: "hpm-install")
        let (status, output) = try DeployFiles.run("/usr/bin/make", ["--no-print-directory", "-C", DeployFiles.root, "install-files",
                                                                      "BIN=\(Products.binDirectory)", "DESTDIR=\(root.path)", "PREFIX=/usr/local"], timeout: 120)
        #expect(status == 0, "\(output)")
        let prefix = root.path + "/usr/local"
        for binary in ["hpmanagerd", "hpmanagerctl", "hpsim"] {
            #expect(FileManager.default.isExecutableFile(atPath: "\(prefix)/bin/\(binary)"), "\(binary) installed")
        }
        for page in ["man8/hpmanagerd.8", "man1/hpmanagerctl.1", "man1/hpsim.1", "man5/hpmanager.yml.5"] {
            #expect(FileManager.default.fileExists(atPath: "\(prefix)/share/man/\(page)"), "\(page) installed")
        }
        let unit = try String(contentsOfFile: "\(prefix)/lib/systemd/system/hpmanagerd.service", encoding: .utf8)
        #expect(unit.contains("ExecStart=/usr/local/bin/hpmanagerd"), "\(unit)")
        #expect(!unit.contains("/usr/bin/hpmanager"), "every path of the unit points into PREFIX")
        for doc in ["README.md", "CHANGELOG.md", "LICENSE", "examples/heatpumps.yml", "examples/collector.yml"] {
            #expect(FileManager.default.fileExists(atPath: "\(prefix)/share/doc/hpmanager/\(doc)"), "\(doc) installed")
        }
        let (version, versionText) = try DeployFiles.run("\(prefix)/bin/hpmanagerd", ["--version"])
        #expect(version == 0 && versionText.contains(Self.version), "\(versionText)")
        let (check, checkText) = try DeployFiles.run("\(prefix)/bin/hpmanagerd", ["--config-dir", "\(prefix)/share/doc/hpmanager/examples", "--check"])
        #expect(check == 0 && checkText.contains("configuration OK"), "\(checkText)")
        // Without BIN the target refuses instead of installing nothing.
        let (refused, refusedText) = try DeployFiles.run("/usr/bin/make", ["--no-print-directory", "-C", DeployFiles.root, "install-files", "DESTDIR=\(root.path)"])
        #expect(refused != 0 && refusedText.contains("set BIN"), "\(refusedText)")
    }

    @Test("the README's install section and the package's copyright name every runtime package the Makefile lists")
    func runtimePackagesDocumented() throws {
        let readme = try DeployFiles.text("README.md")
        let install = readme.components(separatedBy: "## Install").dropFirst().first?.components(separatedBy: "\n## ").first ?? ""
        let copyright = try DeployFiles.text("deploy/debian/copyright")
        for package in try DeployFiles.runtimePackages() {
            #expect(install.contains("`\(package)`"), "README's Install section does not name \(package)")
            // libmosquitto1 -> libmosquitto, libsnappy1v5 -> libsnappy, libsqlite3-0 -> libsqlite3, zlib1g -> zlib
            let library = package.replacingOccurrences(of: "1v5", with: "").replacingOccurrences(of: "1g", with: "")
                .replacingOccurrences(of: "-0", with: "").trimmingCharacters(in: CharacterSet(charactersIn: "0123456789"))
            #expect(copyright.contains(library), "deploy/debian/copyright does not name \(library) (\(package))")
        }
    }

    @Test("the unit: systemd-analyze security <= 2.5 (OK) and verify clean; Type=notify, watchdog, --check before start")
    func systemdUnit() throws {
        let unit = try DeployFiles.text("deploy/hpmanagerd.service")
        for line in ["Type=notify", "WatchdogSec=30", "ExecReload=/bin/kill -HUP $MAINPID", "ExecStartPre=/usr/bin/hpmanagerd --config-dir /etc/hpmanager --check",
                     "StateDirectory=hpmanager", "RuntimeDirectory=hpmanager", "LogsDirectory=hpmanager", "ConfigurationDirectory=hpmanager",
                     "ProtectSystem=strict", "NoNewPrivileges=true", "CapabilityBoundingSet=", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
                     "SystemCallFilter=@system-service", "UMask=0027", "DevicePolicy=closed", "LimitNOFILE=65536"] {
            #expect(unit.split(separator: "\n").contains { $0 == line }, "\(line)")
        }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze") else {
            Issue.record("systemd-analyze missing; `make deps` installs systemd")
            return
        }
        // verify needs the binaries to exist: point the unit at this build's.
        let dir = try TemporaryDirectory(prefix: "hpm-unit")
        try dir.write("hpmanagerd.service", unit.replacingOccurrences(of: "/usr/bin/hpmanagerd", with: try Products.path("hpmanagerd")))
        let (verified, verifyOutput) = try DeployFiles.run("/usr/bin/systemd-analyze", ["verify", "--man=no", dir.path + "/hpmanagerd.service"])
        #expect(verified == 0 && verifyOutput.isEmpty, "systemd-analyze verify:\n\(verifyOutput)")
        let (secure, report) = try DeployFiles.run("/usr/bin/systemd-analyze", ["security", "--offline=true", "--threshold=25", dir.path + "/hpmanagerd.service"])
        let overall = report.split(separator: "\n").first { $0.contains("Overall exposure level") } ?? "?"
        #expect(secure == 0, "exposure above 2.5: \(overall)")
        #expect(overall.contains(" OK"), "\(overall)")
    }
}
