import ArgumentParser
import Glibc
import ShmBalance
import ShmBalanceConfig
import ShmBalanceLedger

struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "agent",
        abstract: "Keep this host's books supplied from the ledger: lease chunks under lease_low, return the excess over lease_high, report fills and receipts.")
    @Option(help: "This host's name in the ledger (1–63 letters, digits, '-', '.', '_').") var host: String
    @Option(help: ArgumentHelp("Segment file (default: $SHMBAL_SEGMENT, else /dev/shm/shmbal).", valueName: "path")) var segment: String?
    @Option(help: ArgumentHelp("The ledger (default: $SHMBAL_DB).", valueName: "postgres://USER@HOST:PORT/DATABASE")) var db: String?
    @Option(help: ArgumentHelp("The config file whose [EXCHANGE.CURRENCY] tables give lease_low, lease_high and lease_chunk (and are applied to the segment first).", valueName: "file"))
    var config: String
    @Option(help: "The lease's time-to-live in seconds: past it without reaching the ledger the agent is fenced.") var ttl: Double = 10
    @Option(help: "Milliseconds between rounds.") var interval: Int = 200
    @Option(help: "Stop after this many rounds (default: run until stopped).") var rounds: Int?
    @Flag(help: "No line per transfer.") var quiet = false

    func run() async throws {
        try LedgerHost.check(host)
        guard ttl.isFinite, ttl >= 0.1, ttl <= 3600 else { throw LedgerError.badInput("--ttl: 0.1 to 3600 seconds") }
        guard (1...60_000).contains(interval) else { throw LedgerError.badInput("--interval: 1 to 60000 ms") }
        if let rounds, rounds < 1 { throw LedgerError.badInput("--rounds: 1 or more") }
        let url = try LedgerURL.resolve(db) { getenv($0).map { String(cString: $0) } }
        let file: ConfigFile
        do {
            file = try ConfigFile.load(path: config)
            try file.validate()
        } catch { throw LedgerError.badInput(error.description) }
        let path: String
        do { path = try Segment.resolvePath(segment) } catch { throw LedgerError.badInput(error.description) }
        let books: Books
        do { books = try Books.open(path, .readWriteCreating()) } catch { throw LedgerError.books(error.description) }
        let lock = try AgentLock(segment: path, host: host)
        // The config's counts and names first, so strategies find their slots (all or nothing).
        do { _ = try books.applyConfiguration(file.records, defaultExchange: file.defaultExchange) } catch { throw LedgerError.books("\(config): \(error)") }
        var options = Agent.Options(host: host, marks: file.leases)
        options.ttlMs = Int64(ttl * 1000)
        options.intervalMs = interval
        options.rounds = rounds
        options.verbose = !quiet
        // A round stuck in the driver: this process starts afresh as itself (the agent is
        // restartable anywhere), the ttl's clock carried over in the environment.
        options.lastContactMs = getenv(AgentCommand.lastContactVariable).flatMap { Int64(String(cString: $0)) }
        unsetenv(AgentCommand.lastContactVariable)
        options.onStuck = { AgentCommand.restart(lastContactMs: $0) }
        options.statusPath = AgentStatus.path(segment: path, host: host)
        let agent = try Agent(books: books, url: url, options: options)
        try await agent.run()
        withExtendedLifetime(lock) {}
    }
}

extension AgentCommand {
    static let lastContactVariable = "SHMBAL_AGENT_LAST_CONTACT_MS"

    /// execs this executable again with the same arguments; exits 4 (unreachable) if that fails.
    static func restart(lastContactMs: Int64) -> Never {
        setenv(lastContactVariable, String(lastContactMs), 1)
        let argv = CommandLine.arguments
        var cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) }
        cargs.append(nil)
        // The executable's own path (not /proc/self/exe), so the new image keeps its name in ps.
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        let path = n > 0 ? String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : "/proc/self/exe"
        execv(path, cargs)
        printError("shmbal: the agent could not restart itself: \(String(cString: strerror(errno)))")
        Glibc.exit(4)
    }
}

/// One agent per segment and host: a second one would lease in parallel (harmless to the money,
/// every step is idempotent, but it doubles the traffic and muddles the log). `flock` on a file
/// beside the segment; the kernel drops it when the agent dies, however it dies.
final class AgentLock {
    let fd: Int32
    init(segment: String, host: String) throws {
        let path = segment + ".agent-" + host + ".lock"
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw LedgerError.badInput("\(TerminalText.safe(path)): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw LedgerError.refused("another agent for host \(host) runs beside \(TerminalText.safe(segment)) (\(TerminalText.safe(path)) is locked)")
        }
    }
    deinit { close(fd) }
}
