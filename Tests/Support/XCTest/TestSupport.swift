@_exported import ShmBalanceTestKit
import Foundation
import ShmBalance

// What every test target needs beyond ShmBalanceTestKit (processes, deadlines, temp folders,
// the built products, which this module re-exports): Foundation-typed paths and shorthands.

extension Amount {
    /// Test shorthand: `Amount("10000.5")` (traps on bad text: tests write only good text here).
    public init(_ text: String) { self = try! Amount(parsing: text) }
}

/// `key("USDC")` is KRAKEN USDC.
public func key(_ currency: String, _ exchange: String = "KRAKEN") -> BookKey { try! BookKey(exchange, currency) }

/// The directory holding the built products (shmbal, shmbal-worker, libshmbalance.so …) next to
/// the test bundle, as a URL (`productsPath` is the same as a String).
public let productsDirectory = URL(fileURLWithPath: productsPath, isDirectory: true)

/// Runs the built `shmbal` CLI to completion (see `runProcess`).
@discardableResult
public func runShmbal(_ args: [String], env: [String: String] = [:], timeout: Double = 60, cwd: String? = nil) throws -> RunResult {
    try runProcess(productPath(Product.shmbal), args, env: env, timeout: timeout, cwd: cwd)
}

/// Starts a built product without waiting for it. Its output goes to files `NAME.out` and
/// `NAME.err` in the folder `dir` (NAME: `name`, default the product) when one is given, else to
/// /dev/null. The returned handle kills and reaps it when it goes away.
public func spawnProduct(_ product: String, _ args: [String], env: [String: String] = [:], outputIn dir: String? = nil,
                         name: String? = nil) throws -> ChildProcess {
    let base = dir.map { $0 + "/" + (name ?? product) }
    return try ChildProcess(productPath(product), args, environment: env,
                            stdout: base.map { .file($0 + ".out") } ?? .null, stderr: base.map { .file($0 + ".err") } ?? .null)
}
