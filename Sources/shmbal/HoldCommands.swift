import ArgumentParser
import ShmBalance
import ShmBalanceJSON

// The operations on holds (SPEC §9): hold, fill, void, receive. Amounts are captured with
// `.allUnrecognized` like the other mutating commands, so a bare negative reaches the core and is
// refused there in its words (exit 3) rather than by the argument parser. The listing is in
// HoldsCommand.swift.

struct Hold: BooksCommand {
    static let configuration = CommandConfiguration(
        abstract: "Keep AMOUNT of sub-strategy INDEX's free budget for the open order ID (refused beyond its free budget).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Currency.") var currency: String
    @Argument(help: "Sub-strategy slot (2…).") var index: Int
    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("Amount (> 0).", valueName: "amount")) var rest: [String] = []
    @Option(help: ArgumentHelp("The order's id (1–32 printable ASCII, no spaces); also the hold's op id: the same hold again is applied once.", valueName: "id"))
    var id: String
    // Unconditional, so that `--ttl -5` gets the ttl's own message, not "missing value".
    @Option(parsing: .unconditional, help: ArgumentHelp("Seconds until it expires (up to 6 decimals); the next writer of the record voids it then.", valueName: "seconds"))
    var ttl: String?

    var access: Segment.AccessMode { .readWrite }

    func prepare() throws -> Work {
        let id = try CLIError.holdId(self.id, flag: "--id")
        let ttl = try self.ttl.map(CLIError.ttlMicros)
        let index = self.index
        return try oneAmount(currency, rest, what: "AMOUNT", report: { books, key, amount in
            let r = try core { () throws(BooksError) in try books.get(key) }
            print("hold \(id): \(amount) of \(key) \(slotLabel(index, r))\(ttl.map { " for \(secondsText($0)) s" } ?? "")")
            printSlot(r, index)
        }) { (books, key, amount) throws(BooksError) in
            try books.hold(key, index: index, amount, id: id, ttlMicros: ttl)
        }
    }
}

struct Fill: BooksCommand {
    static let configuration = CommandConfiguration(
        abstract: "The order ID spent AMOUNT + FEE: from its hold, then the slot's free budget, then the pool (never refused for money).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Currency.") var currency: String
    @Option(help: ArgumentHelp("The hold's order id.", valueName: "id")) var id: String
    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("What the order spent (≥ 0).", valueName: "amount")) var rest: [String] = []
    // Unconditional, so that `--fee -1` reaches the core's refusal instead of reading as an option.
    @Option(parsing: .unconditional, help: ArgumentHelp("The fee it paid (≥ 0; default 0).", valueName: "fee")) var fee: String?
    @Flag(help: "The order is done: close the hold, whatever remains returning to free.") var final = false
    @OptionGroup var op: OperationIdOption
    @Flag(help: "Print the outcome as JSON: fromHold, fromFree, fromPool, closed, …") var json = false

    var access: Segment.AccessMode { .readWrite }

    func prepare() throws -> Work {
        let currency = try CLIError.name(self.currency)
        let id = try CLIError.holdId(self.id, flag: "--id")
        let amount = try singleAmount(rest, what: "AMOUNT")
        let fee = try self.fee.map { try CLIError.amount($0, option: "--fee") } ?? Amount.zero
        let opId = try op.checked()
        let (final, json) = (self.final, self.json)
        return { books, target in
            let key = try target.key(books, currency)
            let o = try core { () throws(BooksError) in try books.fill(key, id: id, amount, fee: fee, final: final, opId: opId) }
            if json {
                print(JSON.object([
                    ("exchange", .string(key.exchange.description)), ("currency", .string(key.currency.description)), ("id", .string(id.description)),
                    ("amount", .amount(amount)), ("fee", .amount(fee)), ("fromHold", .amount(o.fromHold)), ("fromFree", .amount(o.fromFree)),
                    ("fromPool", .amount(o.fromPool)), ("overrun", .amount(o.overrun)), ("closed", .bool(o.closed)),
                ]).text)
                return
            }
            // Where the money came from, an overrun said as such; then what the hold still keeps.
            var line = "\(key): \(final ? "final fill" : "fill") \(id) \(amount)\(fee.raw != 0 ? " + fee \(fee)" : ""): \(o.fromHold) from the hold"
            if o.overrun.raw != 0 {
                line += ", OVERRUN \(o.overrun) beyond the hold: \(o.fromFree) from the slot's free budget, \(o.fromPool) from the pool"
            }
            if o.closed {
                line += "; hold closed"
            } else if let left = try core({ () throws(BooksError) in try books.holds(key) }).first(where: { $0.id == id }) {
                line += "; the hold keeps \(left.amount)"
            }
            print(line)
            try printSummary(books, key)
        }
    }
}

struct VoidHold: BooksCommand {
    static let configuration = CommandConfiguration(
        commandName: "void",
        abstract: "Close the hold of order ID: all it still keeps returns to the slot's free budget.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Currency.") var currency: String
    @Option(help: ArgumentHelp("The hold's order id.", valueName: "id")) var id: String
    @OptionGroup var op: OperationIdOption

    var access: Segment.AccessMode { .readWrite }

    func prepare() throws -> Work {
        let currency = try CLIError.name(self.currency)
        let id = try CLIError.holdId(self.id, flag: "--id")
        let opId = try op.checked()
        return { books, target in
            let key = try target.key(books, currency)
            try core { () throws(BooksError) in try books.void(key, id: id, opId: opId) }
            print("\(key): hold \(id) voided; what it kept is free again")
            try printSummary(books, key)
        }
    }
}

struct Receive: BooksCommand {
    static let configuration = CommandConfiguration(
        abstract: "The proceeds of a fill: the total and sub-strategy INDEX's budget rise by AMOUNT (the pool is not touched).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Currency.") var currency: String
    @Argument(help: "Sub-strategy slot (2…).") var index: Int
    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("Amount (> 0).", valueName: "amount")) var rest: [String] = []
    @OptionGroup var op: OperationIdOption

    var access: Segment.AccessMode { .readWrite }

    func prepare() throws -> Work {
        let opId = try op.checked()
        let index = self.index
        return try oneAmount(currency, rest, what: "AMOUNT", report: { books, key, _ in
            try printSummary(books, key)
            printSlot(try core { () throws(BooksError) in try books.get(key) }, index)
        }) { (books, key, amount) throws(BooksError) in
            try books.receive(key, index: index, amount, opId: opId)
        }
    }
}

/// `#2 grid-bot`, or `#2` for a slot without a name.
func slotLabel(_ index: Int, _ r: BalanceRecord) -> String {
    let name = index < r.names.count ? r.names[index].description : ""
    return name.isEmpty ? "#\(index)" : "#\(index) \(name)"
}

/// One sub-strategy's budget and what its open orders keep of it.
func printSlot(_ r: BalanceRecord, _ index: Int) {
    guard index < r.slots.count, index < r.held.count, index < r.holdCounts.count else { return }
    let n = r.holdCounts[index]
    print("\(r.key) \(slotLabel(index, r))  budget \(r.slots[index])  held \(r.held[index]) in \(n) \(n == 1 ? "hold" : "holds")  free \(r.free[index])")
}

/// Microseconds as seconds, without trailing zeros: 60, 1.5, 0.000001.
func secondsText(_ micros: Int64) -> String {
    Amount(raw: Int128(micros) * (Amount.scale / 1_000_000)).exactText
}
