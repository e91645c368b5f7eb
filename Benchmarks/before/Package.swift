// swift-tools-version:6.1
// core-batch: the one-process allocate/release loop and the consistent read of Benchmarks/
// (Workloads.swift's swiftOps and swiftReads, the same calls), timed, in a package of its own so
// that the same harness builds against any checkout of the core. Benchmarks/run builds it against
// this tree and against the commit before issue 10's hardening, and interleaves the two: "no
// slower than before" is then a ratio measured in one run, with nothing but the core different.
import PackageDescription

let package = Package(
    name: "CoreBatch",
    dependencies: [.package(name: "ShmBalance", path: "../..")],
    targets: [
        .target(name: "CBatch", cSettings: [.unsafeFlags(["-O2"])]),
        .executableTarget(name: "core-batch", dependencies: ["CBatch", .product(name: "ShmBalance", package: "ShmBalance")]),
    ],
    swiftLanguageModes: [.v6]
)
