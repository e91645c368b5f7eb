import Glibc
import ShmBalance

/// The demo's private segment: created in a fresh temporary folder (or at the path asked for),
/// seeded like the seed's example, and removed with its folder by `remove()`.
public final class DemoSegment {
    public let path: String
    /// The temporary folder holding the segment, when the demo made one.
    public let folder: String?
    public let books: Books
    /// Set once the segment exists: only what the demo created is ever removed.
    private var created = false

    public static let exchange = try! ShortName("KRAKEN")

    /// Creates the segment. A given `path` must not exist yet (a demo never writes over a file).
    public init(path: String?) throws(BooksError) {
        var folder: String? = nil
        let segmentPath: String
        if let path {
            segmentPath = path
        } else {
            // /dev/shm when there is one (where real segments live), else the temporary folder.
            let base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : (getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp")
            var template = Array((base + "/shmbal-demo-XXXXXX").utf8CString)
            guard let made = mkdtemp(&template) else {
                throw .segment(.system(path: base, call: "mkdtemp", errno: errno))
            }
            folder = String(cString: made)
            segmentPath = folder! + "/segment"
        }
        self.path = segmentPath
        self.folder = folder
        do {
            books = Books(try Segment.create(segmentPath, geometry: .defaults, mode: 0o600))
            created = true
        } catch {
            if let folder { rmdir(folder) }
            throw .segment(error)
        }
    }

    deinit { remove() }

    /// Deletes the segment and the folder the demo made for it. Safe to call more than once.
    public func remove() {
        guard created else { return }
        created = false
        unlink(path)
        if let folder { rmdir(folder) }
    }

    /// The seed's example: KRAKEN; USDC 10,000 with credit 5,000 and slots grid-bot, arb, mm
    /// holding 2,000, 3,000 and 1,000; USD 5,000; BTC 2.5 with the exchange's BALANCE quotes.
    /// Two open orders keep part of USDC's budgets (holds, SPEC §9), so the hold columns show.
    public func seed() throws(BooksError) {
        let ex = DemoSegment.exchange
        func key(_ c: String) -> BookKey { BookKey(exchange: ex, currency: try! ShortName(c)) }
        func label(_ s: String) -> ShortName { try! ShortName(s, kind: .label) }
        func amount(_ s: String) -> Amount { try! Amount(parsing: s) }
        _ = try books.applyConfiguration([
            RecordConfig(key: key("USDC"), strategyCount: 5, creditLimit: amount("5000"),
                         names: [2: label("grid-bot"), 3: label("arb"), 4: label("mm")]),
            RecordConfig(key: key("USD"), strategyCount: 4, creditLimit: amount("1000"), names: [2: label("hedger"), 3: label("mm")]),
            RecordConfig(key: key("BTC"), strategyCount: 4, creditLimit: .zero, names: [2: label("grid-bot"), 3: label("arb")]),
        ], defaultExchange: ex)
        try books.reset(key("USDC"), balance: amount("10000"))
        try books.allocate(key("USDC"), index: 2, amount("2000"))
        try books.allocate(key("USDC"), index: 3, amount("3000"))
        try books.allocate(key("USDC"), index: 4, amount("1000"))
        try books.reset(key("USD"), balance: amount("5000"))
        try books.reset(key("BTC"), balance: amount("2.5"))
        try books.allocate(key("BTC"), index: 2, amount("0.75"))
        try books.hold(key("USDC"), index: 2, amount("600"), id: try HoldId("grid-0001"))
        try books.hold(key("USDC"), index: 3, amount("1200"), id: try HoldId("arb-0001"), ttlMicros: 3_600_000_000)
        for (c, v) in [("USDC", 10000.0), ("USD", 5000.0), ("BTC", 2.5)] {
            try writeBalanceQuote(c, v)
        }
    }

    func writeBalanceQuote(_ currency: String, _ mid: Double) throws(BooksError) {
        let now = wallClockMicros()
        try books.writeQuote(QuoteKey(exchange: DemoSegment.exchange, dataType: QuoteKey.balanceType, currency: try! ShortName(currency)),
                             SingleQuote(timestamp: now, localTimestamp: now, mid: mid))
    }
}
