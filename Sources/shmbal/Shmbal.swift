import ArgumentParser
import ShmBalance

/// The `shmbal` root command: one executable, a subcommand per operation.
struct Shmbal: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shmbal",
        abstract: "Exact strategy-balance books in shared memory: one account's money split among strategy processes.",
        discussion: """
            Amounts are exact decimal text (-1000, 0.1, 10000.00): no exponents, no separators, at most 18 decimals.
            The segment is --segment PATH, else $SHMBAL_SEGMENT, else /dev/shm/shmbal.
            The exchange is --exchange NAME, else $SHMBAL_EXCHANGE, else the config's default_exchange,
            else the only exchange in the segment.

            EXIT CODES
              0  success
              1  internal error
              2  bad input: a malformed amount, name, index or argument
              3  refused by the rules (e.g. allocate beyond the headroom); nothing changed
              4  unusable segment or config (missing, corrupt, other version, read-only, bad config line)
              5  record busy: its lock was not released within the timeout ($SHMBAL_LOCK_TIMEOUT_MS, default 1000)
              6  check found broken books (identity or headroom)
            """,
        subcommands: [
            Init.self, Reset.self, SetSlot.self, Adjust.self, Allocate.self, Release.self,
            Get.self, Balance.self, List.self, Reconcile.self, Check.self,
            Credit.self, Strategies.self, Name.self,
            Hold.self, Fill.self, VoidHold.self, Receive.self, Holds.self,
            Quote.self, Config.self, Log.self,
            SnapshotCommand.self,
            Top.self, Demo.self,
            Metrics.self, Watch.self,
            LedgerForward.self, AgentForward.self,
        ]
    )

    @OptionGroup var global: GlobalOptions
}

/// `--segment` and `--exchange`, accepted before or after the subcommand.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Segment file (default: $SHMBAL_SEGMENT, else /dev/shm/shmbal).", valueName: "path"))
    var segment: String?

    @Option(name: .long, help: ArgumentHelp("Exchange (default: $SHMBAL_EXCHANGE, the config's default_exchange, or the only one in the segment).", valueName: "name"))
    var exchange: String?

    /// The segment path and the exchange asked for, both checked; no segment is touched. An empty
    /// or blank `--segment` is bad input (exit 2), never the default; so is a malformed exchange.
    func target() throws -> Target {
        let path: String
        do { path = try Segment.resolvePath(segment) } catch { throw CLIError(.segment(error)) }
        let named = try (exchange ?? environment("SHMBAL_EXCHANGE")).map { try CLIError.name($0) }
        return Target(path: path, exchange: named)
    }

    /// The segment's path, checked (for the commands that create a segment themselves).
    func segmentPath() throws -> String { try target().path }

    /// Checks the global options, then opens the books; a missing segment is created (default
    /// capacities, mode 0600) only when `access` says so. For commands that are not a
    /// `BooksCommand`; they must check their own input before calling it.
    func books(_ access: Segment.AccessMode) throws -> Books { try target().open(access) }

    /// The exchange to use: explicit, environment, the config's default, else the only one in the segment.
    func resolveExchange(_ books: Books) throws -> ShortName { try target().exchange(in: books) }

    func key(_ books: Books, _ currency: String) throws -> BookKey {
        BookKey(exchange: try resolveExchange(books), currency: try CLIError.name(currency))
    }
}

/// Where a command acts: the segment's path and the exchange named on the command line or in
/// the environment, both checked before any segment is opened.
struct Target {
    var path: String
    /// `--exchange` or `$SHMBAL_EXCHANGE`, when one is given.
    var exchange: ShortName?

    func open(_ access: Segment.AccessMode) throws -> Books {
        do { return try Books.open(path, access) } catch { throw CLIError(error) }
    }

    /// The exchange named, else the config's default, else the only one in the segment.
    func exchange(in books: Books) throws -> ShortName {
        if let exchange { return exchange }
        if let d = try core({ () throws(BooksError) in try books.defaultExchange }) { return d }
        let all = books.exchanges()
        if all.count == 1 { return all[0] }
        if all.isEmpty {
            throw CLIError(.badInput, "which exchange? pass --exchange NAME (the segment has no records and no default_exchange is configured)")
        }
        throw CLIError(.badInput, "which exchange? the segment has \(all.map(\.description).joined(separator: ", ")); pass --exchange NAME")
    }

    func key(_ books: Books, _ currency: ShortName) throws -> BookKey {
        BookKey(exchange: try exchange(in: books), currency: currency)
    }
}

/// What a command does once the segment is open; it captures the command's input, already checked.
typealias Work = (Books, Target) throws -> Void

/// A command that opens the books. Its `run()` is this one: it checks the global options and
/// the command's own input (`prepare()`) first, and only then opens the segment and does the
/// work. No command can therefore touch a segment, let alone create one, before all of its
/// input is known to be good (SPEC §4: "a command that fails on bad input creates no segment
/// file"); bad input is exit 2 whether or not a segment exists.
protocol BooksCommand: ParsableCommand {
    var global: GlobalOptions { get }
    /// How the segment is opened (read-only, read-write, or creating it when missing).
    var access: Segment.AccessMode { get }
    /// Parses and checks every argument and option; returns the work to do on the books.
    /// Must not open a segment.
    func prepare() throws -> Work
    /// Opens the books (the dashboard overrides it to fall back to read-only).
    func open(_ target: Target) throws -> Books
}

extension BooksCommand {
    func open(_ target: Target) throws -> Books { try target.open(access) }

    func run() throws {
        let target = try global.target()
        let work = try prepare()
        try work(try open(target), target)
    }
}
