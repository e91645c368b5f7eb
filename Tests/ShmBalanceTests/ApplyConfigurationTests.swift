import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// The core's `applyConfiguration` (behind `shmbal config apply`) checked on its own, through the
/// Swift API: what it refuses (each check, at its boundary) it refuses whole, before any write.
/// (The TOML side, ShmBalanceConfig, has its own tests in ConfigTests.)
final class ApplyConfigurationTests: XCTestCase {
    var seg: TempSegment!
    var books: Books!
    let usdc = key("USDC")

    override func setUpWithError() throws {
        seg = TempSegment()
        books = try seg.books()
        _ = try books.applyConfiguration([RecordConfig(key: usdc, strategyCount: 4, creditLimit: Amount("100"), names: [2: try ShortName("a", kind: .label)])],
                                         defaultExchange: try ShortName("KRAKEN"))
        try books.reset(usdc, balance: Amount("1000"))
        try books.allocate(usdc, index: 3, Amount("10"))
    }

    override func tearDown() {
        books = nil
        seg = nil
    }

    func label(_ s: String) -> ShortName { try! ShortName(s, kind: .label) }

    /// A key configured twice is refused as bad input, whether its record exists or not, however
    /// alike the two entries are, and wherever they sit in the list; nothing is changed or created.
    func testAKeyConfiguredTwiceIsRefusedAndChangesNothing() throws {
        // A short lock bound: an applier that locked the same record twice would wait it out.
        let b = Books(books.segment, lockTimeoutMs: 200)
        let eth = key("ETH")
        let cases: [(String, [RecordConfig])] = [
            ("an existing record twice", [RecordConfig(key: usdc, creditLimit: Amount("5")), RecordConfig(key: usdc, creditLimit: Amount("6"))]),
            ("an existing record twice, alike", [RecordConfig(key: usdc, strategyCount: 4), RecordConfig(key: usdc, strategyCount: 4)]),
            ("a new record twice", [RecordConfig(key: eth, strategyCount: 3), RecordConfig(key: eth, strategyCount: 5)]),
            ("a new record twice, alike", [RecordConfig(key: eth), RecordConfig(key: eth)]),
            ("apart, among others", [RecordConfig(key: eth), RecordConfig(key: usdc, creditLimit: Amount("7")), RecordConfig(key: key("BTC")), RecordConfig(key: eth)]),
        ]
        for (what, entries) in cases {
            let error = assertThrowsUnchanged(b, what) { _ = try b.applyConfiguration(entries, defaultExchange: try ShortName("BINANCE")) }
            guard case .badInput(let message)? = error as? BooksError else { XCTFail("\(what): \(String(describing: error))"); continue }
            XCTAssertTrue(message.contains("configured twice"), "\(what): \(message)")
        }
        XCTAssertEqual(b.keys(), [usdc])
        XCTAssertEqual(try b.defaultExchange, try ShortName("KRAKEN"))
    }

    /// A credit limit is 0 or more and storable: −1 raw unit is refused through the Swift API
    /// (`setCreditLimit`) and through `applyConfiguration`, for an existing and for a new record;
    /// 0 and the largest storable amount are accepted.
    func testNegativeCreditIsRefusedAtTheBoundary() throws {
        let L = Amount.limit
        for v in [Int128(-1), -Amount.scale, -L, -L - 1, Int128.min] {
            assertRefusedUnchanged(books, .negativeCredit, "credit \(v)") { () throws(BooksError) in try books.setCreditLimit(usdc, Amount(raw: v)) }
            for k in [usdc, key("NEW")] {
                let error = assertThrowsUnchanged(books, "config credit \(v) for \(k)") {
                    _ = try books.applyConfiguration([RecordConfig(key: k, creditLimit: Amount(raw: v))], defaultExchange: nil)
                }
                guard case .badInput(let message)? = error as? BooksError else { XCTFail("config credit \(v): \(String(describing: error))"); continue }
                XCTAssertTrue(message.contains("credit"), message)
            }
        }
        assertRefusedUnchanged(books, .overflow, "credit L + 1") { () throws(BooksError) in try books.setCreditLimit(usdc, Amount(raw: L + 1)) }
        assertThrowsUnchanged(books, "config credit L + 1") { _ = try books.applyConfiguration([RecordConfig(key: usdc, creditLimit: Amount(raw: L + 1))], defaultExchange: nil) }
        XCTAssertNil(books.record(key("NEW")))
        // The edges that are accepted.
        try books.setCreditLimit(usdc, .zero)
        XCTAssertEqual(try books.get(usdc).creditLimit, .zero)
        XCTAssertEqual(try books.get(usdc).headroom, Amount("990"))
        try books.setCreditLimit(usdc, Amount(raw: L))
        XCTAssertEqual(try books.get(usdc).creditLimit, Amount(raw: L))
        _ = try books.applyConfiguration([RecordConfig(key: usdc, creditLimit: .zero), RecordConfig(key: key("NEW"), creditLimit: Amount(raw: L))], defaultExchange: nil)
        XCTAssertEqual(try books.get(usdc).creditLimit, .zero)
        XCTAssertEqual(try books.get(key("NEW")).creditLimit, Amount(raw: L))
        // With no credit a pool of 990 gives 990 and not a raw unit more.
        assertRefusedUnchanged(books, .insufficientHeadroom, "allocate past a zero credit") { () throws(BooksError) in
            try books.allocate(usdc, index: 2, Amount(raw: 990 * Amount.scale + 1))
        }
    }

    /// One bad entry among good ones: nothing of the good ones is applied either, no record is
    /// created, the default exchange stays.
    func testOneBadEntryRefusesTheWholeConfig() throws {
        try books.allocate(usdc, index: 2, Amount("1"))
        let good = [
            RecordConfig(key: key("ETH"), strategyCount: 3, creditLimit: Amount("1"), names: [2: label("x")]),
            RecordConfig(key: usdc, creditLimit: Amount("55"), names: [3: label("y")]),
        ]
        let bad: [(String, RecordConfig)] = [
            ("strategies 1", RecordConfig(key: key("BTC"), strategyCount: 1)),
            ("strategies 65", RecordConfig(key: key("BTC"), strategyCount: 65)),
            ("credit −1 raw unit", RecordConfig(key: key("BTC"), creditLimit: Amount(raw: -1))),
            ("a name at #64", RecordConfig(key: key("BTC"), names: [64: label("z")])),
            ("a name at #-1", RecordConfig(key: key("BTC"), names: [-1: label("z")])),
            ("a name past a new record's 8 slots", RecordConfig(key: key("BTC"), names: [8: label("z")])),
            ("a name past the count it sets", RecordConfig(key: key("USD"), strategyCount: 3, names: [3: label("z")])),
            ("a shrink over a budget", RecordConfig(key: usdc, strategyCount: 2)),
        ]
        for (what, entry) in bad {
            for order in [good + [entry], [entry] + good] {
                assertThrowsUnchanged(books, "\(what) (\(order.first?.key == entry.key ? "first" : "last"))") {
                    _ = try books.applyConfiguration(order, defaultExchange: try ShortName("BINANCE"))
                }
            }
        }
        XCTAssertEqual(books.keys(), [usdc])
        // The same good entries alone apply.
        let report = try books.applyConfiguration(good, defaultExchange: try ShortName("BINANCE"))
        XCTAssertEqual(report.created, [key("ETH")])
        XCTAssertEqual(report.updated, [usdc])
        XCTAssertEqual(try books.get(usdc).creditLimit, Amount("55"))
        XCTAssertEqual(try books.get(usdc).names.map(\.description), ["total", "pool", "a", "y"])
        XCTAssertEqual(try books.get(key("ETH")).names.map(\.description), ["total", "pool", "x"])
        XCTAssertEqual(try books.defaultExchange, try ShortName("BINANCE"))
    }

    /// Applying what the books already say changes nothing and commits nothing; a record it creates
    /// starts at zero with the configured count, credit and names, and a later reset keeps them.
    func testReapplyingCommitsNothingAndCreatedRecordsKeepTheirConfig() throws {
        let config = [RecordConfig(key: usdc, strategyCount: 4, creditLimit: Amount("100"), names: [2: label("a")])]
        let before = try books.get(usdc)
        _ = try books.applyConfiguration(config, defaultExchange: nil)
        let after = try books.get(usdc)
        XCTAssertEqual(after.state.opCount, before.state.opCount, "an apply that changes nothing commits nothing")
        XCTAssertEqual(after.state, before.state)

        let eth = key("ETH")
        let report = try books.applyConfiguration([RecordConfig(key: eth, strategyCount: 6, creditLimit: Amount("3"), names: [5: label("last")])],
                                                  defaultExchange: nil)
        XCTAssertEqual(report.created, [eth])
        var r = try books.get(eth)
        XCTAssertEqual(r.slots, [Amount](repeating: .zero, count: 6))
        XCTAssertEqual(r.creditLimit, Amount("3"))
        XCTAssertEqual(r.names.map(\.description), ["total", "pool", "", "", "", "last"])
        XCTAssertEqual(r.epoch, 0)
        try books.reset(eth, balance: Amount("9"))
        r = try books.get(eth)
        XCTAssertEqual(r.strategyCount, 6)
        XCTAssertEqual(r.creditLimit, Amount("3"))
        XCTAssertEqual(r.names[5].description, "last")
        XCTAssertEqual(r.epoch, 1)
    }
}
