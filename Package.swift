// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "hpmanager",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "hpmanagerd", targets: ["hpmanagerd"]),
        .executable(name: "hpsim", targets: ["hpsim"]),
        .executable(name: "hpmanagerctl", targets: ["hpmanagerctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // System libraries: bindings only, no logic.
        .systemLibrary(name: "CModbus", pkgConfig: "libmodbus", providers: [.apt(["libmodbus-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CSnappy", pkgConfig: "snappy", providers: [.apt(["libsnappy-dev"])]),
        .systemLibrary(name: "CMosquitto", pkgConfig: "libmosquitto", providers: [.apt(["libmosquitto-dev"])]),

        // A bounded pool of OS threads with serial strands: blocking C calls never run on the cooperative pool.
        .target(
            name: "BlockingIO",
            dependencies: [.product(name: "DequeModule", package: "swift-collections")]
        ),
        // The one Swift wrapper around libsqlite3.
        .target(name: "SQLiteKit", dependencies: ["CSQLite"]),
        // The one Swift wrapper around libcurl (HTTP POST with a reused easy handle) and the body codecs (zlib, snappy).
        .target(name: "CurlKit", dependencies: ["CCurl", "CZlib", "CSnappy"]),

        // The one Swift wrapper around libmosquitto (a client owned by one thread, MOSQ_ERR_* + errno → MosquittoError).
        .target(name: "MQTTKit", dependencies: ["CMosquitto"]),

        // The one Swift wrapper around libmodbus (client contexts, server mappings, errno → ModbusError).
        .target(name: "ModbusKit", dependencies: ["CModbus"]),

        // Value types and configuration loading/validation.
        .target(
            name: "HPCore",
            dependencies: [
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Vendor models as data, register decoding, read-group planning.
        .target(
            name: "Drivers",
            dependencies: ["HPCore"],
            resources: [
                .embedInCode("Models/idm_navigator.yml"),
                .embedInCode("Models/nibe_s.yml"),
                .embedInCode("Models/luxtronik.yml"),
                .embedInCode("Models/daikin_altherma.yml"),
                .embedInCode("Models/stiebel_eltron_wpm.yml"),
            ]
        ),
        // Device actors, event-driven Modbus links (SwiftNIO for TCP, a thread per serial bus), poll scheduling.
        .target(
            name: "DeviceActor",
            dependencies: [
                "HPCore", "Drivers", "ModbusKit", "BlockingIO", "Insight",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        // Outputs: the Prometheus metrics file (InfluxDB and SQLite follow).
        .target(
            name: "Sinks",
            dependencies: [
                "HPCore", "BlockingIO", "SQLiteKit", "CurlKit", "MQTTKit",
                .product(name: "DequeModule", package: "swift-collections"),
                // Prometheus remote write messages (prompb); the generated code is committed under Sinks/RemoteWrite/Proto.
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            exclude: ["RemoteWrite/Proto/remote.proto"]
        ),
        // Derived heat-pump metrics: pure formulas (COP, counters, compressor cycles), no I/O.
        .target(name: "Insight", dependencies: ["HPCore"]),
        // Version and git commit of the build, generated by BuildInfoPlugin.
        .target(name: "BuildInfo", plugins: ["BuildInfoPlugin"]),
        .plugin(name: "BuildInfoPlugin", capability: .buildTool()),
        // The control socket's wire format (newline-delimited JSON) and address, shared by daemon, CLI and tests.
        // Also the typed operations (requests, responses, CommandError) both transports speak, and API token hashing.
        .target(name: "ControlProtocol", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        // Child supervision, restart intensity, live config apply, control-socket server.
        .target(
            name: "Supervisor",
            dependencies: [
                "HPCore", "Drivers", "DeviceActor", "Sinks", "ControlProtocol", "BlockingIO",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // The HTTP API (Hummingbird 2): REST routes over the same typed operations as the socket, bearer-token auth.
        .target(
            name: "HTTPAPI",
            dependencies: [
                "HPCore", "Supervisor", "Sinks", "ControlProtocol", "DeviceActor",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            resources: [
                .embedInCode("openapi.json"),
                // The web console: plain HTML, CSS and JavaScript, no build step.
                .embedInCode("Resources/console/index.html"),
                .embedInCode("Resources/console/console.css"),
                .embedInCode("Resources/console/favicon.svg"),
                .embedInCode("Resources/console/api.js"),
                .embedInCode("Resources/console/chart.js"),
                .embedInCode("Resources/console/fleet.js"),
                .embedInCode("Resources/console/device.js"),
                .embedInCode("Resources/console/wizard.js"),
                .embedInCode("Resources/console/compare.js"),
                .embedInCode("Resources/console/settings.js"),
                .embedInCode("Resources/console/app.js"),
            ]
        ),
        .executableTarget(
            name: "hpmanagerctl",
            dependencies: ["ControlProtocol", "BuildInfo", "SQLiteKit", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "hpmanagerd",
            dependencies: [
                "HPCore", "Drivers", "Sinks", "Supervisor", "DeviceActor", "ModbusKit", "HTTPAPI", "BuildInfo", "ControlProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // Modbus TCP/RTU heat-pump simulator. It encodes values itself and never uses Drivers.
        .executableTarget(
            name: "hpsim",
            dependencies: [
                "ModbusKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Benchmarks (`make bench`), never part of `swift test`.
        .executableTarget(
            name: "hpmbench",
            dependencies: [
                "HPCore", "Sinks", "TestSupport", "SQLiteKit", "Drivers", "Insight", "ModbusKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Process/port helpers shared by the tests.
        .target(name: "TestSupport", dependencies: ["CurlKit", "ControlProtocol"], path: "Tests/TestSupport"),
        .testTarget(
            name: "HPManagerTests",
            dependencies: [
                "HPCore", "Drivers", "DeviceActor", "Sinks", "Supervisor", "ModbusKit", "TestSupport", "SQLiteKit", "CurlKit", "BlockingIO", "ControlProtocol",
                "Insight", "MQTTKit",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),  // deploy/ files (compose, Prometheus) parsed by the deploy tests
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
