import ArgumentParser
import ShmBalance
import ShmBalanceJSON

// The operations that change the books (SPEC §3), one small command each. Amounts that may be
// negative are captured with `.allUnrecognized` so `adjust USD -1000` works without `--`.

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create a segment with chosen capacities and file mode (fails if the path is taken).")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Balance records it can hold.") var records = Geometry.defaults.recordCapacity
    @Option(help: "Quote entries it can hold.") var quotes = Geometry.defaults.quoteCapacity
    @Option(help: "Activity entries kept (a power of two).") var activity = Geometry.defaults.ringCapacity
    @Option(help: "Open holds each record can keep (\(Layout.minHolds)…\(Layout.maxHolds)).") var holds = Geometry.defaultHoldCapacity
    @Option(name: .customLong("op-ids"), help: "Operation ids each record remembers: its last this many mutations carrying one (\(Layout.minOpIdWindow)…\(Layout.maxOpIdWindow)).")
    var opIds = Geometry.defaultOpIdWindow
    @Option(help: "File mode, octal: 0600 (owner only) or 0660 (a group).") var mode = "0600"

    func run() throws {
        // Everything is checked before the file is made.
        let m = try CLIError.mode(mode)
        let g = Geometry(recordCapacity: records, quoteCapacity: quotes, ringCapacity: activity, holdCapacity: holds, opIdWindow: opIds)
        if let why = g.problem { throw CLIError(.badInput, why) }
        let path = try global.segmentPath()
        do {
            let s = try Segment.create(path, geometry: g, mode: m)
            print("created \(s.path): \(records) records, \(quotes) quotes, \(activity) activity entries, \(holds) holds and \(opIds) op ids per record, \(g.segmentSize) bytes, mode \(String(m, radix: 8).leftPadded(4, "0"))")
        } catch {
            throw CLIError(.unusable, error.description)
        }
    }
}

struct Reset: BooksCommand {
    static let configuration = CommandConfiguration(
        abstract: "total = BALANCE, each budget keeps what its open holds keep (0 without holds), the pool the rest, epoch + 1 (creates the record if missing).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Currency, e.g. USDC.") var currency: String
    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("The account's balance.", valueName: "balance")) var rest: [String] = []
    @Option(help: "Slots (2…64); without it an existing record keeps its count, credit and names, a new one gets 8.") var strategies: Int?
    @Flag(name: .customLong("drop-holds"), help: "Close every open hold too: every budget 0 (the orders are gone from the exchange).") var dropHolds = false
    @OptionGroup var op: OperationIdOption

    var access: Segment.AccessMode { .readWriteCreating() }

    func prepare() throws -> Work {
        let count = try strategies.map(CLIError.count)
        let opId = try op.checked()
        return try oneAmount(currency, rest, what: "BALANCE") { (books, key, amount) throws(BooksError) in
            try books.reset(key, balance: amount, strategyCount: count, dropHolds: dropHolds, opId: opId)
        }
    }
}

struct SetSlot: BooksCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Set a slot (default the total); the pool absorbs the difference (a change of the pool moves the total).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Currency.") var currency: String
    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("The new value.", valueName: "amount")) var rest: [String] = []
    @Option(help: "Slot: 0 total, 1 pool, 2… a sub-strategy.") var index = 0
    @OptionGroup var op: OperationIdOption

    var access: Segment.AccessMode { .readWrite }

    func prepare() throws -> Work {
        let opId = try op.checked()
        return try oneAmount(currency, rest, what: "AMOUNT") { (books, key, amount) throws(BooksError) in
            try books.set(key, amount, index: index, opId: opId)
        }
    }
}

struct Adjust: BooksCommand {
    static let configuration = CommandConfiguration(abstract: "Add DELTA to a slot (default the total: a fill, deposit or withdrawal); the identity is kept as by set.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Currency.") var currency: String
    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("The change, e.g. -1000.", valueName: "delta")) var rest: [String] = []
    @Option(help: "Slot: 0 total, 1 pool, 2… a sub-strategy.") var index = 0
    @OptionGroup var op: OperationIdOption

    var access: Segment.AccessMode { .readWrite }

    func prepare() throws -> Work {
        let opId = try op.checked()
        return try oneAmount(currency, rest, what: "DELTA") { (books, key, amount) throws(BooksError) in
            try books.adjust(key, amount, index: index, opId: opId)
        }
    }
}

struct Allocate: BooksCommand {
    static let configuration = CommandConfiguration(abstract: "Move AMOUNT from the pool to sub-strategy INDEX (refused beyond pool + credit).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Currency.") var currency: String
    @Argument(help: "Sub-strategy slot (2…).") var index: Int
    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("Amount (> 0).", valueName: "amount")) var rest: [String] = []
    @OptionGroup var op: OperationIdOption

    var access: Segment.AccessMode { .readWrite }

    func prepare() throws -> Work {
        let opId = try op.checked()
        return try oneAmount(currency, rest, what: "AMOUNT") { (books, key, amount) throws(BooksError) in
            // Without an op id the hot pair; with one the general commit (the core has both).
            if let opId { try books.allocate(key, index: index, amount, opId: opId) } else { try books.allocate(key, index: index, amount) }
        }
    }
}

struct Release: BooksCommand {
    static let configuration = CommandConfiguration(abstract: "Return AMOUNT from sub-strategy INDEX to the pool (refused beyond its budget).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Currency.") var currency: String
    @Argument(help: "Sub-strategy slot (2…).") var index: Int
    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("Amount (> 0).", valueName: "amount")) var rest: [String] = []
    @OptionGroup var op: OperationIdOption

    var access: Segment.AccessMode { .readWrite }

    func prepare() throws -> Work {
        let opId = try op.checked()
        return try oneAmount(currency, rest, what: "AMOUNT") { (books, key, amount) throws(BooksError) in
            // Without an op id the hot pair; with one the general commit (the core has both).
            if let opId { try books.release(key, index: index, amount, opId: opId) } else { try books.release(key, index: index, amount) }
        }
    }
}

struct Reconcile: BooksCommand {
    static let configuration = CommandConfiguration(
        abstract: "Recovery: set the total to the exchange's balance (the pool absorbs it); reset if pool + credit would go below 0.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Currency.") var currency: String
    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("The balance the exchange reports.", valueName: "exchange-balance")) var rest: [String] = []
    @Flag(help: "Print the outcome as JSON.") var json = false
    @OptionGroup var op: OperationIdOption

    var access: Segment.AccessMode { .readWriteCreating() }

    func prepare() throws -> Work {
        let currency = try CLIError.name(self.currency)
        let balance = try singleAmount(rest, what: "EXCHANGE_BALANCE")
        let opId = try op.checked()
        return { books, target in
            let key = try target.key(books, currency)
            let outcome = try core { () throws(BooksError) in try books.reconcile(key, exchangeBalance: balance, opId: opId) }
            if json {
                var fields: [(String, JSON)] = [("exchange", .string(key.exchange.description)), ("currency", .string(key.currency.description))]
                switch outcome {
                case .inSync: fields.append(("outcome", .string("in-sync")))
                case .repaired(let d, let pool): fields += [("outcome", .string("repaired")), ("delta", .amount(d)), ("pool", .amount(pool))]
                case .identityRepaired(let d, let pool, let off):
                    fields += [("outcome", .string("identity-repaired")), ("delta", .amount(d)), ("pool", .amount(pool)), ("identityWasOffBy", .amount(off))]
                case .reset(let d, let pool, let dropped):
                    fields += [("outcome", .string("reset")), ("delta", .amount(d)), ("unrepairedPool", .amount(pool)),
                               ("dropped", .array(dropped.map { .object([("index", .int(Int64($0.index))), ("amount", .amount($0.amount))]) }))]
                case .created(let b): fields += [("outcome", .string("created")), ("balance", .amount(b))]
                }
                print(JSON.object(fields).text)
            } else {
                print("\(key): \(outcome)")
            }
        }
    }
}

struct Credit: BooksCommand {
    static let configuration = CommandConfiguration(abstract: "Set a currency's credit limit (what allocate may lend beyond the pool).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Currency.") var currency: String
    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("Credit limit (≥ 0).", valueName: "amount")) var rest: [String] = []
    @OptionGroup var op: OperationIdOption

    var access: Segment.AccessMode { .readWrite }

    func prepare() throws -> Work {
        let opId = try op.checked()
        return try oneAmount(currency, rest, what: "AMOUNT") { (books, key, amount) throws(BooksError) in
            try books.setCreditLimit(key, amount, opId: opId)
        }
    }
}

struct Strategies: BooksCommand {
    static let configuration = CommandConfiguration(abstract: "Set a record's slot count (2…64): grows any time, shrinks only over zero slots.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Currency.") var currency: String
    @Argument(help: "New count.") var count: Int
    @OptionGroup var op: OperationIdOption

    var access: Segment.AccessMode { .readWrite }

    func prepare() throws -> Work {
        let currency = try CLIError.name(self.currency)
        let count = try CLIError.count(self.count)
        let opId = try op.checked()
        return { books, target in
            let key = try target.key(books, currency)
            try core { () throws(BooksError) in try books.setStrategyCount(key, count, opId: opId) }
            try printSummary(books, key)
        }
    }
}

struct Name: BooksCommand {
    static let configuration = CommandConfiguration(abstract: "Name a slot (printable ASCII without spaces, up to 15 characters; \"\" clears it).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Currency.") var currency: String
    @Argument(help: "Slot index.") var index: Int
    @Argument(help: "The name, e.g. grid-bot.") var name: String
    @OptionGroup var op: OperationIdOption

    var access: Segment.AccessMode { .readWrite }

    func prepare() throws -> Work {
        let currency = try CLIError.name(self.currency)
        let label = try CLIError.name(name, kind: .label)
        let opId = try op.checked()
        return { books, target in
            let key = try target.key(books, currency)
            try core { () throws(BooksError) in try books.setName(key, index: index, label, opId: opId) }
            print("\(key) #\(index) is now named '\(label)'")
        }
    }
}

/// The shape of every command that changes one record by one amount: the currency and the
/// amount (a bare negative too) are checked now; the work resolves the key, applies `body` and
/// prints the record as it is afterwards (`report`: by default its one-line summary).
func oneAmount(_ currency: String, _ rest: [String], what: String,
               report: @escaping (Books, BookKey, Amount) throws -> Void = { books, key, _ in try printSummary(books, key) },
               _ body: @escaping (Books, BookKey, Amount) throws(BooksError) -> Void) throws -> Work {
    let name = try CLIError.name(currency)
    let amount = try singleAmount(rest, what: what)
    return { books, target in
        let key = try target.key(books, name)
        try core { () throws(BooksError) in try body(books, key, amount) }
        try report(books, key, amount)
    }
}

extension String {
    func leftPadded(_ width: Int, _ pad: Character = " ") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }

    func rightPadded(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
