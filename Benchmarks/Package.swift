// swift-tools-version:6.1
// The benchmark suite, a package of its own so a plain `swift build` / `swift test` of ShmBalance
// never builds it or fetches its dependency. Run everything with `Benchmarks/run`.
import PackageDescription

let package = Package(
    name: "ShmBalanceBenchmarks",
    dependencies: [
        .package(name: "ShmBalance", path: ".."),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.1.0"),
        // The ledger's benchmark only (built by `Benchmarks/run` when its `ledger` section runs):
        // the driver's own floor (SELECT 1, a one-row transaction) beside the agent's rounds.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // The peers, in C: robust-mutex in place and crash-safe, SQLite, Redis (hiredis).
        .target(
            name: "CPeers",
            cSettings: [.unsafeFlags(["-O2"])],
            linkerSettings: [.linkedLibrary("sqlite3"), .linkedLibrary("hiredis")]
        ),
        .executableTarget(
            name: "shmbal-bench",
            dependencies: [
                "CPeers",
                .product(name: "ShmBalance", package: "ShmBalance"),
                .product(name: "ShmBalanceDashboard", package: "ShmBalance"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        // Issue 13: a lease transfer's latency and the ledger's operations per second, through the
        // agent's own rounds against a real PostgreSQL (Benchmarks/run starts one).
        .executableTarget(
            name: "shmbal-ledger-bench",
            dependencies: [
                .product(name: "ShmBalance", package: "ShmBalance"),
                .product(name: "ShmBalanceLedger", package: "ShmBalance"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
