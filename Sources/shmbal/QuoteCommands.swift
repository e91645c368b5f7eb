import ArgumentParser
import ShmBalance
import CShmBalanceSys

// The quote table (the seed's ShareMemorySingleQuote): `quote write` / `quote get`.

struct Quote: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write or read a quote (e.g. the exchange's BALANCE for a currency).",
        subcommands: [QuoteWrite.self, QuoteGet.self])
}

struct QuoteWrite: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "write", abstract: "Write a quote: mid = VALUE, timestamps now unless given.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Exchange, e.g. KRAKEN.") var exchangeName: String
    @Argument(help: "Data type, e.g. BALANCE, POSITION, PRICE.") var dataType: String
    @Argument(help: "Currency.") var currency: String
    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("The value (decimal text).", valueName: "value")) var rest: [String] = []
    @Option(help: "The exchange's timestamp, µs since the epoch (default now).") var timestamp: Int64?

    func run() throws {
        // The quote's mid is a Double (as in the seed); the text is still checked as an exact decimal first.
        let text = rest.first ?? ""
        _ = try singleAmount(rest, what: "VALUE")
        guard let mid = Double(text) else { throw CLIError(.badInput, "'\(text)' is not a number") }
        let key = try quoteKey(exchangeName, dataType, currency)
        let books = try global.books(.readWriteCreating())
        let now = shmbal_now_micros()
        let q = SingleQuote(timestamp: timestamp ?? now, localTimestamp: now, mid: mid)
        try core { () throws(BooksError) in try books.writeQuote(key, q) }
        print("\(key) mid \(mid)")
    }
}

struct QuoteGet: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Read a quote.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Exchange.") var exchangeName: String
    @Argument(help: "Data type.") var dataType: String
    @Argument(help: "Currency.") var currency: String
    @Flag(help: "Print as JSON.") var json = false

    func run() throws {
        let key = try quoteKey(exchangeName, dataType, currency)
        let books = try global.books(.readOnly)
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

func quoteKey(_ e: String, _ t: String, _ c: String) throws -> QuoteKey {
    QuoteKey(exchange: try CLIError.name(e), dataType: try CLIError.name(t), currency: try CLIError.name(c))
}
