import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// Every operation of SPEC §3 and every refusal, on a real segment.
final class OperationsTests: XCTestCase {
    var seg: TempSegment!
    var books: Books!

    override func setUpWithError() throws {
        seg = TempSegment()
        books = try seg.books()
    }

    override func tearDown() {
        books = nil
        seg = nil
    }

    func slots(_ c: String) throws -> [Amount] { try books.get(key(c)).slots }
    func amounts(_ xs: String...) -> [Amount] { xs.map { Amount($0) } }

    // MARK: - The seed's scenarios, with its numbers

    func testSeedStartUpBuySellAllocateTransferRecovery() throws {
        // Start-up: reset each currency from the exchange's balances (8 slots).
        try books.reset(key("USDC"), balance: Amount(exactly: 10000.0), strategyCount: 8)
        try books.reset(key("USD"), balance: Amount(exactly: 5000.0), strategyCount: 8)
        XCTAssertEqual(try books.balance(key("USDC")), Amount("10000"))
        XCTAssertEqual(try books.get(key("USDC")).strategyCount, 8)

        // Buy USDC with USD, then sell some back.
        try books.adjust(key("USD"), Amount("-1000"))
        try books.adjust(key("USDC"), Amount("1000"))
        XCTAssertEqual(try books.balance(key("USD")), Amount("4000"))
        XCTAssertEqual(try books.balance(key("USDC")), Amount("11000"))
        try books.adjust(key("USDC"), Amount("-500"))
        try books.adjust(key("USD"), Amount("500"))
        XCTAssertEqual(try books.balance(key("USD")), Amount("4500"))
        XCTAssertEqual(try books.balance(key("USDC")), Amount("10500"))
        XCTAssertEqual(try books.balance(key("USDC"), index: 1), Amount("10500"), "the pool absorbs total changes")

        // Sub-strategies: A (#2) takes 2000, B (#3) takes 3000, A returns 500.
        try books.allocate(key("USDC"), index: 2, Amount("2000"))
        try books.allocate(key("USDC"), index: 3, Amount("3000"))
        try books.release(key("USDC"), index: 2, Amount("500"))
        XCTAssertEqual(try books.balance(key("USDC"), index: 0), Amount("10500"))
        XCTAssertEqual(try books.balance(key("USDC"), index: 1), Amount("6000"))
        XCTAssertEqual(try books.balance(key("USDC"), index: 2), Amount("1500"))
        XCTAssertEqual(try books.balance(key("USDC"), index: 3), Amount("3000"))

        // Transfers in 1000 and out 500: the total and the pool move, budgets stay.
        try books.adjust(key("USDC"), Amount("1000"))
        try books.adjust(key("USDC"), Amount("-500"))
        XCTAssertEqual(try slots("USDC"), amounts("11000", "6500", "1500", "3000", "0", "0", "0", "0"))

        // Recovery that repairs: the exchange says 10800; set the total, the pool absorbs -200.
        try books.set(key("USDC"), Amount("10800"))
        XCTAssertEqual(try slots("USDC"), amounts("10800", "6300", "1500", "3000", "0", "0", "0", "0"))
        XCTAssertTrue(try books.get(key("USDC")).identityHolds)
    }

    func testSeedRecoveryThatMustReset() throws {
        // The seed's recovery: set the total to the exchange's figure; if pool + credit < 0, reset.
        try books.reset(key("USDC"), balance: Amount("10000"), strategyCount: 5)
        try books.setCreditLimit(key("USDC"), Amount("5000"))
        try books.allocate(key("USDC"), index: 2, Amount("6000"))
        try books.allocate(key("USDC"), index: 3, Amount("3000"))
        let realBalance = Amount("2000")
        try books.set(key("USDC"), realBalance)
        let available = try books.balance(key("USDC"), index: 1)
        XCTAssertEqual(available, Amount("-7000"))
        XCTAssertTrue(available.raw + Amount("5000").raw < 0, "beyond the credit: cannot be repaired")
        let epoch = try books.get(key("USDC")).epoch
        try books.reset(key("USDC"), balance: realBalance)
        let r = try books.get(key("USDC"))
        XCTAssertEqual(r.slots, amounts("2000", "2000", "0", "0", "0"))
        XCTAssertEqual(r.epoch, epoch + 1, "the sub-strategies can tell their budgets were dropped")
        XCTAssertEqual(r.creditLimit, Amount("5000"), "reset without a count keeps the credit")
    }

    func testCreditMakesHeadroom() throws {
        // Pool 100 with credit 50 can give 150 …
        try books.reset(key("USDC"), balance: Amount("100"), strategyCount: 4)
        try books.setCreditLimit(key("USDC"), Amount("50"))
        assertRefused(.insufficientHeadroom) { () throws(BooksError) in try books.allocate(key("USDC"), index: 2, Amount("150.000000000000000001")) }
        try books.allocate(key("USDC"), index: 2, Amount("150"))
        XCTAssertEqual(try slots("USDC"), amounts("100", "-50", "150", "0"))
        // … and a pool of -30 with credit 50 can give 20.
        try books.reset(key("USD"), balance: Amount("0"), strategyCount: 4)
        try books.setCreditLimit(key("USD"), Amount("50"))
        try books.set(key("USD"), Amount("-30"), index: 1)
        XCTAssertEqual(try books.get(key("USD")).headroom, Amount("20"))
        let r = assertRefused(.insufficientHeadroom) { () throws(BooksError) in try books.allocate(key("USD"), index: 3, Amount("20.01")) }
        XCTAssertEqual(r?.detail, Amount("20"))
        XCTAssertEqual(r?.description, "KRAKEN USD #3: allocate 20.01 exceeds the headroom 20.00 (pool + credit)")
        try books.allocate(key("USD"), index: 3, Amount("20"))
        XCTAssertEqual(try slots("USD"), amounts("-30", "-50", "0", "20"))
    }

    func testPointOneAddedTenTimesIsExactlyOne() throws {
        try books.reset(key("USDC"), balance: .zero)
        for _ in 0..<10 { try books.adjust(key("USDC"), try Amount(exactly: 0.1)) }
        XCTAssertEqual(try books.balance(key("USDC")), Amount("1"))
        for _ in 0..<10 { try books.allocate(key("USDC"), index: 2, try Amount(exactly: 0.1)) }
        XCTAssertEqual(try slots("USDC").prefix(3), amounts("1", "0", "1")[...])
    }

    // MARK: - Each operation

    func testResetCreatesWithEightSlotsAndKeepsCountCreditNamesWithoutACount() throws {
        try books.reset(key("USDC"), balance: Amount("10"))
        var r = try books.get(key("USDC"))
        XCTAssertEqual(r.strategyCount, 8)
        XCTAssertEqual(r.epoch, 1)
        XCTAssertEqual(r.creditLimit, .zero)
        XCTAssertEqual(r.names.map(\.description), ["total", "pool", "", "", "", "", "", ""])
        try books.setStrategyCount(key("USDC"), 5)
        try books.setCreditLimit(key("USDC"), Amount("7"))
        try books.setName(key("USDC"), index: 2, ShortName("grid-bot", kind: .label))
        try books.allocate(key("USDC"), index: 2, Amount("4"))
        try books.reset(key("USDC"), balance: Amount("20"))
        r = try books.get(key("USDC"))
        XCTAssertEqual(r.slots, amounts("20", "20", "0", "0", "0"))
        XCTAssertEqual(r.creditLimit, Amount("7"))
        XCTAssertEqual(r.names[2].description, "grid-bot")
        XCTAssertEqual(r.epoch, 2)
        try books.reset(key("USDC"), balance: Amount("20"), strategyCount: 3)
        XCTAssertEqual(try books.get(key("USDC")).strategyCount, 3)
    }

    func testResetRefusesABadCountAndCreatesNothing() throws {
        for bad in [0, 1, 65, -3] {
            assertRefused(.badCount) { () throws(BooksError) in try books.reset(key("ETH"), balance: Amount("1"), strategyCount: bad) }
        }
        XCTAssertNil(books.record(key("ETH")), "a refused reset creates no record")
        try books.reset(key("ETH"), balance: Amount("1"), strategyCount: 64)
        try books.reset(key("ETH"), balance: Amount("1"), strategyCount: 2)
    }

    func testSetRebalancesThroughThePool() throws {
        try books.reset(key("USDC"), balance: Amount("1000"), strategyCount: 4)
        try books.allocate(key("USDC"), index: 2, Amount("300"))
        try books.set(key("USDC"), Amount("1200"))  // total: the pool absorbs +200
        XCTAssertEqual(try slots("USDC"), amounts("1200", "900", "300", "0"))
        try books.set(key("USDC"), Amount("100"), index: 2)  // a budget: the pool absorbs -200
        XCTAssertEqual(try slots("USDC"), amounts("1200", "1100", "100", "0"))
        try books.set(key("USDC"), Amount("-30"), index: 1)  // the pool: the total moves with it
        XCTAssertEqual(try slots("USDC"), amounts("70", "-30", "100", "0"))
        assertRefused(.negativeBudget) { () throws(BooksError) in try books.set(key("USDC"), Amount("-1"), index: 2) }
        assertRefused(.indexOutOfRange) { () throws(BooksError) in try books.set(key("USDC"), Amount("1"), index: 4) }
        assertRefused(.indexOutOfRange) { () throws(BooksError) in try books.set(key("USDC"), Amount("1"), index: -1) }
        XCTAssertEqual(try slots("USDC"), amounts("70", "-30", "100", "0"), "refusals changed nothing")
    }

    func testAdjustRebalancesAndRefusesNegativeBudgetsAndOverflow() throws {
        try books.reset(key("USDC"), balance: Amount("1000"), strategyCount: 4)
        try books.adjust(key("USDC"), Amount("50"), index: 3)
        XCTAssertEqual(try slots("USDC"), amounts("1000", "950", "0", "50"))
        try books.adjust(key("USDC"), Amount("-2000"), index: 1)
        XCTAssertEqual(try slots("USDC"), amounts("-1000", "-1050", "0", "50"), "set/adjust never check the headroom")
        assertRefused(.negativeBudget) { () throws(BooksError) in try books.adjust(key("USDC"), Amount("-50.01"), index: 3) }
        try books.adjust(key("USDC"), Amount("-50"), index: 3)
        try books.adjust(key("USDC"), Amount("2000"))
        let huge = Amount(raw: Amount.limit)
        assertRefused(.overflow) { () throws(BooksError) in try books.adjust(key("USDC"), huge) }
        assertRefused(.overflow) { () throws(BooksError) in try books.adjust(key("USDC"), Amount(raw: Amount.limit + 5)) }
        assertRefused(.overflow) { () throws(BooksError) in try books.adjust(key("USDC"), huge, index: 1) }
        XCTAssertEqual(try slots("USDC"), amounts("1000", "1000", "0", "0"))
    }

    func testAllocateRefusals() throws {
        try books.reset(key("USDC"), balance: Amount("100"), strategyCount: 4)
        assertRefused(.notASubStrategy) { () throws(BooksError) in try books.allocate(key("USDC"), index: 0, Amount("1")) }
        assertRefused(.notASubStrategy) { () throws(BooksError) in try books.allocate(key("USDC"), index: 1, Amount("1")) }
        assertRefused(.notASubStrategy) { () throws(BooksError) in try books.allocate(key("USDC"), index: 4, Amount("1")) }
        assertRefused(.notASubStrategy) { () throws(BooksError) in try books.allocate(key("USDC"), index: 99, Amount("1")) }
        assertRefused(.nonPositiveAmount) { () throws(BooksError) in try books.allocate(key("USDC"), index: 2, .zero) }
        assertRefused(.nonPositiveAmount) { () throws(BooksError) in try books.allocate(key("USDC"), index: 2, Amount("-5")) }
        assertRefused(.insufficientHeadroom) { () throws(BooksError) in try books.allocate(key("USDC"), index: 2, Amount("100.5")) }
        XCTAssertEqual(try slots("USDC"), amounts("100", "100", "0", "0"))
        XCTAssertEqual(try books.get(key("USDC")).state.opCount, 1, "only the reset was applied")
    }

    func testReleaseRefusals() throws {
        try books.reset(key("USDC"), balance: Amount("1000"), strategyCount: 4)
        try books.allocate(key("USDC"), index: 3, Amount("200"))
        let r = assertRefused(.exceedsBudget) { () throws(BooksError) in try books.release(key("USDC"), index: 3, Amount("500")) }
        XCTAssertEqual(r?.description, "KRAKEN USDC #3: release 500.00 exceeds its budget 200.00")
        assertRefused(.nonPositiveAmount) { () throws(BooksError) in try books.release(key("USDC"), index: 3, Amount("0")) }
        assertRefused(.notASubStrategy) { () throws(BooksError) in try books.release(key("USDC"), index: 1, Amount("1")) }
        try books.release(key("USDC"), index: 3, Amount("200"))
        XCTAssertEqual(try slots("USDC"), amounts("1000", "1000", "0", "0"))
    }

    func testEveryOperationButResetAndReconcileRefusesAMissingRecord() throws {
        let k = key("NOPE")
        let cases: [(String, () throws(BooksError) -> Void)] = [
            ("set", { () throws(BooksError) in try self.books.set(k, Amount("1")) }),
            ("adjust", { () throws(BooksError) in try self.books.adjust(k, Amount("1")) }),
            ("allocate", { () throws(BooksError) in try self.books.allocate(k, index: 2, Amount("1")) }),
            ("release", { () throws(BooksError) in try self.books.release(k, index: 2, Amount("1")) }),
            ("get", { () throws(BooksError) in _ = try self.books.get(k) }),
            ("balance", { () throws(BooksError) in _ = try self.books.balance(k) }),
            ("credit", { () throws(BooksError) in try self.books.setCreditLimit(k, Amount("1")) }),
            ("name", { () throws(BooksError) in try self.books.setName(k, index: 2, .empty) }),
            ("count", { () throws(BooksError) in try self.books.setStrategyCount(k, 4) }),
        ]
        for (name, body) in cases {
            let r = assertRefused(.noRecord, body)
            XCTAssertEqual(r?.description, "KRAKEN NOPE has no record: reset it first", name)
        }
        XCTAssertNil(books.record(k))
        XCTAssertEqual(try books.reconcile(k, exchangeBalance: Amount("42")), .created(balance: Amount("42")))
        XCTAssertEqual(try books.get(k).slots.prefix(2), amounts("42", "42")[...])
    }

    func testReconcileSaysWhatItDid() throws {
        let k = key("USDC")
        try books.reset(k, balance: Amount("10000"), strategyCount: 5)
        try books.setCreditLimit(k, Amount("5000"))
        try books.allocate(k, index: 2, Amount("2000"))
        try books.allocate(k, index: 3, Amount("3000"))
        let before = try books.get(k)
        let head = books.activityHead
        XCTAssertEqual(try books.reconcile(k, exchangeBalance: Amount("10000")), .inSync)
        let after = try books.get(k)
        XCTAssertEqual(after.state.opCount, before.state.opCount, "in sync commits nothing")
        XCTAssertEqual(after, before, "in sync changes nothing at all (slots, epoch, stamps)")
        let logged = books.activity(after: head)
        XCTAssertEqual(logged.map(\.operation), [.reconcile], "in sync is still logged")
        XCTAssertEqual(logged.first?.outcomeText(), "in sync")
        XCTAssertEqual(try books.reconcile(k, exchangeBalance: Amount("9000")), .repaired(delta: Amount("-1000"), pool: Amount("4000")))
        XCTAssertEqual(try slots("USDC"), amounts("9000", "4000", "2000", "3000", "0"))
        // Down to 100: the pool would be 100 - 5000 = -4900, below -credit (-5000)? no: -4900 + 5000 ≥ 0: repaired.
        XCTAssertEqual(try books.reconcile(k, exchangeBalance: Amount("100")), .repaired(delta: Amount("-8900"), pool: Amount("-4900")))
        // Down to 0: pool -5000 + credit 5000 = 0, still repairable; to -0.01 it is not.
        XCTAssertEqual(try books.reconcile(k, exchangeBalance: Amount("0")), .repaired(delta: Amount("-100"), pool: Amount("-5000")))
        let epoch = try books.get(k).epoch
        let outcome = try books.reconcile(k, exchangeBalance: Amount("-0.01"))
        XCTAssertEqual(outcome, .reset(delta: Amount("-0.01"), unrepairedPool: Amount("-5000.01"),
                                       dropped: [DroppedBudget(index: 2, amount: Amount("2000")), DroppedBudget(index: 3, amount: Amount("3000"))]))
        XCTAssertEqual(try slots("USDC"), amounts("-0.01", "-0.01", "0", "0", "0"))
        XCTAssertEqual(try books.get(k).epoch, epoch + 1)
        let last = books.activity().last
        XCTAssertEqual(last?.operation, .reconcile)
        XCTAssertEqual(last?.outcomeText(), "reset")
    }

    func testStrategyCountGrowsAnyTimeAndShrinksOnlyOverZeroSlots() throws {
        let k = key("USDC")
        try books.reset(k, balance: Amount("100"), strategyCount: 4)
        try books.allocate(k, index: 3, Amount("10"))
        try books.setStrategyCount(k, 10)
        XCTAssertEqual(try slots("USDC"), amounts("100", "90", "0", "10", "0", "0", "0", "0", "0", "0"))
        try books.setStrategyCount(k, 4)
        let r = assertRefused(.shrinkOverNonZero) { () throws(BooksError) in try books.setStrategyCount(k, 3) }
        XCTAssertEqual(r?.index, 3)
        assertRefused(.badCount) { () throws(BooksError) in try books.setStrategyCount(k, 65) }
        assertRefused(.badCount) { () throws(BooksError) in try books.setStrategyCount(k, 1) }
        try books.release(k, index: 3, Amount("10"))
        try books.setStrategyCount(k, 2)
        XCTAssertEqual(try slots("USDC"), amounts("100", "100"))
    }

    func testCreditAndNames() throws {
        let k = key("USDC")
        try books.reset(k, balance: Amount("1"), strategyCount: 3)
        assertRefused(.negativeCredit) { () throws(BooksError) in try books.setCreditLimit(k, Amount("-1")) }
        try books.setName(k, index: 2, ShortName("arb", kind: .label))
        let x = try ShortName("x", kind: .label)
        assertRefused(.indexOutOfRange) { () throws(BooksError) in try books.setName(k, index: 3, x) }
        XCTAssertEqual(try books.get(k).names.map(\.description), ["total", "pool", "arb"])
        XCTAssertThrowsError(try ShortName("has space", kind: .label))
        XCTAssertThrowsError(try ShortName("sixteen-chars-xx", kind: .label))
        XCTAssertThrowsError(try ShortName("naïve", kind: .label))
        XCTAssertEqual(try ShortName("usdc").description, "USDC", "symbols fold to upper case")
    }

    func testGetBalanceRefusesAnIndexBeyondTheCount() throws {
        try books.reset(key("USDC"), balance: Amount("1"), strategyCount: 3)
        XCTAssertEqual(try books.balance(key("USDC"), index: 2), .zero)
        assertRefused(.indexOutOfRange) { () throws(BooksError) in _ = try books.balance(key("USDC"), index: 3) }
        assertRefused(.indexOutOfRange) { () throws(BooksError) in _ = try books.balance(key("USDC"), index: -1) }
    }

    func testRefusalsAreRecordedInTheActivityRing() throws {
        try books.reset(key("USDC"), balance: Amount("100"), strategyCount: 4)
        let head = books.activityHead
        assertRefused(.insufficientHeadroom) { () throws(BooksError) in try books.allocate(key("USDC"), index: 2, Amount("9900")) }
        try books.allocate(key("USDC"), index: 2, Amount("10"))
        assertRefused(.noRecord) { () throws(BooksError) in try books.adjust(key("GONE"), Amount("1")) }
        let entries = books.activity(after: head)
        XCTAssertEqual(entries.map { $0.operation }, [.allocate, .allocate, .adjust])
        XCTAssertEqual(entries.map(\.applied), [false, true, false])
        XCTAssertEqual(entries[0].outcomeText(grouping: true), "refused: headroom 100.00")
        XCTAssertEqual(entries[0].refusalMessage, "KRAKEN USDC #2: allocate 9900.00 exceeds the headroom 100.00 (pool + credit)")
        XCTAssertEqual(entries[1].after, Amount("10"))
        XCTAssertEqual(entries[1].pid, getpid())
        XCTAssertEqual(entries[2].refusalMessage, "KRAKEN GONE has no record: reset it first")
    }

    func testActivityRingWrapsAndKeepsTheNewest() throws {
        let small = TempSegment()
        let b = try small.books(.readWriteCreating(geometry: Geometry(recordCapacity: 4, quoteCapacity: 4, ringCapacity: 16)))
        try b.reset(key("USDC"), balance: Amount("1000"), strategyCount: 3)
        for i in 1...40 { try b.adjust(key("USDC"), Amount(whole: Int64(i))!) }
        let entries = b.activity()
        XCTAssertEqual(entries.count, 16)
        XCTAssertEqual(entries.last?.amount, Amount("40"))
        XCTAssertEqual(entries.map(\.sequence), Array(26...41).map(UInt64.init))
        XCTAssertEqual(b.activity(limit: 3).map(\.amount), amounts("38", "39", "40"))
    }

    func testQuotes() throws {
        let q = try QuoteKey("KRAKEN", "BALANCE", "USDT")
        XCTAssertNil(try books.quote(q))
        try books.writeQuote(q, SingleQuote(timestamp: 1, localTimestamp: 2, mid: 10000.0))
        try books.writeQuote(q, SingleQuote(timestamp: 3, localTimestamp: 4, mid: 10001.5))
        XCTAssertEqual(try books.quote(q), SingleQuote(timestamp: 3, localTimestamp: 4, mid: 10001.5))
        try books.writeQuote(try QuoteKey("KRAKEN", "PRICE", "BTC"), SingleQuote(timestamp: 5, localTimestamp: 5, mid: 1.25))
        XCTAssertEqual(try books.allQuotes().map(\.key.description), ["KRAKEN BALANCE USDT", "KRAKEN PRICE BTC"])
        XCTAssertThrowsError(try books.writeQuote(q, SingleQuote(timestamp: 0, localTimestamp: 0, mid: .nan)))
        XCTAssertEqual(try books.quote(q)?.mid, 10001.5, "a refused quote write changes nothing")
    }

    func testKeysAreSortedByExchangeThenCurrency() throws {
        try books.reset(key("USDC", "KRAKEN"), balance: .zero)
        try books.reset(key("BTC", "KRAKEN"), balance: .zero)
        try books.reset(key("USD", "BINANCE"), balance: .zero)
        XCTAssertEqual(books.keys().map(\.description), ["BINANCE USD", "KRAKEN BTC", "KRAKEN USDC"])
        XCTAssertEqual(books.exchanges().map(\.description), ["BINANCE", "KRAKEN"])
    }

    func testTheRecordTableRefusesWhenFull() throws {
        let small = TempSegment()
        let b = try small.books(.readWriteCreating(geometry: Geometry(recordCapacity: 2, quoteCapacity: 4, ringCapacity: 16)))
        try b.reset(key("A"), balance: .zero)
        try b.reset(key("B"), balance: .zero)
        assertRefused(.tableFull) { () throws(BooksError) in try b.reset(key("C"), balance: .zero) }
        XCTAssertEqual(b.keys().count, 2)
    }
}
