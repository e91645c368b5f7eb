import Foundation
import ShmBalance

// What every test target needs from the outside world: private folders and segments that are
// removed afterwards, the built executables, and child processes that cannot hang a test.

/// A private folder per test, removed afterwards with everything in it.
public final class TempDir: @unchecked Sendable {
    public let path: String

    public init(_ tag: String = "test") {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("shmbal-\(tag)-\(getpid())-\(UUID().uuidString.prefix(8))").path
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    public func file(_ name: String) -> String { path + "/" + name }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// A private segment path in its own folder; `books()` opens (and by default creates) it.
public final class TempSegment: @unchecked Sendable {
    private let folder: TempDir
    public var dir: String { folder.path }
    public let path: String

    public init(_ name: String = "seg") {
        folder = TempDir("seg")
        path = folder.file(name)
    }

    public func books(_ access: Segment.AccessMode = .readWriteCreating()) throws -> Books {
        try Books.open(path, access)
    }
}

extension Amount {
    /// Test shorthand: `Amount("10000.5")` (traps on bad text: tests write only good text here).
    public init(_ text: String) { self = try! Amount(parsing: text) }
}

/// `key("USDC")` is KRAKEN USDC.
public func key(_ currency: String, _ exchange: String = "KRAKEN") -> BookKey { try! BookKey(exchange, currency) }

/// The directory holding the built products (shmbal, shmbal-worker, libshmbalance.so …) next to the test bundle.
public let productsDirectory: URL = {
    for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
        return bundle.bundleURL.deletingLastPathComponent()
    }
    return Bundle.main.bundleURL
}()

public func productPath(_ name: String) -> String { productsDirectory.appendingPathComponent(name).path }

public struct RunResult: Sendable {
    public var status: Int32
    public var out: String
    public var err: String
    /// Killed by a signal rather than exiting.
    public var signalled: Bool
    public var seconds: Double
}

/// Runs `executable` to completion and returns its status and output. Both pipes are read at
/// once (a chatty child never blocks on a full pipe), and a child still running after `timeout`
/// seconds is killed, which the caller sees as a signalled result: a test never hangs on one.
@discardableResult
public func runProcess(_ executable: String, _ args: [String], env: [String: String] = [:], timeout: Double = 120,
                       cwd: String? = nil) throws -> RunResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
    p.arguments = args
    var environment = ProcessInfo.processInfo.environment
    environment["SWIFT_BACKTRACE"] = "enable=no"
    for (k, v) in env { environment[k] = v }
    p.environment = environment
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    let start = Date()
    try p.run()
    let pid = p.processIdentifier
    let watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
    DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
    nonisolated(unsafe) var errData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
        errData = err.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    let o = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    p.waitUntilExit()
    watchdog.cancel()
    return RunResult(status: p.terminationStatus, out: String(decoding: o, as: UTF8.self), err: String(decoding: errData, as: UTF8.self),
                     signalled: p.terminationReason == .uncaughtSignal, seconds: Date().timeIntervalSince(start))
}

/// Runs a built product (e.g. `shmbal`) to completion.
@discardableResult
public func runProduct(_ name: String, _ args: [String], env: [String: String] = [:], timeout: Double = 120) throws -> RunResult {
    try runProcess(productPath(name), args, env: env, timeout: timeout)
}
