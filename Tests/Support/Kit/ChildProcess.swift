import Glibc
import Synchronization

// Child processes for tests and their helpers, with posix_spawn and waitpid only (no Foundation,
// so a helper executable that uses this starts in a few milliseconds). Every wait has a deadline;
// a child still running at its deadline, or when its handle goes away, is killed and reaped.

/// How a child process ended.
public enum Termination: Sendable, Equatable, CustomStringConvertible {
    case exited(Int32)
    case signalled(Int32)

    /// Decodes a `waitpid` status (the WIFEXITED/WTERMSIG macros are not imported into Swift).
    public init(waitStatus status: Int32) {
        let signal = status & 0x7F
        self = signal == 0 ? .exited((status >> 8) & 0xFF) : .signalled(signal)
    }

    public var exitCode: Int32? {
        if case .exited(let c) = self { return c }
        return nil
    }

    public var signal: Int32? {
        if case .signalled(let s) = self { return s }
        return nil
    }

    public var description: String {
        switch self {
        case .exited(let c): return "exit \(c)"
        case .signalled(let s): return "signal \(s)\(s == SIGKILL ? " (SIGKILL)" : s == SIGSEGV ? " (SIGSEGV)" : s == SIGILL ? " (SIGILL)" : s == SIGTRAP ? " (SIGTRAP)" : s == SIGABRT ? " (SIGABRT)" : "")"
        }
    }
}

/// Where a child's standard input, output or error goes.
public enum ChildStream: Sendable, Equatable {
    /// The parent's own descriptor.
    case inherit
    /// /dev/null.
    case null
    /// A file: for standard input read from, for output created (mode 0600) or truncated.
    case file(String)
    /// A file, appended to.
    case appending(String)
    /// A descriptor of the parent.
    case descriptor(Int32)
}

/// A child that could not be started.
public struct SpawnError: Error, Sendable, CustomStringConvertible {
    public var executable: String
    public var errno: Int32
    public var description: String { "cannot start \(executable): \(String(cString: strerror(errno))) (errno \(errno))" }
}

/// The environment a child gets: this process's, with `overrides` set (an empty value sets the
/// variable to empty) and `unsetting` removed. `SWIFT_BACKTRACE=enable=no` unless overridden: a
/// child a test kills must not spend seconds printing a backtrace (and one that crashes on its own
/// is reported by its exit, the test's message saying what it was doing).
public func childEnvironment(_ overrides: [String: String], unsetting: [String] = []) -> [String] {
    var env: [String: String] = [:]
    var p = environ
    while let e = p.pointee {
        let entry = String(cString: e)
        if let eq = entry.firstIndex(of: "=") { env[String(entry[..<eq])] = String(entry[entry.index(after: eq)...]) }
        p += 1
    }
    env["SWIFT_BACKTRACE"] = "enable=no"
    for (k, v) in overrides { env[k] = v }
    for k in unsetting { env.removeValue(forKey: k) }
    return env.map { "\($0.key)=\($0.value)" }
}

/// Starts `executable` (a path, or a bare name looked up on $PATH) with `arguments` (not including
/// argv[0], which is `argv0` or the executable). With `ownProcessGroup` the child leads a new
/// process group, so `ChildProcess.kill` ends whatever it started too.
public func spawnProcess(_ executable: String, _ arguments: [String], argv0: String? = nil, environment: [String: String] = [:],
                         unsetting: [String] = [], stdin: ChildStream = .null, stdout: ChildStream = .inherit,
                         stderr: ChildStream = .inherit, cwd: String? = nil, ownProcessGroup: Bool = false) throws(SpawnError) -> pid_t {
    let argv = [argv0 ?? executable] + arguments
    let cArgs = argv.map { strdup($0) } + [nil]
    let cEnv = childEnvironment(environment, unsetting: unsetting).map { strdup($0) } + [nil]
    defer {
        cArgs.forEach { free($0) }
        cEnv.forEach { free($0) }
    }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    if let cwd {
        guard let addchdir = addChdirAction else { throw SpawnError(executable: executable, errno: ENOSYS) }
        let rc = cwd.withCString { addchdir(&actions, $0) }
        guard rc == 0 else { throw SpawnError(executable: executable, errno: rc) }
    }
    for (fd, stream) in [(Int32(0), stdin), (1, stdout), (2, stderr)] {
        switch stream {
        case .inherit: break
        case .null: posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
        case .file(let path) where fd == 0: posix_spawn_file_actions_addopen(&actions, fd, path, O_RDONLY, 0)
        case .file(let path): posix_spawn_file_actions_addopen(&actions, fd, path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        case .appending(let path): posix_spawn_file_actions_addopen(&actions, fd, path, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        case .descriptor(let source): posix_spawn_file_actions_adddup2(&actions, source, fd)
        }
    }
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    if ownProcessGroup {
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
    }
    var pid: pid_t = 0
    let rc = executable.contains("/")
        ? posix_spawn(&pid, executable, &actions, &attributes, cArgs, cEnv)
        : posix_spawnp(&pid, executable, &actions, &attributes, cArgs, cEnv)
    guard rc == 0 else { throw SpawnError(executable: executable, errno: rc) }
    return pid
}

/// `posix_spawn_file_actions_addchdir_np` (glibc ≥ 2.29) sits behind _GNU_SOURCE, which Swift's
/// Glibc module does not define: found at run time instead.
private typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
private let addChdirAction: AddChdir? = {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np") else { return nil }
    return unsafeBitCast(symbol, to: AddChdir.self)
}()

/// Reaps `pid`: its termination, or nil while it runs (`blocking: false`). EINTR is retried.
public func reapProcess(_ pid: pid_t, blocking: Bool) -> Termination? {
    var status: Int32 = 0
    while true {
        let r = waitpid(pid, &status, blocking ? 0 : WNOHANG)
        if r == pid { return Termination(waitStatus: status) }
        if r == 0 { return nil }
        if errno == EINTR { continue }
        // ECHILD: not our child, or reaped elsewhere. Report it as gone rather than wait forever.
        return .exited(-1)
    }
}

/// A running child process. It is killed (SIGCONT then SIGKILL, its process group too when it
/// leads one) and reaped when this handle is deinitialised, so a failing test leaves none behind.
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    public let executable: String
    public let leadsProcessGroup: Bool
    /// Where its standard output and error go, when they go to a file (`output`, `errorOutput`).
    public let stdoutPath: String?
    public let stderrPath: String?
    private let ended = Mutex<Termination?>(nil)

    public init(_ executable: String, _ arguments: [String], argv0: String? = nil, environment: [String: String] = [:],
                unsetting: [String] = [], stdin: ChildStream = .null, stdout: ChildStream = .inherit, stderr: ChildStream = .inherit,
                cwd: String? = nil, ownProcessGroup: Bool = true) throws(SpawnError) {
        self.executable = executable
        self.leadsProcessGroup = ownProcessGroup
        func path(_ s: ChildStream) -> String? {
            switch s {
            case .file(let p), .appending(let p): return p
            default: return nil
            }
        }
        stdoutPath = path(stdout)
        stderrPath = path(stderr)
        pid = try spawnProcess(executable, arguments, argv0: argv0, environment: environment, unsetting: unsetting, stdin: stdin,
                               stdout: stdout, stderr: stderr, cwd: cwd, ownProcessGroup: ownProcessGroup)
    }

    deinit { kill() }

    /// How it ended, or nil while it runs (never blocks).
    public var termination: Termination? {
        ended.withLock { t in
            if t == nil { t = reapProcess(pid, blocking: false) }
            return t
        }
    }

    public var isRunning: Bool { termination == nil }

    /// Waits until it ends or `seconds` pass: its termination, or nil if it is still running.
    @discardableResult
    public func wait(timeout seconds: Double) -> Termination? {
        var t: Termination?
        poll(within: seconds, maxIntervalMicroseconds: 2_000) {
            t = termination
            return t != nil
        }
        return t
    }

    /// Waits until it ends, or kills it after `seconds`: how it ended, and whether it had to be killed.
    @discardableResult
    public func finish(within seconds: Double) -> (termination: Termination, timedOut: Bool) {
        if let t = wait(timeout: seconds) { return (t, false) }
        return (kill(), true)
    }

    /// Sends `signal` to it (a no-op once it has been reaped).
    public func signal(_ signal: Int32) {
        guard termination == nil else { return }
        _ = Glibc.kill(pid, signal)
    }

    /// Kills it (and its process group, when it leads one) and reaps it; how it ended.
    @discardableResult
    public func kill() -> Termination {
        ended.withLock { t in
            if let t { return t }
            if let done = reapProcess(pid, blocking: false) {
                t = done
                // A group it led may still hold children of its own.
                if leadsProcessGroup { _ = Glibc.kill(-pid, SIGKILL) }
                return done
            }
            let target = leadsProcessGroup ? -pid : pid
            _ = Glibc.kill(target, SIGCONT)
            _ = Glibc.kill(target, SIGKILL)
            let done = reapProcess(pid, blocking: true) ?? .exited(-1)
            t = done
            return done
        }
    }

    /// Its standard output so far (it must go to a file).
    public var output: String { stdoutPath.flatMap { readTextFile($0) } ?? "" }
    public var errorOutput: String { stderrPath.flatMap { readTextFile($0) } ?? "" }

    /// Polls its output until it contains `text`: true then; false when `seconds` pass or it ends without it.
    public func waitForOutput(_ text: String, within seconds: Double = 30) -> Bool {
        var found = false
        poll(within: seconds) {
            found = output.contains(text)
            return found || termination != nil
        }
        return found || output.contains(text)
    }
}
