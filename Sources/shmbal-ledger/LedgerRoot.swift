import ArgumentParser
import Glibc
import ShmBalance
import ShmBalanceLedger

struct LedgerRoot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shmbal",
        abstract: "The ledger of several hosts sharing one account (SPEC §10), and the agent beside each host's segment.",
        subcommands: [LedgerCommand.self, AgentCommand.self])
}

struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Act on the ledger in PostgreSQL: total = pool + Σ leases per currency.",
        subcommands: [LedgerInit.self, LedgerReset.self, LedgerReconcile.self, LedgerCredit.self, LedgerGet.self, LedgerList.self, LedgerEvict.self])
}

/// `--db` and `--exchange`, shared by every ledger command.
struct LedgerOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The ledger (default: $SHMBAL_DB).", valueName: "postgres://USER@HOST:PORT/DATABASE")) var db: String?
    @Option(help: ArgumentHelp("Exchange (default: $SHMBAL_EXCHANGE, else the only one in the ledger).", valueName: "name")) var exchange: String?

    func url() throws -> LedgerURL { try LedgerURL.resolve(db) { getenv($0).map { String(cString: $0) } } }

    /// Connects, runs `body`, and closes the connection whatever `body` did.
    func withLedger<T>(requireSchema: Bool = true, _ body: (Ledger) async throws -> T) async throws -> T {
        let ledger = try await Ledger.connect(try url(), requireSchema: requireSchema)
        do {
            let value = try await body(ledger)
            await ledger.close()
            return value
        } catch {
            await ledger.close()
            throw error
        }
    }

    func named(_ exchange: String?) throws -> ShortName? {
        guard let text = exchange ?? getenv("SHMBAL_EXCHANGE").map({ String(cString: $0) }) else { return nil }
        do { return try ShortName(text) } catch { throw LedgerError.badInput("--exchange: \(error.message)") }
    }

    /// The key of `currency` (checked with `currencyName` before connecting): the exchange
    /// given, else the only one the ledger has.
    func key(_ ledger: Ledger, _ cur: ShortName) async throws -> BookKey {
        if let x = try named(exchange) { return BookKey(exchange: x, currency: cur) }
        let exchanges = Set(try await ledger.accounts().map(\.key.exchange))
        guard exchanges.count == 1 else {
            throw LedgerError.badInput(exchanges.isEmpty ? "the ledger has no account yet: give --exchange" : "the ledger has several exchanges: give --exchange")
        }
        return BookKey(exchange: exchanges.first!, currency: cur)
    }
}

func currencyName(_ text: String) throws -> ShortName {
    do { return try ShortName(text) } catch { throw LedgerError.badInput("currency: \(error.message)") }
}

/// One amount from the arguments (a negative one needs no `--`), read exactly.
func ledgerAmount(_ rest: [String], what: String) throws -> Amount {
    guard rest.count == 1 else { throw LedgerError.badInput("expected one \(what) (got \(rest.count) arguments)") }
    do { return try Amount(parsing: rest[0]) } catch { throw LedgerError.badInput("\(what) \(TerminalText.safe(rest[0])): \(error.message)") }
}

func ledgerOpId(_ text: String?) throws -> String? {
    guard let text else { return nil }
    guard (1...64).contains(text.utf8.count), text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
        throw LedgerError.badInput("--op-id: 1–64 printable ASCII characters without spaces")
    }
    return text
}
