import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// Every validation of the core at its boundary: the last value accepted is applied, the first
/// beyond it is refused, and a refusal leaves the books exactly as they were (every record, name,
/// quote and the default exchange, read through the public API: `assertRefusedUnchanged`).
final class BoundaryTests: XCTestCase {
    /// 10^36 − 1 raw units: the largest magnitude a stored amount may have.
    static let L = Amount.limit
    var seg: TempSegment!
    var books: Books!
    let k = key("USDC")

    /// KRAKEN USDC with 5 slots (total 1000, budgets #2 100 and #3 50, pool 850, credit 200, a
    /// name), KRAKEN USD, a quote and a default exchange: so that "nothing changed" compares something.
    override func setUpWithError() throws {
        seg = TempSegment()
        books = try seg.books(.readWriteCreating(geometry: Geometry(recordCapacity: 8, quoteCapacity: 4, ringCapacity: 64)))
        _ = try books.applyConfiguration([RecordConfig(key: k, strategyCount: 5, creditLimit: Amount("200"), names: [2: try ShortName("grid", kind: .label)])],
                                         defaultExchange: try ShortName("KRAKEN"))
        try books.reset(k, balance: Amount("1000"))
        try books.allocate(k, index: 2, Amount("100"))
        try books.allocate(k, index: 3, Amount("50"))
        try books.reset(key("USD"), balance: Amount("5"), strategyCount: 2)
        try books.writeQuote(try QuoteKey("KRAKEN", "BALANCE", "USDC"), SingleQuote(timestamp: 1, localTimestamp: 2, mid: 1000))
    }

    override func tearDown() {
        books = nil
        seg = nil
    }

    func raw(_ v: Int128) -> Amount { Amount(raw: v) }
    func slots(_ key: BookKey) throws -> [Int128] { try books.get(key).slots.map(\.raw) }

    // MARK: - Amounts

    /// ±(10^36 − 1) raw units is storable in every argument; one unit beyond is refused everywhere.
    func testEveryAmountArgumentStopsAtTheStorableLimit() throws {
        let L = Self.L
        let fresh = key("NEW")
        for v in [L + 1, -(L + 1), Int128.max, Int128.min] {
            assertRefusedUnchanged(books, .overflow, "reset to \(v)") { () throws(BooksError) in try books.reset(k, balance: raw(v)) }
            assertRefusedUnchanged(books, .overflow, "reset of a new key to \(v)") { () throws(BooksError) in try books.reset(fresh, balance: raw(v)) }
            assertRefusedUnchanged(books, .overflow, "reconcile to \(v)") { () throws(BooksError) in _ = try books.reconcile(k, exchangeBalance: raw(v)) }
            assertRefusedUnchanged(books, .overflow, "reconcile of a new key to \(v)") { () throws(BooksError) in _ = try books.reconcile(fresh, exchangeBalance: raw(v)) }
            assertRefusedUnchanged(books, .overflow, "adjust the total by \(v)") { () throws(BooksError) in try books.adjust(k, raw(v)) }
            assertRefusedUnchanged(books, .overflow, "adjust the pool by \(v)") { () throws(BooksError) in try books.adjust(k, raw(v), index: 1) }
            assertRefusedUnchanged(books, .overflow, "set the total to \(v)") { () throws(BooksError) in try books.set(k, raw(v)) }
            assertRefusedUnchanged(books, .overflow, "set the pool to \(v)") { () throws(BooksError) in try books.set(k, raw(v), index: 1) }
            assertRefusedUnchanged(books, .overflow, "adjust a budget by \(v)") { () throws(BooksError) in try books.adjust(k, raw(v), index: 2) }
            if v > 0 {
                assertRefusedUnchanged(books, .overflow, "set a budget to \(v)") { () throws(BooksError) in try books.set(k, raw(v), index: 2) }
                assertRefusedUnchanged(books, .overflow, "credit \(v)") { () throws(BooksError) in try books.setCreditLimit(k, raw(v)) }
            }
        }
        XCTAssertNil(books.record(fresh), "a refused reset or reconcile creates no record")
        // The limit itself is storable in each of them.
        try books.reset(fresh, balance: raw(L))
        XCTAssertEqual(try slots(fresh).prefix(2), [L, L])
        try books.reset(fresh, balance: raw(-L))
        XCTAssertEqual(try slots(fresh).prefix(2), [-L, -L])
        XCTAssertEqual(try books.reconcile(fresh, exchangeBalance: raw(L)), .repaired(delta: raw(2 * L), pool: raw(L)))
        try books.set(fresh, raw(-L))
        XCTAssertEqual(try slots(fresh).prefix(2), [-L, -L])
        try books.adjust(fresh, raw(L), index: 1)
        XCTAssertEqual(try slots(fresh).prefix(2), [0, 0])
        try books.setCreditLimit(k, raw(L))
        XCTAssertEqual(try books.get(k).creditLimit, raw(L))
    }

    /// The total and the pool move together when either is adjusted: up to ±L exactly, not one unit more.
    func testTheTotalAndThePoolOverflowOneUnitPastTheLimit() throws {
        let L = Self.L
        try books.reset(k, balance: .zero)
        try books.adjust(k, raw(L))
        XCTAssertEqual(try slots(k), [L, L, 0, 0, 0])
        assertRefusedUnchanged(books, .overflow, "adjust the total past +L") { () throws(BooksError) in try books.adjust(k, raw(1)) }
        assertRefusedUnchanged(books, .overflow, "adjust the pool past +L") { () throws(BooksError) in try books.adjust(k, raw(1), index: 1) }
        try books.adjust(k, raw(-L))
        try books.adjust(k, raw(-L), index: 1)
        XCTAssertEqual(try slots(k), [-L, -L, 0, 0, 0])
        assertRefusedUnchanged(books, .overflow, "adjust the total past −L") { () throws(BooksError) in try books.adjust(k, raw(-1)) }
        assertRefusedUnchanged(books, .overflow, "adjust the pool past −L") { () throws(BooksError) in try books.adjust(k, raw(-1), index: 1) }
        // With a budget, setting the pool moves the total past the limit first.
        try books.reset(k, balance: raw(L))
        try books.allocate(k, index: 2, Amount("10"))
        XCTAssertEqual(try slots(k), [L, L - 10 * Amount.scale, 10 * Amount.scale, 0, 0])
        assertRefusedUnchanged(books, .overflow, "set the pool so the total passes +L") { () throws(BooksError) in
            try books.set(k, raw(L - 10 * Amount.scale + 1), index: 1)
        }
        assertRefusedUnchanged(books, .overflow, "adjust the pool so the total passes +L") { () throws(BooksError) in try books.adjust(k, raw(1), index: 1) }
        try books.set(k, raw(L - 10 * Amount.scale), index: 1)
        XCTAssertEqual(try slots(k), [L, L - 10 * Amount.scale, 10 * Amount.scale, 0, 0])
    }

    /// A budget goes up to L exactly, and the pool that pays for it down to −L exactly.
    func testBudgetsAndThePoolOverflowOneUnitPastTheLimit() throws {
        let L = Self.L
        try books.reset(k, balance: raw(L))
        try books.setCreditLimit(k, raw(L))
        try books.allocate(k, index: 2, raw(L))
        XCTAssertEqual(try slots(k), [L, 0, L, 0, 0])
        assertRefusedUnchanged(books, .overflow, "allocate past L into a budget") { () throws(BooksError) in try books.allocate(k, index: 2, raw(1)) }
        assertRefusedUnchanged(books, .overflow, "adjust a budget past L") { () throws(BooksError) in try books.adjust(k, raw(1), index: 2) }
        assertRefusedUnchanged(books, .overflow, "set a budget past L") { () throws(BooksError) in try books.set(k, raw(L + 1), index: 2) }
        // Another budget takes the pool down to −L exactly (the headroom is then 0) …
        try books.allocate(k, index: 3, raw(L))
        XCTAssertEqual(try slots(k), [L, -L, L, L, 0])
        XCTAssertEqual(try books.get(k).headroom, .zero)
        // … and nothing more can come out of it, by any operation.
        assertRefusedUnchanged(books, .overflow, "adjust a budget up with the pool at −L") { () throws(BooksError) in try books.adjust(k, raw(1), index: 4) }
        assertRefusedUnchanged(books, .overflow, "set a budget up with the pool at −L") { () throws(BooksError) in try books.set(k, raw(1), index: 4) }
        assertRefusedUnchanged(books, .insufficientHeadroom, "allocate with the headroom at 0") { () throws(BooksError) in try books.allocate(k, index: 4, raw(1)) }
        XCTAssertTrue(try books.get(k).identityHolds)
        // A reconcile whose pool would pass −L cannot repair: it resets.
        let outcome = try books.reconcile(k, exchangeBalance: raw(L - 1))
        XCTAssertEqual(outcome, .reset(delta: raw(-1), unrepairedPool: raw(-L - 1),
                                       dropped: [DroppedBudget(index: 2, amount: raw(L)), DroppedBudget(index: 3, amount: raw(L))]))
        XCTAssertEqual(try slots(k), [L - 1, L - 1, 0, 0, 0])
    }

    // MARK: - The rules' own edges, one raw unit either side

    func testHeadroomBudgetAndNegativeBudgetEdges() throws {
        let unit = Amount.scale
        // Headroom 850 + 200 = 1050: exactly that is allocated, one raw unit more is not.
        let r = assertRefusedUnchanged(books, .insufficientHeadroom, "allocate the headroom + 1 raw unit") { () throws(BooksError) in
            try books.allocate(k, index: 4, raw(1050 * unit + 1))
        }
        XCTAssertEqual(r?.detail, Amount("1050"))
        try books.allocate(k, index: 4, raw(1050 * unit))
        XCTAssertEqual(try slots(k), [1000 * unit, -200 * unit, 100 * unit, 50 * unit, 1050 * unit])
        XCTAssertEqual(try books.get(k).headroom, .zero)
        assertRefusedUnchanged(books, .insufficientHeadroom, "allocate 1 raw unit at headroom 0") { () throws(BooksError) in try books.allocate(k, index: 2, raw(1)) }
        // A budget of 100: releasing 100 + 1 raw unit is refused, 100 is not.
        assertRefusedUnchanged(books, .exceedsBudget, "release the budget + 1 raw unit") { () throws(BooksError) in try books.release(k, index: 2, raw(100 * unit + 1)) }
        try books.release(k, index: 2, raw(100 * unit))
        assertRefusedUnchanged(books, .exceedsBudget, "release 1 raw unit from an empty budget") { () throws(BooksError) in try books.release(k, index: 2, raw(1)) }
        // A budget of 50: adjusted down to 0 exactly, not one raw unit below; set to 0, not below.
        assertRefusedUnchanged(books, .negativeBudget, "adjust a budget to −1 raw unit") { () throws(BooksError) in try books.adjust(k, raw(-50 * unit - 1), index: 3) }
        assertRefusedUnchanged(books, .negativeBudget, "set a budget to −1 raw unit") { () throws(BooksError) in try books.set(k, raw(-1), index: 3) }
        try books.adjust(k, raw(-50 * unit), index: 3)
        try books.set(k, .zero, index: 4)
        XCTAssertEqual(try slots(k), [1000 * unit, 1000 * unit, 0, 0, 0])
        // The pool and the total may go negative; only budgets may not.
        try books.set(k, raw(-1), index: 1)
        try books.set(k, raw(-1))
        XCTAssertEqual(try slots(k), [-1, -1, 0, 0, 0])
    }

    func testAmountsAboveZeroForAllocateAndRelease() throws {
        for v: Int128 in [0, -1, -Self.L, Int128.min] {
            assertRefusedUnchanged(books, .nonPositiveAmount, "allocate \(v)") { () throws(BooksError) in try books.allocate(k, index: 2, raw(v)) }
            assertRefusedUnchanged(books, .nonPositiveAmount, "release \(v)") { () throws(BooksError) in try books.release(k, index: 2, raw(v)) }
        }
        try books.allocate(k, index: 2, raw(1))
        try books.release(k, index: 2, raw(1))
        XCTAssertEqual(try books.get(k).slots.map(\.exactText), ["1000", "850", "100", "50", "0"])
    }

    /// Repaired while pool + credit ≥ 0, exactly; reset one raw unit below.
    func testReconcileRepairsDownToZeroHeadroomAndResetsOneUnitBelow() throws {
        let unit = Amount.scale
        // Pool 850, credit 200: an exchange figure of −50 leaves the pool at −200, headroom 0.
        XCTAssertEqual(try books.reconcile(k, exchangeBalance: Amount("-50")), .repaired(delta: Amount("-1050"), pool: Amount("-200")))
        XCTAssertEqual(try books.get(k).headroom, .zero)
        XCTAssertEqual(try books.reconcile(k, exchangeBalance: Amount("-50")), .inSync)
        let epoch = try books.get(k).epoch
        let outcome = try books.reconcile(k, exchangeBalance: raw(-50 * unit - 1))
        XCTAssertEqual(outcome, .reset(delta: raw(-1), unrepairedPool: raw(-200 * unit - 1),
                                       dropped: [DroppedBudget(index: 2, amount: Amount("100")), DroppedBudget(index: 3, amount: Amount("50"))]))
        XCTAssertEqual(try slots(k), [-50 * unit - 1, -50 * unit - 1, 0, 0, 0])
        XCTAssertEqual(try books.get(k).epoch, epoch + 1)
    }

    // MARK: - Strategy counts and indices

    /// 2 and 64 are the first and last counts; 1 and 65 (and anything further out) are refused.
    func testStrategyCountsTwoToSixtyFour() throws {
        let fresh = key("NEW")
        for c in [1, 65, 0, -1, Int.min, Int.max] {
            assertRefusedUnchanged(books, .badCount, "reset with count \(c)") { () throws(BooksError) in try books.reset(k, balance: Amount("1"), strategyCount: c) }
            assertRefusedUnchanged(books, .badCount, "reset a new key with count \(c)") { () throws(BooksError) in try books.reset(fresh, balance: Amount("1"), strategyCount: c) }
            assertRefusedUnchanged(books, .badCount, "count \(c)") { () throws(BooksError) in try books.setStrategyCount(key("USD"), c) }
            assertThrowsUnchanged(books, "config strategies = \(c)") { _ = try books.applyConfiguration([RecordConfig(key: k, strategyCount: c)], defaultExchange: nil) }
            assertThrowsUnchanged(books, "config strategies = \(c) for a new key") { _ = try books.applyConfiguration([RecordConfig(key: fresh, strategyCount: c)], defaultExchange: nil) }
        }
        XCTAssertNil(books.record(fresh))
        for c in [2, 64] {
            try books.reset(fresh, balance: Amount("1"), strategyCount: c)
            XCTAssertEqual(try books.get(fresh).strategyCount, c)
            try books.setStrategyCount(key("USD"), c)
            XCTAssertEqual(try books.get(key("USD")).strategyCount, c)
            _ = try books.applyConfiguration([RecordConfig(key: key("ETH"), strategyCount: c)], defaultExchange: nil)
            XCTAssertEqual(try books.get(key("ETH")).strategyCount, c)
        }
    }

    /// A count shrinks over zero slots only: the last non-zero slot stops it, even at one raw unit.
    func testShrinkingStopsAtTheLastNonZeroSlot() throws {
        try books.release(k, index: 3, raw(50 * Amount.scale - 1))  // slot #3 keeps one raw unit
        try books.setStrategyCount(k, 4)
        let r = assertRefusedUnchanged(books, .shrinkOverNonZero, "shrink over 1 raw unit") { () throws(BooksError) in try books.setStrategyCount(k, 3) }
        XCTAssertEqual(r?.index, 3)
        assertRefusedUnchanged(books, .shrinkOverNonZero, "config shrink over 1 raw unit") { () throws(BooksError) in
            _ = try books.applyConfiguration([RecordConfig(key: k, strategyCount: 3)], defaultExchange: nil)
        }
        try books.release(k, index: 3, raw(1))
        try books.setStrategyCount(k, 3)
        XCTAssertEqual(try books.get(k).slots.map(\.exactText), ["1000", "900", "100"])
    }

    /// Slot indices: set/adjust/balance/name take 0…count−1; allocate/release take 2…count−1.
    func testIndicesAtEveryEdge() throws {
        let count = 5
        for i in [-1, count, 64, Int.min, Int.max] {
            assertRefusedUnchanged(books, .indexOutOfRange, "set #\(i)") { () throws(BooksError) in try books.set(k, Amount("1"), index: i) }
            assertRefusedUnchanged(books, .indexOutOfRange, "adjust #\(i)") { () throws(BooksError) in try books.adjust(k, Amount("1"), index: i) }
            assertRefusedUnchanged(books, .indexOutOfRange, "balance #\(i)") { () throws(BooksError) in _ = try books.balance(k, index: i) }
            assertRefusedUnchanged(books, .indexOutOfRange, "name #\(i)") { () throws(BooksError) in try books.setName(k, index: i, try! ShortName("x", kind: .label)) }
        }
        for i in [-1, 0, 1, count, 64, Int.min, Int.max] {
            assertRefusedUnchanged(books, .notASubStrategy, "allocate #\(i)") { () throws(BooksError) in try books.allocate(k, index: i, Amount("1")) }
            assertRefusedUnchanged(books, .notASubStrategy, "release #\(i)") { () throws(BooksError) in try books.release(k, index: i, Amount("1")) }
        }
        for i in [-1, 64, Int.min, Int.max] {
            assertThrowsUnchanged(books, "config name #\(i)") { _ = try books.applyConfiguration([RecordConfig(key: k, names: [i: try ShortName("x", kind: .label)])], defaultExchange: nil) }
        }
        assertThrowsUnchanged(books, "config name #\(count), past the count") {
            _ = try books.applyConfiguration([RecordConfig(key: k, names: [count: try ShortName("x", kind: .label)])], defaultExchange: nil)
        }
        // The edges themselves are accepted.
        XCTAssertEqual(try books.balance(k, index: 0), Amount("1000"))
        XCTAssertEqual(try books.balance(k, index: count - 1), .zero)
        try books.allocate(k, index: 2, Amount("1"))
        try books.allocate(k, index: count - 1, Amount("1"))
        try books.release(k, index: count - 1, Amount("1"))
        try books.set(k, Amount("2"), index: count - 1)
        try books.adjust(k, Amount("1"), index: 1)
        try books.setName(k, index: 0, try ShortName("all", kind: .label))
        try books.setName(k, index: count - 1, try ShortName("last", kind: .label))
        _ = try books.applyConfiguration([RecordConfig(key: k, names: [count - 1: try ShortName("cfg", kind: .label)])], defaultExchange: nil)
        let r = try books.get(k)
        XCTAssertEqual(r.slots.map(\.exactText), ["1001", "848", "101", "50", "2"])
        XCTAssertEqual(r.names.map(\.description), ["all", "pool", "grid", "", "cfg"])
    }

    // MARK: - Full tables

    func testFullRecordAndQuoteTablesRefuseAndChangeNothing() throws {
        let small = TempSegment()
        let b = try small.books(.readWriteCreating(geometry: Geometry(recordCapacity: 2, quoteCapacity: 1, ringCapacity: 16)))
        try b.reset(key("A"), balance: Amount("1"))
        try b.reset(key("B"), balance: Amount("2"))
        let q = try QuoteKey("KRAKEN", "BALANCE", "A")
        try b.writeQuote(q, SingleQuote(timestamp: 1, localTimestamp: 1, mid: 1))
        let r = assertRefusedUnchanged(b, .tableFull, "reset a third key") { () throws(BooksError) in try b.reset(key("C"), balance: Amount("1")) }
        XCTAssertEqual(r?.detail, Amount(raw: 2))
        assertRefusedUnchanged(b, .tableFull, "reconcile a third key") { () throws(BooksError) in _ = try b.reconcile(key("C"), exchangeBalance: Amount("1")) }
        assertThrowsUnchanged(b, "config apply a third key") { _ = try b.applyConfiguration([RecordConfig(key: key("C"), strategyCount: 3)], defaultExchange: nil) }
        let full = assertThrowsUnchanged(b, "a second quote") {
            try b.writeQuote(try QuoteKey("KRAKEN", "BALANCE", "B"), SingleQuote(timestamp: 2, localTimestamp: 2, mid: 2))
        }
        XCTAssertEqual(full as? BooksError, .segment(.full(path: small.path, what: "quote table")))
        // What exists still works.
        try b.writeQuote(q, SingleQuote(timestamp: 3, localTimestamp: 3, mid: 3))
        XCTAssertEqual(try b.quote(q)?.mid, 3)
        try b.reset(key("B"), balance: Amount("5"))
        XCTAssertEqual(b.keys(), [key("A"), key("B")])
    }

    /// SPEC §4: a change spanning several records applies all or nothing; every check that can
    /// refuse runs before the first write. A config creating two records where one fits must
    /// create none (the core used to create them one by one and find the table full only at the
    /// second, leaving the first created).
    func testConfigApplyThatCannotCreateAllItsRecordsCreatesNone() throws {
        let small = TempSegment()
        let b = try small.books(.readWriteCreating(geometry: Geometry(recordCapacity: 2, quoteCapacity: 1, ringCapacity: 16)))
        try b.reset(key("A"), balance: Amount("1"))
        let before = try BooksImage(b)
        var refused: BooksError?
        do throws(BooksError) {
            _ = try b.applyConfiguration([RecordConfig(key: key("B"), strategyCount: 3), RecordConfig(key: key("C"), strategyCount: 3)],
                                         defaultExchange: try! ShortName("KRAKEN"))
        } catch { refused = error }
        XCTAssertEqual(refused?.refusal?.code, .tableFull, "refused, and for the full table: \(String(describing: refused))")
        let after = try BooksImage(b)
        XCTAssertEqual(after, before, "a config apply refused for a full table changed the books")
    }

    // MARK: - Quotes

    func testQuoteValuesMustBeFinite() throws {
        let q = try QuoteKey("KRAKEN", "BALANCE", "USDC")
        let fresh = try QuoteKey("KRAKEN", "PRICE", "BTC")
        for mid in [Double.nan, .infinity, -.infinity, .signalingNaN] {
            assertThrowsUnchanged(books, "quote \(mid)") { try books.writeQuote(q, SingleQuote(timestamp: 9, localTimestamp: 9, mid: mid)) }
            assertThrowsUnchanged(books, "a new quote \(mid)") { try books.writeQuote(fresh, SingleQuote(timestamp: 9, localTimestamp: 9, mid: mid)) }
        }
        XCTAssertNil(try books.quote(fresh), "a refused write creates no quote")
        for mid in [Double.greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNonzeroMagnitude, -0.0] {
            try books.writeQuote(fresh, SingleQuote(timestamp: 1, localTimestamp: 2, mid: mid))
            XCTAssertEqual(try books.quote(fresh)?.mid.bitPattern, mid.bitPattern)
        }
    }
}
