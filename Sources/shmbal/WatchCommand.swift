import ArgumentParser
import Glibc
import ShmBalance
import ShmBalanceJSON
import ShmBalanceDashboard

// `watch [--interval S] [--json] [--exec CMD]`: a line per record when its health changes, for
// desks without Prometheus. Health is the dashboard's (`health(_:)`): broken, warning, healthy.

struct Watch: BooksCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a line whenever a record turns broken, warning or healthy (the dashboard's colours).",
        discussion: """
            Polls the books every --interval seconds. Each record's state is printed once when first seen (at start, or \
            when the record is created), then only when it changes. Broken: identity or headroom below 0 (or any \
            problem `check` finds); warning: headroom under 10% of the total. A state that comes and goes within one \
            interval may be missed. --exec runs CMD with /bin/sh -c for each change, the change's JSON object on its \
            stdin, one at a time (watch waits for it). When the segment file is removed, replaced or truncated, it \
            says so and ends with exit 4.
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: ArgumentHelp("Seconds between two looks at the books (0.01…3600).", valueName: "seconds")) var interval = "1"
    @Flag(help: "One JSON object per line.") var json = false
    @Option(help: ArgumentHelp("Run this shell command for each change, its JSON object on stdin.", valueName: "command")) var exec: String?

    var access: Segment.AccessMode { .readOnly }

    func prepare() throws -> Work {
        guard let seconds = Double(interval), seconds.isFinite, seconds >= 0.01, seconds <= 3600 else {
            throw CLIError(.badInput, "--interval '\(interval)' must be a number of seconds from 0.01 to 3600")
        }
        if let exec, exec.allSatisfy(\.isWhitespace) { throw CLIError(.badInput, "--exec needs a command") }
        return { books, target in
            // A hook that exits without reading its stdin must not end the watch with SIGPIPE.
            signal(SIGPIPE, SIG_IGN)
            var watch = HealthWatch()
            while true {
                // Same stop as `log --follow`: a file that went will never change again.
                if let gone = books.segment.fileError { fflush(nil); throw CLIError(.segment(gone)) }
                var records = try core { () throws(BooksError) in try books.allRecords() }
                if let only = target.exchange { records = records.filter { $0.key.exchange == only } }
                for change in watch.changes(records, nowMicros: wallMicros()) {
                    let object = change.json.text
                    print(json ? object : change.line)
                    fflush(nil)
                    if let exec { runHook(exec, stdin: object + "\n") }
                }
                var pause = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - seconds.rounded(.down)) * 1e9))
                nanosleep(&pause, nil)
            }
        }
    }
}

/// Edge detection over successive reads of the books: what changed since the last call.
struct HealthWatch {
    private var last: [BookKey: Health] = [:]

    struct Change {
        var record: BalanceRecord
        var state: Health
        /// nil the first time the record is seen.
        var previous: Health?
        var nowMicros: Int64

        var reasons: [String] {
            switch state {
            case .broken: return record.problems.map(\.description)
            case .warning: return ["headroom \(record.headroom) is under 10% of the total \(record.state.total)"]
            case .healthy: return []
            }
        }

        var line: String {
            let was = previous.map { "was \($0.rawValue)" } ?? "first seen"
            let why = reasons.isEmpty ? "" : ": " + reasons.joined(separator: "; ")
            return "\(clockText(micros: nowMicros, date: true))  \(record.key)  \(state.rawValue) (\(was))\(why)"
        }

        var json: JSON {
            let s = record.state
            return .object([
                ("timeMicros", .int(nowMicros)), ("exchange", .string(record.key.exchange.description)),
                ("currency", .string(record.key.currency.description)), ("state", .string(state.rawValue)),
                ("previous", previous.map { .string($0.rawValue) } ?? .null), ("reasons", .array(reasons.map { .string($0) })),
                ("total", .amount(s.total)), ("pool", .amount(s.pool)), ("creditLimit", .amount(s.creditLimit)),
                ("headroom", .amount(s.headroom)), ("identityHolds", .bool(record.identityHolds)), ("epoch", .int(Int64(bitPattern: s.epoch))),
            ])
        }
    }

    mutating func changes(_ records: [BalanceRecord], nowMicros: Int64) -> [Change] {
        var out: [Change] = []
        for r in records {
            let state = health(r)
            let previous = last.updateValue(state, forKey: r.key)
            if previous != state { out.append(Change(record: r, state: state, previous: previous, nowMicros: nowMicros)) }
        }
        return out
    }
}

func wallMicros() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
}

/// Runs `/bin/sh -c command` with `stdin` as its standard input and waits for it; a failure is
/// one line on stderr and the watch goes on.
func runHook(_ command: String, stdin text: String) {
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { printError("shmbal watch: --exec: pipe failed (errno \(errno))"); return }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, fds[0], 0)
    posix_spawn_file_actions_addclose(&actions, fds[1])
    // The hook gets SIGPIPE's default back (watch ignores it).
    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    var defaults = sigset_t()
    sigemptyset(&defaults)
    sigaddset(&defaults, SIGPIPE)
    posix_spawnattr_setsigdefault(&attr, &defaults)
    posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGDEF))
    let words: [String] = ["/bin/sh", "-c", command]
    var argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
    defer { for a in argv { free(a) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, "/bin/sh", &actions, &attr, &argv, environ)
    close(fds[0])
    guard rc == 0 else {
        close(fds[1])
        printError("shmbal watch: --exec: cannot start /bin/sh: \(String(cString: strerror(rc)))")
        return
    }
    text.withCString { p in
        var left = strlen(p), at = 0
        while left > 0 {
            let n = write(fds[1], p + at, left)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }  // the hook closed its stdin early: that is its business
            left -= n
            at += n
        }
    }
    close(fds[1])
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    if status & 0x7f != 0 {
        printError("shmbal watch: --exec command was killed by signal \(status & 0x7f)")
    } else if (status >> 8) & 0xff != 0 {
        printError("shmbal watch: --exec command exited with status \((status >> 8) & 0xff)")
    }
}
