import CPeers
import Glibc

// Child processes of the benchmark (contending writers, readers), spawned from this same
// executable with posix_spawn, their stdout sent to a file the parent reads afterwards.

struct Child {
    let pid: pid_t
    let outputPath: String

    /// Runs `executable args…` (by default this benchmark again) with stdout to a temporary file.
    static func spawn(_ args: [String], executable: String = "/proc/self/exe") throws -> Child {
        let out = "/tmp/shmbal-bench-\(getpid())-\(counter.next()).out"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let exe = executable
        var argv: [UnsafeMutablePointer<CChar>?] = ([exe] + args).map { strdup($0) }
        argv.append(nil)
        defer { for a in argv { free(a) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, exe, &actions, nil, argv, bench_environ())
        guard rc == 0 else { throw BenchError("posix_spawn failed: errno \(rc)") }
        return Child(pid: pid, outputPath: out)
    }

    /// Waits for the child to exit and returns its stdout (throws unless it exited with 0).
    func finish() throws -> String {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = readFile(outputPath) ?? ""
        unlink(outputPath)
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            throw BenchError("child \(pid) failed (status \(status)): \(text)")
        }
        return text
    }

    /// Stops the child and waits until it is stopped.
    func stop() {
        kill(pid, SIGSTOP)
        var status: Int32 = 0
        while waitpid(pid, &status, WUNTRACED) < 0 && errno == EINTR {}
    }

    func resume() { kill(pid, SIGCONT) }

    /// Ends a child that loops until told (SIGTERM), and reaps it.
    func terminate() -> String {
        kill(pid, SIGTERM)
        kill(pid, SIGCONT)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = readFile(outputPath) ?? ""
        unlink(outputPath)
        return text
    }

    final class Counter: @unchecked Sendable {
        private var n = 0
        func next() -> Int { n += 1; return n }
    }
    static let counter = Counter()
}

func readFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = read(fd, &buf, buf.count)
        if n <= 0 { break }
        bytes += buf[0..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
}

func writeFile(_ path: String, _ text: String) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else { throw BenchError("\(path): cannot write (errno \(errno))") }
    defer { close(fd) }
    let bytes = Array(text.utf8)
    var off = 0
    while off < bytes.count {
        let n = bytes[off...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { throw BenchError("\(path): write failed (errno \(errno))") }
        off += n
    }
}

/// A word in a small shared file: how a flat-out reader reports its progress without a pipe.
struct SharedCounter {
    let path: String
    let p: UnsafeMutablePointer<UInt64>

    init(path: String, create: Bool) throws {
        self.path = path
        let fd = open(path, create ? O_RDWR | O_CREAT | O_TRUNC : O_RDWR, 0o600)
        guard fd >= 0 else { throw BenchError("\(path): open failed") }
        defer { close(fd) }
        if create { ftruncate(fd, 4096) }
        guard let m = mmap(nil, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), m != MAP_FAILED else {
            throw BenchError("\(path): mmap failed")
        }
        p = m.assumingMemoryBound(to: UInt64.self)
    }

    var value: UInt64 { bench_load(p) }
    func store(_ v: UInt64) { bench_store(p, v) }
}

/// Writes a line to stderr (Swift 6 cannot touch the C global `stderr`).
func printError(_ s: String) {
    let bytes = Array((s + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}
