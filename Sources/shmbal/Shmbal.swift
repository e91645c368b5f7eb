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
            Quote.self, Config.self, Log.self,
            SnapshotCommand.self,
            Top.self, Demo.self,
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

    /// The segment's path; an empty or blank `--segment` is bad input (exit 2), never the default.
    func segmentPath() throws -> String {
        do { return try Segment.resolvePath(segment) } catch { throw CLIError(.segment(error)) }
    }

    /// Opens the books; a missing segment is created (default capacities, mode 0600) only when `creating`.
    func books(_ access: Segment.AccessMode) throws -> Books {
        do { return try Books.open(segment, access) } catch { throw CLIError(error) }
    }

    /// The exchange to use: explicit, environment, the config's default, else the only one in the segment.
    func resolveExchange(_ books: Books) throws -> ShortName {
        if let e = exchange ?? environment("SHMBAL_EXCHANGE") { return try CLIError.name(e) }
        if let d = try core({ () throws(BooksError) in try books.defaultExchange }) { return d }
        let all = books.exchanges()
        if all.count == 1 { return all[0] }
        if all.isEmpty {
            throw CLIError(.badInput, "which exchange? pass --exchange NAME (the segment has no records and no default_exchange is configured)")
        }
        throw CLIError(.badInput, "which exchange? the segment has \(all.map(\.description).joined(separator: ", ")); pass --exchange NAME")
    }

    /// The shape of every command that changes one record by one amount: parse the amount
    /// (a bare negative too), open the books, resolve the key, apply, print the record as it is now.
    func change(_ currency: String, _ rest: [String], what: String, access: Segment.AccessMode = .readWrite,
                _ body: (Books, BookKey, Amount) throws(BooksError) -> Void) throws {
        let amount = try singleAmount(rest, what: what)
        let books = try books(access)
        let key = try key(books, currency)
        try core { () throws(BooksError) in try body(books, key, amount) }
        try printSummary(books, key)
    }

    func key(_ books: Books, _ currency: String) throws -> BookKey {
        BookKey(exchange: try resolveExchange(books), currency: try CLIError.name(currency))
    }
}
