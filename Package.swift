// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "ShmBalance",
    products: [
        .executable(name: "shmbal", targets: ["shmbal"]),
        .library(name: "ShmBalance", targets: ["ShmBalance"]),
        // The dashboard's pure render, for the benchmark of a long currency list (Benchmarks/run --only render).
        .library(name: "ShmBalanceDashboard", targets: ["ShmBalanceDashboard"]),
        // libshmbalance.so: the C ABI (Sources/CShmBalance/include/shmbalance.h) for C, C++ and Python.
        .library(name: "shmbalance", type: .dynamic, targets: ["ShmBalanceCABI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        // `shmbal metrics` only (issue 14): the exposition format, and SwiftNIO's HTTP/1 server
        // (no Foundation). Neither reaches the core or the C library (README, "Dependencies").
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        // The only C in the core: pthread_mutex_clocklock (hidden behind _GNU_SOURCE) and friends.
        .target(name: "CShmBalanceSys"),
        // The core: segment layout, locking, the operations. The only code that touches the mapping.
        .target(
            name: "ShmBalance",
            dependencies: [
                "CShmBalanceSys",
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // TOML config -> core `RecordConfig`s, with our own strict reader of the subset a config
        // uses (TOMLKit/toml++ aborted or overflowed its stack on hostile files, and kept neither
        // value positions nor exact numbers). Kept out of the core so the C library stays small.
        .target(name: "ShmBalanceConfig", dependencies: ["ShmBalance"]),
        // `--json` output of the CLI and of the ledger's commands: amounts as exact decimal text.
        .target(name: "ShmBalanceJSON", dependencies: ["ShmBalance"]),
        .executableTarget(
            name: "shmbal",
            dependencies: [
                "ShmBalance", "ShmBalanceConfig", "ShmBalanceDashboard", "ShmBalanceJSON",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        // The C ABI: the public header (and its layout checks) ...
        .target(name: "CShmBalance"),
        // ... and its Swift @_cdecl exports, each one call into the core.
        .target(
            name: "ShmBalanceCABI",
            dependencies: ["CShmBalance", "ShmBalance", .product(name: "Atomics", package: "swift-atomics")]
        ),
        // A process the multi-process, crash and race tests spawn: random operations with logged
        // acks, readers on a read-only mapping, racing creators.
        .executableTarget(name: "shmbal-worker", dependencies: ["ShmBalance", "ShmBalanceTestKit"], path: "Tests/Worker"),
        // ncursesw for the dashboard: module.modulemap + shim.h, the only C the dashboard needs.
        .systemLibrary(name: "CNcurses", providers: [.apt(["libncurses-dev"])]),
        // The live dashboard (`shmbal top`, `shmbal demo`): render (snapshot, UI state, size) -> grid, ncurses copies it.
        .target(name: "ShmBalanceDashboard", dependencies: ["ShmBalance", "ShmBalanceConfig", "CShmBalanceSys", "CNcurses"]),
        // The one home of what tests need from the outside world. ShmBalanceTestKit (Glibc only, so
        // the helper executables start fast): child processes (posix_spawn, deadlines, kill and
        // reap), polling with a deadline, private folders, the built products. ShmBalanceTestSupport
        // re-exports it and adds the XCTest side: segments, images of the books, assertions.
        .target(name: "ShmBalanceTestKit", path: "Tests/Support/Kit"),
        .target(name: "ShmBalanceTestSupport", dependencies: ["ShmBalance", "ShmBalanceTestKit"], path: "Tests/Support/XCTest"),
        .testTarget(
            name: "DashboardTests",
            dependencies: ["ShmBalanceDashboard", "ShmBalance", "ShmBalanceTestSupport", "shmbal"],
            exclude: ["Goldens"]
        ),
        .testTarget(
            name: "ShmBalanceTests",
            dependencies: ["ShmBalance", "ShmBalanceConfig", "ShmBalanceTestSupport", "shmbal", "shmbal-worker"]
        ),
        // Issue 7: the fault-injection campaign (writers, a reader, a killer) and the stuck and
        // hostile neighbours, one executable with roles.
        .executableTarget(
            name: "shmbal-campaign",
            dependencies: ["ShmBalance", "ShmBalanceTestKit", .product(name: "Atomics", package: "swift-atomics")],
            path: "Tests/Campaign"
        ),
        .testTarget(
            name: "ReliabilityTests",
            dependencies: ["ShmBalance", "ShmBalanceConfig", "ShmBalanceTestSupport", "shmbal", "shmbal-campaign"]
        ),
        // Drives the C ABI in-process, and the Python package, the C++ header and the seed's
        // examples as child processes (python3, g++) against the built libshmbalance.so.
        // Issue 14: `shmbal metrics` scraped and parsed by prometheus_client, docs/alerts.yml under
        // promtool, `shmbal watch` (all through the built CLI in child processes).
        .testTarget(
            name: "MetricsTests",
            dependencies: ["ShmBalance", "ShmBalanceTestSupport", "shmbal"],
            exclude: ["scrape_metrics.py", "check_alert_names.py", "alerts_test.yml"]
        ),
        .testTarget(name: "BindingsTests", dependencies: ["CShmBalance", "ShmBalanceCABI", "ShmBalance", "ShmBalanceTestSupport", "shmbal"]),
    ],
    swiftLanguageModes: [.v6]
)

// Issue 7: libFuzzer targets, declared only when SHMBAL_FUZZ is set (they have no main of their
// own: libFuzzer supplies it). Built and run by Tests/Fuzz/run.sh with --sanitize=fuzzer.
if Context.environment["SHMBAL_FUZZ"] != nil {
    package.targets += [
        .executableTarget(name: "fuzz-amount", dependencies: ["ShmBalance"], path: "Tests/Fuzz/Amount"),
        .executableTarget(name: "fuzz-segment", dependencies: ["ShmBalance"], path: "Tests/Fuzz/Segment"),
        .executableTarget(name: "fuzz-config", dependencies: ["ShmBalance", "ShmBalanceConfig"], path: "Tests/Fuzz/Config"),
    ]
}

// Issue 13: several hosts lease their share of one account from a ledger in PostgreSQL (SPEC §10).
// The ledger and the agent are their own target and executable (`shmbal-ledger`, which
// `shmbal ledger …` and `shmbal agent …` run), so the core, the CLI's other commands and the C
// library never link the PostgreSQL client. postgres-nio costs 3–4 minutes per clean build and
// touches nothing of the core, so the sanitizer and fuzz builds set SHMBAL_WITHOUT_LEDGER and
// skip it (.ci/run).
if Context.environment["SHMBAL_WITHOUT_LEDGER"] == nil {
    package.dependencies += [.package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2")]
    package.products += [
        .executable(name: "shmbal-ledger", targets: ["shmbal-ledger"]),
        // For the ledger's benchmark (Benchmarks/run --only ledger), which drives the agent's rounds.
        .library(name: "ShmBalanceLedger", targets: ["ShmBalanceLedger", "ShmBalanceConfig"]),
    ]
    package.targets += [
        .target(
            name: "ShmBalanceLedger",
            dependencies: ["ShmBalance", "ShmBalanceConfig", .product(name: "PostgresNIO", package: "postgres-nio")]
        ),
        .executableTarget(
            name: "shmbal-ledger",
            dependencies: ["ShmBalanceLedger", "ShmBalance", "ShmBalanceConfig", "ShmBalanceJSON", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(
            name: "LedgerTests",
            dependencies: ["ShmBalanceLedger", "ShmBalance", "ShmBalanceTestSupport", "shmbal", "shmbal-ledger", "shmbal-worker"]
        ),
    ]
}

// The sanitizer builds of CI run only the core's and the reliability tests (.ci/run): with
// SHMBAL_CORE_TESTS_ONLY set, the test targets they never run are not built under a sanitizer.
if Context.environment["SHMBAL_CORE_TESTS_ONLY"] != nil {
    package.targets.removeAll { ["DashboardTests", "MetricsTests", "BindingsTests", "LedgerTests"].contains($0.name) }
}
