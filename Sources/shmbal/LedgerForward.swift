import ArgumentParser
import Glibc
import ShmBalance

// `shmbal ledger …` and `shmbal agent …` (SPEC §10) are `shmbal-ledger`, a program of its own
// that links the PostgreSQL client; `shmbal` never does, so neither the other commands nor the
// C library carry it. These two subcommands only find that program and exec it with the same
// arguments: next to this executable first (a build folder, an install prefix's bin/), then $PATH.

struct LedgerForward: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "The ledger of several hosts in PostgreSQL: init, reset, reconcile, credit, get, list, evict (runs shmbal-ledger).")
    @Argument(parsing: .captureForPassthrough, help: "The ledger command and its arguments (see 'shmbal ledger --help').") var rest: [String] = []
    func run() throws { try forwardToLedger("ledger", rest) }
}

struct AgentForward: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Keep this host's books supplied from the ledger (runs shmbal-ledger agent).")
    @Argument(parsing: .captureForPassthrough, help: "--host NAME --config FILE [--segment PATH] [--db URL] … (see 'shmbal agent --help').") var rest: [String] = []
    func run() throws { try forwardToLedger("agent", rest) }
}

/// Replaces this process with `shmbal-ledger COMMAND ARGS…`; returns only by throwing.
func forwardToLedger(_ command: String, _ args: [String]) throws {
    var candidates: [String] = []
    var buf = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buf, buf.count - 1)
    if n > 0 {
        let exe = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if let slash = exe.lastIndex(of: "/") { candidates.append(String(exe[..<slash]) + "/shmbal-ledger") }
    }
    for dir in (getenv("PATH").map { String(cString: $0) } ?? "").split(separator: ":") where !dir.isEmpty {
        candidates.append(dir + "/shmbal-ledger")
    }
    guard let program = candidates.first(where: { access($0, X_OK) == 0 }) else {
        throw CLIError(.unusable, "shmbal \(command) needs shmbal-ledger, which is neither next to shmbal nor on PATH (build it with swift build --product shmbal-ledger, and put it beside shmbal or on PATH)")
    }
    let argv = [program, command] + args
    var cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) }
    cargs.append(nil)
    execv(program, cargs)
    throw CLIError(.unusable, "cannot run \(program): \(String(cString: strerror(errno)))")
}
