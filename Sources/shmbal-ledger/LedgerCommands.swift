import ArgumentParser
import ShmBalance
import ShmBalanceJSON
import ShmBalanceLedger

struct LedgerInit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "Create the ledger's tables (idempotent: an existing ledger is left as it is).")
    @OptionGroup var options: LedgerOptions

    func run() async throws {
        try await options.withLedger(requireSchema: false) { ledger in
            let instance = try await ledger.initSchema()
            print("ledger ready at \(ledger.url) (instance \(instance))")
        }
    }
}

struct LedgerReset: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reset",
        abstract: "total = pool = BALANCE, epoch + 1; every host's lease is taken back (each wipes its books and leases anew). Creates the account if missing.")
    @OptionGroup var options: LedgerOptions
    @Argument(help: "Currency.") var currency: String
    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("The account's balance.", valueName: "balance")) var rest: [String] = []
    @Option(name: .customLong("op-id"), help: "Apply once: a retry with the same id changes nothing.") var opId: String?

    func run() async throws {
        // As `Wide`: it is captured by an async closure (see ShmBalanceLedger.Wide).
        let amount = try ledgerAmount(rest, what: "BALANCE").wide, id = try ledgerOpId(opId), cur = try currencyName(currency)
        try await options.withLedger { ledger in
            let key = try await options.key(ledger, cur)
            let dropped = try await ledger.reset(key, total: amount, opId: id)
            for (host, a) in dropped.sorted(by: { $0.key < $1.key }) { print("took back \(a) from \(host)") }
            try await printAccount(ledger, key)
        }
    }
}

struct LedgerReconcile: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reconcile",
        abstract: "Bring the ledger's total to the exchange's balance; when the pool cannot cover a shortfall, recall free lease from hosts first, and reset only if that is not enough.")
    @OptionGroup var options: LedgerOptions
    @Argument(help: "Currency.") var currency: String
    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("The exchange's balance.", valueName: "balance")) var rest: [String] = []
    @Option(help: "Seconds to wait for hosts to return recalled lease.") var wait: Double = 10
    @Option(name: .customLong("op-id"), help: "Apply once: a retry with the same id returns the first outcome.") var opId: String?

    func run() async throws {
        // As `Wide`: it is captured by an async closure (see ShmBalanceLedger.Wide).
        let amount = try ledgerAmount(rest, what: "BALANCE").wide, id = try ledgerOpId(opId), cur = try currencyName(currency)
        guard wait.isFinite, wait >= 0, wait <= 3600 else { throw LedgerError.badInput("--wait: 0 to 3600 seconds") }
        try await options.withLedger { ledger in
            let key = try await options.key(ledger, cur)
            let outcome = try await ledger.reconcile(key, exchangeBalance: amount, opId: id, wait: .milliseconds(Int64(wait * 1000)))
            print("\(key): \(outcome)")
            try await printAccount(ledger, key)
        }
    }
}

struct LedgerCredit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "credit",
        abstract: "The account's credit limit: how far below 0 the ledger's pool may lease (hosts keep no credit of their own).")
    @OptionGroup var options: LedgerOptions
    @Argument(help: "Currency.") var currency: String
    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("The credit limit (0 or more).", valueName: "amount")) var rest: [String] = []
    @Option(name: .customLong("op-id"), help: "Apply once.") var opId: String?

    func run() async throws {
        // As `Wide`: it is captured by an async closure (see ShmBalanceLedger.Wide).
        let amount = try ledgerAmount(rest, what: "CREDIT").wide, id = try ledgerOpId(opId), cur = try currencyName(currency)
        guard amount.amount.raw >= 0 else { throw LedgerError.badInput("CREDIT \(amount.amount): a credit limit is 0 or more") }
        try await options.withLedger { ledger in
            let key = try await options.key(ledger, cur)
            try await ledger.setCredit(key, amount, opId: id)
            try await printAccount(ledger, key)
        }
    }
}

struct LedgerGet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "One currency: total, pool, credit, and each host's lease.")
    @OptionGroup var options: LedgerOptions
    @Argument(help: "Currency.") var currency: String
    @Flag(help: "JSON: total, pool, credit, epoch, leases (host → amount), identityHolds, hosts.") var json = false

    func run() async throws {
        let cur = try currencyName(currency)
        try await options.withLedger { ledger in
            let key = try await options.key(ledger, cur)
            guard let a = try await ledger.account(key) else { throw LedgerError.refused("\(key) has no ledger account: `shmbal ledger reset` it first") }
            print(json ? a.json.text : a.text)
        }
    }
}

struct LedgerList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Every currency and every host's lease.")
    @OptionGroup var options: LedgerOptions
    @Flag(help: "JSON: an array of what `get --json` gives.") var json = false

    func run() async throws {
        try await options.withLedger { ledger in
            let all = try await ledger.accounts()
            if json { print(JSON.array(all.map(\.json)).text) } else if all.isEmpty { print("the ledger has no account yet") } else {
                for a in all { print(a.text) }
            }
        }
    }
}

struct LedgerEvict: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "evict",
        abstract: "Take a host's leases back into the pool (the operator's word that it is gone); the host, on return, wipes its books and leases anew.")
    @OptionGroup var options: LedgerOptions
    @Argument(help: "The host.") var host: String
    @Argument(help: "Only these currencies (default: every lease of the host).") var currencies: [String] = []
    @Option(name: .customLong("op-id"), help: "Apply once.") var opId: String?

    func run() async throws {
        let id = try ledgerOpId(opId), names = try currencies.map(currencyName)
        try LedgerHost.check(host)
        try await options.withLedger { ledger in
            var keys: [BookKey] = []
            for c in names { keys.append(try await options.key(ledger, c)) }
            let taken = try await ledger.evict(host: host, keys: keys, opId: id)
            for (key, a) in taken { print("\(key): took back \(a) from \(host)") }
        }
    }
}

func printAccount(_ ledger: Ledger, _ key: BookKey) async throws {
    if let a = try await ledger.account(key) { print(a.text) }
}

extension LedgerAccount {
    var text: String {
        var lines = ["\(key)  total \(total)  pool \(pool)  credit \(credit)  epoch \(epoch)  " + (identityHolds ? "identity holds" : "IDENTITY BROKEN by \(identityDifference)")]
        for l in leases {
            var notes: [String] = []
            if l.evicted { notes.append("EVICTED") } else if l.expired { notes.append("EXPIRED (not renewed for \(l.ageMs / 1000) s, ttl \(l.ttlMs / 1000) s)") }
            if l.recall.raw > 0 { notes.append("recall \(l.recall)") }
            if l.hostGeneration < l.generation && !l.evicted { notes.append("books not yet wiped for generation \(l.generation)") }
            let age = l.ageMs < 10_000 ? "\(Double(l.ageMs / 100) / 10) s" : "\(l.ageMs / 1000) s"
            // The agent writes its state when it reaches the ledger, so past the ttl that state is
            // only what it last said: a host that died or was cut off cannot say so.
            let state = l.expired && !l.evicted ? "silent (last said \(l.agentState))" : l.agentState
            lines.append("  \(l.host)  lease \(l.amount)  renewed \(age) ago  agent \(state)" + (notes.isEmpty ? "" : "  " + notes.joined(separator: ", ")))
        }
        return lines.joined(separator: "\n")
    }

    var json: JSON {
        .object([
            ("exchange", .string(key.exchange.description)),
            ("currency", .string(key.currency.description)),
            ("total", .amount(total)),
            ("pool", .amount(pool)),
            ("credit", .amount(credit)),
            ("headroom", .amount(headroom)),
            ("epoch", .int(epoch)),
            ("leases", .object(leases.map { ($0.host, .amount($0.amount)) })),
            ("identityHolds", .bool(identityHolds)),
            ("hosts", .array(leases.map { l in
                .object([("host", .string(l.host)), ("lease", .amount(l.amount)), ("ageMs", .int(l.ageMs)), ("ttlMs", .int(l.ttlMs)),
                         ("expired", .bool(l.expired)), ("evicted", .bool(l.evicted)), ("recall", .amount(l.recall)),
                         ("agentState", .string(l.agentState)), ("generation", .int(l.generation)), ("hostGeneration", .int(l.hostGeneration))])
            })),
        ])
    }
}
