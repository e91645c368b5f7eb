import ArgumentParser
import ShmBalance
import ShmBalanceJSON
import CShmBalanceSys

// The quote table (the seed's ShareMemorySingleQuote): `quote write` / `quote get`.

struct Quote: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write or read a quote (e.g. the exchange's BALANCE for a currency).",
        subcommands: [QuoteWrite.self, QuoteGet.self])
}

struct QuoteWrite: BooksCommand {
    static let configuration = CommandConfiguration(
        commandName: "write",
        abstract: "Write a quote: mid = VALUE, timestamps now unless given.",
        discussion: "The mid is a Double (as in the seed): VALUE is accepted only when the Double holds exactly the decimal written (0.1, 10000.5, 2.55); text a Double would round (0.1000000000000000001, 12345678901234567) is refused, saying what it would become.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Exchange, e.g. KRAKEN.") var exchangeName: String
    @Argument(help: "Data type, e.g. BALANCE, POSITION, PRICE.") var dataType: String
    @Argument(help: "Currency.") var currency: String
    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("The value (decimal text).", valueName: "value")) var rest: [String] = []
    @Option(help: "The exchange's timestamp, µs since the epoch (default now).") var timestamp: Int64?

    var access: Segment.AccessMode { .readWriteCreating() }

    func prepare() throws -> Work {
        let key = try quoteKey(exchangeName, dataType, currency)
        let mid = try exactMid(try singleAmount(rest, what: "VALUE"), written: rest[0])
        return { books, _ in
            let now = shmbal_now_micros()
            let q = SingleQuote(timestamp: timestamp ?? now, localTimestamp: now, mid: mid)
            try core { () throws(BooksError) in try books.writeQuote(key, q) }
            print("\(key) mid \(mid)")
        }
    }
}

/// The Double for a quote's mid that holds exactly `value`, or bad input saying what the Double
/// would hold instead. Exact means: the Double's shortest decimal form is `value` (the same test
/// by which the core turns a Double back into an amount, `Amount(exactly:)`), so the quote reads
/// back as the text that was written; anything else would be a silent rounding.
func exactMid(_ value: Amount, written: String) throws -> Double {
    let mid = value.doubleValue
    let back = try? Amount(exactly: mid)
    guard back != value else { return mid }
    throw CLIError(.badInput, "'\(written)' cannot be a quote's mid exactly: the mid is a Double, which would hold \(back?.exactText ?? "\(mid)"); write that, or fewer significant digits")
}

struct QuoteGet: BooksCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Read a quote.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Exchange.") var exchangeName: String
    @Argument(help: "Data type.") var dataType: String
    @Argument(help: "Currency.") var currency: String
    @Flag(help: "Print as JSON.") var json = false

    var access: Segment.AccessMode { .readOnly }

    func prepare() throws -> Work {
        let key = try quoteKey(exchangeName, dataType, currency)
        return { books, _ in
            guard let q = try core({ () throws(BooksError) in try books.quote(key) }) else {
                throw CLIError(.refused, "\(key): no quote has been written")
            }
            if json {
                print(JSON.object([("exchange", .string(key.exchange.description)), ("dataType", .string(key.dataType.description)),
                                   ("currency", .string(key.currency.description)), ("timestamp", .int(q.timestamp)),
                                   ("localTimestamp", .int(q.localTimestamp)), ("mid", .double(q.mid))]).text)
            } else {
                print("\(key) mid \(q.mid)  timestamp \(q.timestamp) (\(clockText(micros: q.timestamp, date: true)))  local \(q.localTimestamp)")
            }
        }
    }
}

func quoteKey(_ e: String, _ t: String, _ c: String) throws -> QuoteKey {
    QuoteKey(exchange: try CLIError.name(e), dataType: try CLIError.name(t), currency: try CLIError.name(c))
}
