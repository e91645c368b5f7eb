import Atomics
import CShmBalanceSys
import Glibc

/// The seed's `SingleQuote`: timestamps in µs since the epoch, `mid` a Double.
@frozen
public struct SingleQuote: Sendable, Equatable {
    public var timestamp: Int64
    public var localTimestamp: Int64
    public var mid: Double

    public init(timestamp: Int64, localTimestamp: Int64, mid: Double) {
        self.timestamp = timestamp
        self.localTimestamp = localTimestamp
        self.mid = mid
    }
}

/// A quote table key: (exchange, data type, currency), e.g. (KRAKEN, BALANCE, USDT).
public struct QuoteKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var exchange: ShortName
    public var dataType: ShortName
    public var currency: ShortName

    public init(exchange: ShortName, dataType: ShortName, currency: ShortName) {
        self.exchange = exchange
        self.dataType = dataType
        self.currency = currency
    }

    public init(_ exchange: some StringProtocol, _ dataType: some StringProtocol, _ currency: some StringProtocol) throws(NameError) {
        self.init(exchange: try ShortName(exchange), dataType: try ShortName(dataType), currency: try ShortName(currency))
    }

    public static let balanceType = try! ShortName("BALANCE")

    public var description: String { "\(exchange) \(dataType) \(currency)" }

    public static func < (a: QuoteKey, b: QuoteKey) -> Bool { a.description < b.description }
}

extension Books {
    /// The quote table: appended to under the quote mutex, published by its count.
    var quoteTable: AppendTable {
        AppendTable(base, count: Layout.Header.quoteCount, entries: segment.geometry.quotesOffset, entrySize: Layout.Quote.size,
                    capacity: segment.geometry.quoteCapacity, .newQuotes)
    }

    /// A quote entry's value: two copies of (timestamp, localTimestamp, mid, writer's pid).
    func quoteLatch(_ entry: UnsafeMutableRawPointer) -> Latch {
        Latch(entry, generation: Layout.Quote.generation, copies: Layout.Quote.copies, copySize: Layout.Quote.copySize, .quote)
    }

    var publishedQuoteCount: Int { quoteTable.published }

    func quoteKey(at entry: UnsafeMutableRawPointer) -> QuoteKey {
        QuoteKey(exchange: entry.loadName(Layout.Quote.exchange), dataType: entry.loadName(Layout.Quote.dataType),
                 currency: entry.loadName(Layout.Quote.currency))
    }

    func findQuote(_ key: QuoteKey) -> UnsafeMutableRawPointer? {
        let table = quoteTable
        for i in 0..<table.published {
            let q = table.entry(i)
            if q.loadName(Layout.Quote.currency) == key.currency && q.loadName(Layout.Quote.dataType) == key.dataType
                && q.loadName(Layout.Quote.exchange) == key.exchange {
                return q
            }
        }
        return nil
    }

    /// Writes one copy of a quote's value (inside a publish, or into an entry not yet published).
    static func storeQuote(_ quote: SingleQuote, pid: Int32, to copy: UnsafeMutableRawPointer) {
        copy.storeRelaxed(UInt64(bitPattern: quote.timestamp), 0)
        copy.storeRelaxed(UInt64(bitPattern: quote.localTimestamp), 8)
        copy.storeRelaxed(quote.mid.bitPattern, 16)
        copy.storeRelaxed(UInt64(UInt32(bitPattern: pid)), 24)
    }

    /// Writes a quote. A new key's entry is appended complete — key and first value — before the
    /// count that publishes it is stored, so no reader ever finds a quote that has no value yet.
    public func writeQuote(_ key: QuoteKey, _ quote: SingleQuote) throws(BooksError) {
        try requireWritable()
        guard quote.mid.isFinite else { throw .badInput("\(key): a quote's value must be a finite number (got \(quote.mid))") }
        let m = try lockHeaderMutex(Layout.Header.quoteMutex, what: "quote table")
        let writer = pid
        if let q = findQuote(key) {
            quoteLatch(q).publish { (next, _, _) in Books.storeQuote(quote, pid: writer, to: next) }
        } else {
            let appended = quoteTable.append(1) { (p, _) in
                p.storeName(key.exchange, Layout.Quote.exchange)
                p.storeName(key.dataType, Layout.Quote.dataType)
                p.storeName(key.currency, Layout.Quote.currency)
                Books.storeQuote(quote, pid: writer, to: p + Layout.Quote.copies)  // generation 0: copy 0
            }
            guard appended != nil else {
                pthread_mutex_unlock(m)
                throw .segment(.full(path: segment.path, what: "quote table"))
            }
        }
        pthread_mutex_unlock(m)
        try confirmWritten(shmbal_now_micros())
    }

    /// The latest quote for `key`, or nil when none was ever written.
    public func quote(_ key: QuoteKey) throws(BooksError) -> SingleQuote? {
        guard let p = findQuote(key) else { return nil }
        return try readQuote(p, key: key).quote
    }

    /// A quote entry's value, consistent, with the pid of its writer.
    func readQuote(_ p: UnsafeMutableRawPointer, key: QuoteKey) throws(BooksError) -> (quote: SingleQuote, pid: Int32) {
        do {
            return try quoteLatch(p).read { (c) -> (SingleQuote, Int32) in
                (SingleQuote(timestamp: Int64(bitPattern: c.loadRelaxed(0)), localTimestamp: Int64(bitPattern: c.loadRelaxed(8)),
                             mid: Double(bitPattern: c.loadRelaxed(16))),
                 Int32(truncatingIfNeeded: c.loadRelaxed(24)))
            }
        } catch {
            throw BooksError(error, what: "\(key): quote")
        }
    }

    /// Every quote written so far, sorted by key.
    public func allQuotes() throws(BooksError) -> [(key: QuoteKey, quote: SingleQuote)] {
        var out: [(key: QuoteKey, quote: SingleQuote)] = []
        let table = quoteTable
        for i in 0..<table.published {
            let p = table.entry(i)
            let key = quoteKey(at: p)
            out.append((key, try readQuote(p, key: key).quote))
        }
        return out.sorted { $0.key < $1.key }
    }
}
