import Foundation
import ShmBalance
import ShmBalanceTestSupport
import XCTest

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
