@testable import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// What `check` says about holds, `reset --drop-holds`, and op ids on reconcile and names
/// (SPEC §9): the parts of the holds issue around the hold operations themselves.
final class HoldsRepairTests: HoldsTestCase {
    func name(_ s: String) -> ShortName { try! ShortName(s, kind: .label) }

    func testCheckFlagsHeldOverBudgetAsBrokenAndExpiredHoldsAsANotice() throws {
        XCTAssertEqual(try books.get(usdc).problems, [])
        try books.hold(usdc, index: 2, Amount("500"), id: id("ttl"), ttlMicros: 10_000)
        try books.hold(usdc, index: 3, Amount("100"), id: id("keep"))
        usleep(30_000)
        let r = try books.get(usdc)
        XCTAssertEqual(r.expiredHolds, [0, 0, 1, 0, 0])
        XCTAssertEqual(r.problems, [.expiredHolds(slot: 2, count: 1)])
        XCTAssertEqual(r.problems.first?.description, "sub-strategy #2 has 1 expired hold not yet voided (the record's next writer voids it)")
        XCTAssertFalse(r.isBroken, "an expired hold leaves the books right")
        try books.receive(usdc, index: 4, Amount("1"))  // the next writer voids it
        XCTAssertEqual(try books.get(usdc).problems, [])

        // Damage: #3's held sum above its budget, written into the published copy as a bug would.
        let rec = try XCTUnwrap(books.record(usdc))
        let cur = rec.stateLatch.lockedCurrent
        cur.storeAmount(Amount("1500"), Layout.State.held + Layout.amountSize * 3)
        let damaged = try books.get(usdc)
        XCTAssertEqual(damaged.problems, [.heldOutOfRange(slot: 3, held: Amount("1500"), budget: Amount("1000"))])
        XCTAssertEqual(damaged.problems.first?.description, "sub-strategy #3 holds 1500.00 in open orders, more than its budget 1000.00")
        XCTAssertTrue(damaged.isBroken)
        cur.storeAmount(Amount("-1"), Layout.State.held + Layout.amountSize * 3)
        XCTAssertEqual(try books.get(usdc).problems.map(\.description), ["sub-strategy #3 holds a negative amount -1.00"])
    }

    func testResetDroppingHoldsClosesEveryHoldInOnePublish() throws {
        try books.hold(usdc, index: 2, Amount("1500"), id: id("a"))
        try books.hold(usdc, index: 3, Amount("250"), id: id("b"), ttlMicros: 600_000_000)
        let ops = try books.get(usdc).state.opCount
        try books.reset(usdc, balance: Amount("8000"), dropHolds: true)
        XCTAssertEqual(try slots(), ["8000", "8000", "0", "0", "0"])
        XCTAssertEqual(try books.holds(usdc), [])
        XCTAssertEqual(try books.get(usdc).held, [Amount](repeating: .zero, count: 5))
        XCTAssertEqual(try books.get(usdc).holdCounts, [0, 0, 0, 0, 0])
        XCTAssertEqual(try books.get(usdc).state.opCount, ops + 1, "one publish")
        assertRefused(.unknownHold) { () throws(BooksError) in try self.books.void(self.usdc, id: self.id("a")) }
        // The dropped ids can open new holds; the table entries were freed.
        try books.allocate(usdc, index: 2, Amount("100"))
        try books.hold(usdc, index: 2, Amount("100"), id: id("c"))
        XCTAssertEqual(try books.holds(usdc).map(\.id.description), ["c"])
        // Dropping holds lets a reset shrink the count over slots that had them.
        try books.reset(usdc, balance: Amount("8000"), strategyCount: 2, dropHolds: true)
        XCTAssertEqual(try slots(), ["8000", "8000"])
        XCTAssertTrue(try books.get(usdc).identityHolds)
    }

    func testAReconcileWithAnOpIdAppliesOnceAndAnswersTheSame() throws {
        let first = try books.reconcile(usdc, exchangeBalance: Amount("9000"), opId: id("rc1"))
        XCTAssertEqual(first, .repaired(delta: Amount("-1000"), pool: Amount("6000")))
        try books.allocate(usdc, index: 4, Amount("100"))
        // The retry of a reconcile that was applied: the first answer, nothing applied again (a
        // second reconcile to 9000 now would be "in sync" and say nothing of the first).
        XCTAssertEqual(try books.reconcile(usdc, exchangeBalance: Amount("9000"), opId: id("rc1")), first)
        XCTAssertEqual(try slots(), ["9000", "5900", "2000", "1000", "100"])
        assertRefusedUnchanged(books, .opIdReused, "other balance") { () throws(BooksError) in
            _ = try self.books.reconcile(self.usdc, exchangeBalance: Amount("9001"), opId: self.id("rc1"))
        }
        // In sync is remembered too (nothing changed, the id is kept all the same).
        XCTAssertEqual(try books.reconcile(usdc, exchangeBalance: Amount("9000"), opId: id("rc2")), .inSync)
        try books.adjust(usdc, Amount("5"))
        XCTAssertEqual(try books.reconcile(usdc, exchangeBalance: Amount("9000"), opId: id("rc2")), .inSync)
        XCTAssertEqual(try slots()[0], "9005", "the replay applied nothing")
        // A reset's kind and figures come back (its dropped list does not: docs/holds.md).
        let reset = try books.reconcile(usdc, exchangeBalance: Amount("10"), opId: id("rc3"))
        guard case .reset(let d, let pool, let dropped) = reset else { return XCTFail("\(reset)") }
        XCTAssertFalse(dropped.isEmpty)
        XCTAssertEqual(try books.reconcile(usdc, exchangeBalance: Amount("10"), opId: id("rc3")), .reset(delta: d, unrepairedPool: pool, dropped: []))
        // Creating: a reconcile of a currency without a record.
        let btc = key("BTC")
        XCTAssertEqual(try books.reconcile(btc, exchangeBalance: Amount("2"), opId: id("rc4")), .created(balance: Amount("2")))
        XCTAssertEqual(try books.reconcile(btc, exchangeBalance: Amount("2"), opId: id("rc4")), .created(balance: Amount("2")))
    }

    func testANameWithAnOpIdAppliesOnceAndRefusesOtherArguments() throws {
        let ops = try books.get(usdc).state.opCount
        try books.setName(usdc, index: 2, self.name("mm-1"), opId: id("n1"))
        try books.setName(usdc, index: 2, self.name("mm-1"), opId: id("n1"))
        XCTAssertEqual(try books.get(usdc).names[2].description, "mm-1")
        XCTAssertEqual(try books.get(usdc).state.opCount, ops, "names move no money")
        XCTAssertEqual(try books.get(usdc).opIdsRemembered, 1)
        assertRefusedUnchanged(books, .opIdReused, "other name") { () throws(BooksError) in
            try self.books.setName(self.usdc, index: 2, self.name("mm-2"), opId: self.id("n1"))
        }
        assertRefusedUnchanged(books, .opIdReused, "other slot") { () throws(BooksError) in
            try self.books.setName(self.usdc, index: 3, self.name("mm-1"), opId: self.id("n1"))
        }
        // A refused name is remembered as refused.
        assertRefused(.indexOutOfRange) { () throws(BooksError) in try self.books.setName(self.usdc, index: 9, self.name("x"), opId: self.id("n2")) }
        try books.setStrategyCount(usdc, 10)
        assertRefused(.indexOutOfRange) { () throws(BooksError) in try self.books.setName(self.usdc, index: 9, self.name("x"), opId: self.id("n2")) }
        XCTAssertEqual(try books.get(usdc).names[9], .empty)
    }
}
