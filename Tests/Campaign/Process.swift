import Glibc

// Spawning, signalling and reaping the campaign's processes, with Glibc only (no Foundation:
// every writer incarnation starts fast).

enum Proc {
    /// This executable, so every role runs the same build.
    static var selfPath: String {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        precondition(n > 0, "cannot read /proc/self/exe")
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Starts `path` with `args` (argv[0] included) and the current environment plus `extraEnv`.
    static func spawn(_ path: String, _ args: [String], extraEnv: [String] = [], stdoutFd: Int32? = nil) -> pid_t {
        var env: [String] = []
        var p = environ
        while let e = p.pointee {
            env.append(String(cString: e))
            p += 1
        }
        env += extraEnv
        let cArgs = args.map { strdup($0) } + [nil]
        let cEnv = env.map { strdup($0) } + [nil]
        defer {
            cArgs.forEach { free($0) }
            cEnv.forEach { free($0) }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let fd = stdoutFd { posix_spawn_file_actions_adddup2(&actions, fd, 1) }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, nil, cArgs, cEnv)
        precondition(rc == 0, "posix_spawn \(path) failed: errno \(rc)")
        return pid
    }

    /// Waits for `pid`; returns (exited normally, exit status or signal number).
    @discardableResult
    static func wait(_ pid: pid_t) -> (exited: Bool, code: Int32) {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return (false, -1) }
        }
        let sig = status & 0x7f
        return sig == 0 ? (true, (status >> 8) & 0xff) : (false, sig)
    }

    /// Non-blocking reap: nil while `pid` still runs.
    static func tryWait(_ pid: pid_t) -> (exited: Bool, code: Int32)? {
        var status: Int32 = 0
        let r = waitpid(pid, &status, WNOHANG)
        if r == 0 { return nil }
        if r < 0 { return (false, -1) }
        let sig = status & 0x7f
        return sig == 0 ? (true, (status >> 8) & 0xff) : (false, sig)
    }
}

/// CLOCK_MONOTONIC in nanoseconds.
func monotonicNs() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

/// Appends one line with a single write(2): a line that returned is on file even if the
/// process is SIGKILLed right after.
func appendLine(_ fd: Int32, _ line: String) {
    var text = line
    text += "\n"
    text.withUTF8 { buf in
        var off = 0
        while off < buf.count {
            let n = write(fd, buf.baseAddress! + off, buf.count - off)
            if n < 0 && errno == EINTR { continue }
            precondition(n > 0, "log write failed: errno \(errno)")
            off += n
        }
    }
}

func printErr(_ line: String) {
    let text = line + "\n"
    _ = text.withCString { write(2, $0, strlen($0)) }
}

func printOut(_ line: String) {
    let text = line + "\n"
    _ = text.withCString { write(1, $0, strlen($0)) }
}

func fail(_ message: String) -> Never {
    printErr("shmbal-campaign: \(message)")
    exit(2)
}
