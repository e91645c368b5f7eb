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

    public init(_ exchange: some StringProtocol, _ dataType: some StringProtocol, _ currency: some StringProtocol) throws(AmountError) {
        self.init(exchange: try ShortName(exchange), dataType: try ShortName(dataType), currency: try ShortName(currency))
    }

    public static let balanceType = try! ShortName("BALANCE")

    public var description: String { "\(exchange) \(dataType) \(currency)" }

    public static func < (a: QuoteKey, b: QuoteKey) -> Bool { a.description < b.description }
}

extension Books {
    func quotePointer(_ i: Int) -> UnsafeMutableRawPointer {
        base + (segment.geometry.quotesOffset + i * Layout.Quote.size)
    }

    var publishedQuoteCount: Int {
        min(Int(truncatingIfNeeded: base.loadAcquiring(Layout.Header.quoteCount)), segment.geometry.quoteCapacity)
    }

    func findQuote(_ key: QuoteKey) -> UnsafeMutableRawPointer? {
        for i in 0..<publishedQuoteCount {
            let q = quotePointer(i)
            if q.loadName(Layout.Quote.currency) == key.currency && q.loadName(Layout.Quote.dataType) == key.dataType
                && q.loadName(Layout.Quote.exchange) == key.exchange {
                return q
            }
        }
        return nil
    }

    /// Writes a quote (creating its entry on first write). Quotes are written under one robust
    /// mutex for the table and published like records: two copies and a generation word.
    public func writeQuote(_ key: QuoteKey, _ quote: SingleQuote) throws(BooksError) {
        try requireWritable()
        guard quote.mid.isFinite else { throw .badInput("\(key): a quote's value must be a finite number (got \(quote.mid))") }
        let m = try lockHeaderMutex(Layout.Header.quoteMutex, what: "quote table")
        defer { pthread_mutex_unlock(m) }
        var q = findQuote(key)
        if q == nil {
            let n = publishedQuoteCount
            guard n < segment.geometry.quoteCapacity else { throw .segment(.full(path: segment.path, what: "quote table")) }
            let p = quotePointer(n)
            memset(p, 0, Layout.Quote.size)
            p.storeName(key.exchange, Layout.Quote.exchange)
            p.storeName(key.dataType, Layout.Quote.dataType)
            p.storeName(key.currency, Layout.Quote.currency)
            base.storeReleasing(UInt64(n + 1), Layout.Header.quoteCount)
            q = p
        }
        let p = q!
        let g = p.loadRelaxed(Layout.Quote.generation)
        let copy = Layout.Quote.copies + Int((g + 1) & 1) * Layout.Quote.copySize
        atomicMemoryFence(ordering: .releasing)
        p.storeRelaxed(UInt64(bitPattern: quote.timestamp), copy)
        p.storeRelaxed(UInt64(bitPattern: quote.localTimestamp), copy + 8)
        p.storeRelaxed(quote.mid.bitPattern, copy + 16)
        p.storeRelaxed(UInt64(UInt32(bitPattern: shmbal_cached_pid())), copy + 24)
        p.storeReleasing(g + 1, Layout.Quote.generation)
    }

    /// The latest quote for `key`, or nil when none was ever written.
    public func quote(_ key: QuoteKey) throws(BooksError) -> SingleQuote? {
        guard let p = findQuote(key) else { return nil }
        return try readQuote(p, key: key)
    }

    func readQuote(_ p: UnsafeMutableRawPointer, key: QuoteKey) throws(BooksError) -> SingleQuote {
        for _ in 0..<RecordRef.readRetries {
            let g = p.loadAcquiring(Layout.Quote.generation)
            let copy = Layout.Quote.copies + Int(g & 1) * Layout.Quote.copySize
            let q = SingleQuote(timestamp: Int64(bitPattern: p.loadRelaxed(copy)),
                                localTimestamp: Int64(bitPattern: p.loadRelaxed(copy + 8)),
                                mid: Double(bitPattern: p.loadRelaxed(copy + 16)))
            atomicMemoryFence(ordering: .acquiring)
            if p.loadRelaxed(Layout.Quote.generation) == g { return q }
        }
        throw .badInput("\(key): quote is being rewritten non-stop; try again")
    }

    /// Every quote written so far, sorted by key.
    public func allQuotes() throws(BooksError) -> [(key: QuoteKey, quote: SingleQuote)] {
        var out: [(key: QuoteKey, quote: SingleQuote)] = []
        for i in 0..<publishedQuoteCount {
            let p = quotePointer(i)
            let key = QuoteKey(exchange: p.loadName(Layout.Quote.exchange), dataType: p.loadName(Layout.Quote.dataType),
                               currency: p.loadName(Layout.Quote.currency))
            out.append((key, try readQuote(p, key: key)))
        }
        return out.sorted { $0.key < $1.key }
    }
}
