import Foundation
import ShmBalance
import XCTest

/// A private directory per test, removed afterwards (with everything in it).
final class TempDir {
    let path: String

    init() {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("shmbal-rel-\(getpid())-\(UUID().uuidString.prefix(8))").path
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

extension Amount {
    /// Test shorthand: `Amount("10000.5")`.
    init(_ text: String) { self = try! Amount(parsing: text) }
}

func bookKey(_ currency: String, _ exchange: String = "KRAKEN") -> BookKey { try! BookKey(exchange, currency) }

/// The directory holding the built products (shmbal, shmbal-campaign) next to the test bundle.
var productsDirectory: URL {
    for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
        return bundle.bundleURL.deletingLastPathComponent()
    }
    return Bundle.main.bundleURL
}

func productPath(_ name: String) -> String { productsDirectory.appendingPathComponent(name).path }

struct RunResult {
    var status: Int32
    var out: String
    var err: String
    /// Killed by a signal rather than exiting.
    var signalled: Bool
    var seconds: Double
}

/// Runs `executable` to completion (killing it after `timeout` seconds, which the caller then
/// sees as a signalled result) and returns its status and output.
@discardableResult
func runProcess(_ executable: String, _ args: [String], env: [String: String] = [:], timeout: Double = 120, cwd: String? = nil) throws -> RunResult {
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
    // Read both pipes concurrently so a chatty child never blocks on a full pipe.
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

/// Runs the built `shmbal` CLI.
@discardableResult
func shmbal(_ args: [String], env: [String: String] = [:], timeout: Double = 60) throws -> RunResult {
    try runProcess(productPath("shmbal"), args, env: env, timeout: timeout)
}

/// A process running in the background whose stdout lines can be awaited.
final class Background: @unchecked Sendable {
    let process = Process()
    private let out = Pipe()
    private let lock = NSLock()
    nonisolated(unsafe) private var buffer = ""

    init(_ executable: String, _ args: [String], env: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = args
        var environment = ProcessInfo.processInfo.environment
        environment["SWIFT_BACKTRACE"] = "enable=no"
        for (k, v) in env { environment[k] = v }
        process.environment = environment
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        out.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            guard let self, !d.isEmpty else { return }
            self.lock.lock()
            self.buffer += String(decoding: d, as: UTF8.self)
            self.lock.unlock()
        }
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }

    var output: String {
        lock.lock()
        defer { lock.unlock() }
        return buffer
    }

    /// Polls (with a deadline, never a fixed sleep) until the output contains `text`.
    func waitFor(_ text: String, seconds: Double = 30) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if output.contains(text) { return true }
            usleep(2_000)
        }
        return output.contains(text)
    }

    /// Waits for the process to end by itself (bounded), else kills it.
    func finish(seconds: Double = 30) {
        let end = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < end { usleep(2_000) }
        stop()
    }

    func stop() {
        if process.isRunning {
            kill(pid, SIGCONT)
            kill(pid, SIGKILL)
        }
        process.waitUntilExit()
        out.fileHandleForReading.readabilityHandler = nil
    }

    deinit { stop() }
}
