import Foundation
import Synchronization
import ShmBalanceTestSupport
import XCTest

/// A real terminal for the end-to-end tests: a private tmux server (`tmux -L NAME`) running one
/// command in a detached session. Read the screen with `screen()`, type with `keys`/`type`;
/// `close()` (or deinit) kills the server.
final class TmuxSession {
    let server: String
    private var closed = false
    private static let counter = Atomic<Int>(0)

    /// Starts the built shmbal with `arguments` in a `width`×`height` terminal, with a UTF-8
    /// locale unless `env` says otherwise. A shell waits for it and then writes its exit status
    /// on the screen (`[shmbal exited: 0]`), which also shows the terminal works again; then it
    /// runs `afterExit` (shell text, e.g. `stty -a` to show the terminal's modes as shmbal left them).
    convenience init(_ arguments: [String], width: Int = 120, height: Int = 35, env: [String: String] = [:], afterExit: String = "") throws {
        try self.init(command: [shmbalPath] + arguments, width: width, height: height, env: env, afterExit: afterExit)
    }

    /// The same for any program (`command[0]`, a path): the hosts walkthrough, a script.
    init(command argv: [String], width: Int = 120, height: Int = 35, env: [String: String] = [:], afterExit: String = "") throws {
        let n = TmuxSession.counter.add(1, ordering: .relaxed).newValue
        server = "shmbal-dash-\(getpid())-\(n)"
        var environment = ["LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TERM": "tmux-256color", "TZ": "UTC", "SWIFT_BACKTRACE": "enable=no"]
        for (k, v) in env { environment[k] = v }
        let assignments = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\(shellQuote($0.value))" }.joined(separator: " ")
        let command = "env \(assignments) " + argv.map(shellQuote).joined(separator: " ")
        // The shell survives a Ctrl-C meant for shmbal (a trap runs `true`; shmbal starts with the
        // default action and installs its own handler), then reports and stays for capture-pane.
        // No core files from the signals a test sends.
        let after = afterExit.isEmpty ? "" : "\(afterExit); echo '[after exit done]'; "
        let script = "ulimit -c 0; trap true INT; \(command); echo \"[shmbal exited: $?]\"; \(after)exec sleep 600"
        try tmux(["-f", "/dev/null", "new-session", "-d", "-x", "\(width)", "-y", "\(height)", "sh", "-c", script])
    }

    deinit { close() }

    /// Kills the server and removes its socket file (tmux leaves it behind).
    func close() {
        guard !closed else { return }
        closed = true
        let socket = display("#{socket_path}")
        _ = try? tmux(["kill-server"], check: false)
        if socket.hasSuffix("/" + server) { unlink(socket) }
    }

    /// Runs a tmux command against this server; returns its stdout.
    @discardableResult
    func tmux(_ args: [String], check: Bool = true) throws -> String {
        let r = try spawnAndWait(["tmux", "-L", server] + args)
        if check && r.status != 0 {
            throw NSError(domain: "tmux", code: Int(r.status),
                          userInfo: [NSLocalizedDescriptionKey: "tmux \(args.joined(separator: " ")) failed (\(r.status)): \(r.err)"])
        }
        return r.out
    }

    /// The screen as text.
    func screen() -> String { (try? tmux(["capture-pane", "-p"], check: false)) ?? "" }

    /// The screen and everything scrolled off it.
    func history() -> String { (try? tmux(["capture-pane", "-p", "-S", "-"], check: false)) ?? "" }

    /// Keys by tmux name (`Enter`, `Escape`, `Left`, `C-c`, or a single character).
    func keys(_ names: String...) throws { try tmux(["send-keys"] + names) }

    /// Types `text` literally.
    func type(_ text: String) throws { try tmux(["send-keys", "-l", text]) }

    func display(_ format: String) -> String {
        ((try? tmux(["display-message", "-p", format], check: false)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// shmbal's exit status, once the shell has written it on the screen.
    var exitStatus: Int32? {
        guard let r = screen().range(of: "[shmbal exited: ") else { return nil }
        let rest = screen()[r.upperBound...]
        return Int32(rest.prefix { $0.isNumber })
    }

    /// shmbal's pid: the child of the pane's shell.
    var pid: Int32? {
        guard let shell = Int32(display("#{pane_pid}")) else { return nil }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for name in entries {
            guard let pid = Int32(name), let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
                  let close = stat.range(of: ") ", options: .backwards) else { continue }
            let fields = stat[close.upperBound...].split(separator: " ")
            if fields.count > 1, Int32(fields[1]) == shell, stat.contains("(shmbal)") { return pid }
        }
        return nil
    }

    /// Waits until the screen contains every one of `texts`; returns the screen (fails the test on timeout).
    @discardableResult
    func waitFor(_ texts: String..., within seconds: Double = 10, file: StaticString = #filePath, line: UInt = #line) -> String {
        var last = ""
        eventually("\(texts) on the screen; it shows:\n\(last)", within: seconds, file: file, line: line) {
            last = screen()
            return texts.allSatisfy { last.contains($0) }
        }
        return last
    }

    /// Waits until the command has exited; returns its status.
    func waitForExit(within seconds: Double = 10, file: StaticString = #filePath, line: UInt = #line) -> Int32? {
        var status: Int32?
        eventually("shmbal to exit; the screen shows:\n\(screen())", within: seconds, file: file, line: line) {
            status = exitStatus
            return status != nil
        }
        return status
    }
}

func shellQuote(_ s: String) -> String {
    "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// Runs a program (found on $PATH) to its exit with posix_spawnp and waitpid; its output goes through files.
///
/// Not Foundation's `Process`: `tmux new-session` leaves a server behind that inherits the
/// child's descriptors, and `Process` (which watches a descriptor to learn that the child
/// ended) then waits for the server instead of the client.
func spawnAndWait(_ argv: [String]) throws -> (status: Int32, out: String, err: String) {
    let base = NSTemporaryDirectory() + "shmbal-dash-spawn-\(getpid())-\(UUID().uuidString)"
    defer {
        unlink(base + ".out")
        unlink(base + ".err")
    }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, base + ".out", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, base + ".err", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    var environment = ProcessInfo.processInfo.environment
    environment["LANG"] = "C.UTF-8"
    environment["LC_ALL"] = "C.UTF-8"
    environment.removeValue(forKey: "TMUX")
    let cArgs = argv.map { strdup($0) } + [nil]
    let cEnv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
        cArgs.forEach { free($0) }
        cEnv.forEach { free($0) }
    }
    var pid = pid_t()
    let rc = posix_spawnp(&pid, argv[0], &actions, nil, cArgs, cEnv)
    guard rc == 0 else {
        throw NSError(domain: "spawn", code: Int(rc), userInfo: [NSLocalizedDescriptionKey: "cannot run \(argv[0]): errno \(rc)"])
    }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    let exited = status & 0x7F == 0
    let code = exited ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    let out = (try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? ""
    let err = (try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? ""
    return (code, out, err)
}
