// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "dcapply",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "dcapply", targets: ["dcapply"]),
        .library(name: "DCApplyCore", targets: ["DCApplyCore"]),
    ],
    dependencies: [
        // Tests only: an independent YAML reader for the plan checker (the product reads YAML
        // through system libyaml, target CLibYAML).
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        .target(
            name: "DCApplyCore",
            dependencies: [
                "CLibYAML",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "DCApplyRedfish",
            dependencies: [
                "DCApplyCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "DCApplySlurm",
            dependencies: [
                "DCApplyCore",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "DCApplyActuators",
            dependencies: [
                "DCApplyCore",
                "DCApplySlurm",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .systemLibrary(
            name: "CLibYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]
        ),
        .systemLibrary(
            name: "CLibGit2",
            pkgConfig: "libgit2",
            providers: [.apt(["libgit2-dev"])]
        ),
        .target(
            name: "DCApplyGit",
            dependencies: [
                "CLibGit2", "DCApplyCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // HTML views of plans and of serve's status page: pure rendering (swift-mustache), no I/O.
        .target(
            name: "DCApplyHTML",
            dependencies: ["DCApplyCore", .product(name: "Mustache", package: "swift-mustache")]
        ),
        // The PostgreSQL state store (issue 16): its own target so the core stays free of NIO.
        .target(
            name: "DCApplyPostgres",
            dependencies: [
                "DCApplyCore", "DCApplyServer",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // dcapply serve: the reconcile loop (a pure policy over observations), HTTP routes and metrics.
        .target(
            name: "DCApplyServer",
            dependencies: [
                "DCApplyCore", "DCApplyGit", "DCApplyHTML",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "dcapply",
            dependencies: [
                "DCApplyCore",
                "DCApplyHTML",
                "DCApplyRedfish",
                "DCApplyGit",
                "DCApplyActuators",
                "DCApplyServer",
                "DCApplyPostgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        // Shared by the test targets that run the built binary: finds it (DCAPPLY_BINARY wins) and runs it.
        .target(
            name: "DCApplyTestSupport",
            path: "Tests/DCApplyTestSupport"
        ),
        // Benchmarks/store_bench.sh: lock and journal round trips of a state store (issue 16).
        .executableTarget(
            name: "DCApplyStoreBench",
            dependencies: ["DCApplyCore", "DCApplyPostgres"]
        ),
        // libFuzzer targets (scripts/fuzz, docs/security.md). Depends only on the light targets so the
        // sanitized build in .build-fuzz never compiles NIO or Hummingbird; the pure Redfish decoding
        // is compiled into it from Sources/DCApplyRedfish through the symlinks in Shared/.
        .executableTarget(
            name: "DCApplyFuzz",
            dependencies: ["DCApplyCore", "DCApplyGit"],
            exclude: ["README.md"]
        ),
        .testTarget(
            name: "DCApplyCoreTests",
            dependencies: ["DCApplyCore", .product(name: "Logging", package: "swift-log")],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "dcapplyTests",
            dependencies: [
                "dcapply", "DCApplyCore", "DCApplyTestSupport",
                .product(name: "Yams", package: "Yams"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "DCApplyRedfishTests",
            dependencies: [
                "DCApplyRedfish", "DCApplyCore", "DCApplyTestSupport",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "DCApplySlurmTests",
            dependencies: [
                "DCApplySlurm", "DCApplyActuators", "DCApplyCore", "dcapply", "DCApplyTestSupport",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "DCApplyActuatorsTests",
            dependencies: [
                "DCApplyActuators", "DCApplyCore", "dcapply", "DCApplyTestSupport",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "DCApplyHTMLTests",
            dependencies: [
                "DCApplyHTML", "DCApplyCore", "DCApplyTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "DCApplyFuzzTests",
            dependencies: ["DCApplyFuzz", "DCApplyCore"]
        ),
        .testTarget(
            name: "DCApplyServerTests",
            dependencies: [
                "DCApplyServer", "DCApplyGit", "DCApplyCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "DCApplyPostgresTests",
            dependencies: ["DCApplyPostgres", "DCApplyCore", "dcapply", "DCApplyTestSupport"]
        ),
        .testTarget(
            name: "DCApplyGitTests",
            dependencies: [
                "DCApplyGit", "DCApplyCore", "dcapply", "DCApplyTestSupport",
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
