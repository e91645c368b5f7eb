import Glibc

// The built executables (`shmbal`, `shmbal-worker`, `shmbal-campaign`, libshmbalance.so …) and
// running a program to completion with a deadline.

/// The path of the running executable (the test bundle, or a helper).
public let selfExecutablePath: String = {
    var buf = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buf, buf.count - 1)
    precondition(n > 0, "cannot read /proc/self/exe")
    return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}()

/// The folder holding the built products: the one the running test bundle or helper lives in
/// (SwiftPM puts every product of a build side by side).
public let productsPath: String = {
    let exe = selfExecutablePath
    guard let slash = exe.lastIndex(of: "/") else { return "." }
    return String(exe[..<slash])
}()

/// A built product by name (e.g. `shmbal`).
public func productPath(_ name: String) -> String { productsPath + "/" + name }

/// The executables the tests drive.
public enum Product {
    public static let shmbal = "shmbal"
    public static let worker = "shmbal-worker"
    public static let campaign = "shmbal-campaign"
}

/// What a program run to completion did.
public struct RunResult: Sendable {
    /// The exit code, or the signal number when `signalled`.
    public var status: Int32
    public var out: String
    public var err: String
    /// Killed by a signal rather than exiting (a child killed at its deadline too).
    public var signalled: Bool
    /// Informational (printed, never asserted on): how long it ran.
    public var seconds: Double
    /// Still running at its deadline, so it was killed.
    public var timedOut: Bool
    public var termination: Termination
}

/// Runs `executable` (a path, or a name on $PATH) to completion: its status and output. Output
/// goes through files in a private folder (no pipe can fill up and stall the child, and a daemon
/// the child leaves behind holding them cannot make the wait hang). A child still running after
/// `timeout` seconds is killed with its whole process group, which the caller sees as `timedOut`
/// (and `signalled`): a test never hangs on one.
@discardableResult
public func runProcess(_ executable: String, _ args: [String], env: [String: String] = [:], timeout: Double = 120,
                       cwd: String? = nil, unsetting: [String] = [], stdinPath: String? = nil) throws -> RunResult {
    let dir = TempDir("run")
    let start = monotonicNs()
    let child = try ChildProcess(executable, args, environment: env, unsetting: unsetting,
                                 stdin: stdinPath.map { ChildStream.file($0) } ?? .null,
                                 stdout: .file(dir.file("out")), stderr: .file(dir.file("err")), cwd: cwd)
    let (termination, timedOut) = child.finish(within: timeout)
    let seconds = Double(monotonicNs() - start) / 1e9
    return RunResult(status: termination.exitCode ?? termination.signal ?? -1, out: child.output, err: child.errorOutput,
                     signalled: termination.signal != nil, seconds: seconds, timedOut: timedOut, termination: termination)
}

/// Runs a built product (e.g. `shmbal`) to completion (see `runProcess`).
@discardableResult
public func runProduct(_ name: String, _ args: [String], env: [String: String] = [:], timeout: Double = 120, cwd: String? = nil) throws -> RunResult {
    try runProcess(productPath(name), args, env: env, timeout: timeout, cwd: cwd)
}

/// Whether this process runs under ThreadSanitizer or AddressSanitizer (`swift test --sanitize=…`).
/// Tests that do a fixed amount of work to provoke a race scale it down there: the sanitizer is
/// then the detector, and it makes every operation 5–20× slower.
public let runningUnderSanitizer: Bool = {
    let all = UnsafeMutableRawPointer(bitPattern: 0)
    return dlsym(all, "__tsan_init") != nil || dlsym(all, "__asan_init") != nil
}()
