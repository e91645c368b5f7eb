@testable import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// Holds, fills, voids, receipts and expiry (SPEC §9), with every refusal, on a real segment.
final class HoldsTests: HoldsTestCase {
    func held(_ i: Int) throws -> (held: String, free: String, count: Int) {
        let h = try books.slotHolds(usdc)[i]
        return (h.held.exactText, h.free.exactText, h.count)
    }

    /// The identity, and 0 ≤ held ≤ budget on every slot, from one copy.
    func assertSound(file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertTrue(try books.get(usdc).identityHolds, "identity", file: file, line: line)
        for (i, h) in try books.slotHolds(usdc).enumerated() where i >= 2 {
            XCTAssertTrue(h.held.raw >= 0 && h.held.raw <= h.budget.raw, "#\(i) held \(h.held) budget \(h.budget)", file: file, line: line)
        }
        // The table agrees with the sums.
        var sums = [Int128](repeating: 0, count: 64)
        for h in try books.holds(usdc) { sums[h.index] += h.amount.raw }
        for (i, s) in try books.slotHolds(usdc).enumerated() { XCTAssertEqual(s.held.raw, sums[i], "#\(i) table vs sums", file: file, line: line) }
    }

    func testHoldKeepsPartOfTheBudgetAndShowsHeldAndFree() throws {
        try books.hold(usdc, index: 2, Amount("1500"), id: id("order-1"))
        XCTAssertEqual(try slots(), ["10000", "7000", "2000", "1000", "0"], "a hold moves no money")
        XCTAssertEqual(try held(2).held, "1500")
        XCTAssertEqual(try held(2).free, "500")
        XCTAssertEqual(try held(2).count, 1)
        let list = try books.holds(usdc)
        XCTAssertEqual(list.map(\.id.description), ["order-1"])
        XCTAssertEqual(list.first?.index, 2)
        XCTAssertEqual(list.first?.amount, Amount("1500"))
        XCTAssertNil(list.first?.expiresMicros)
        XCTAssertEqual(try books.holds(usdc, index: 3), [])
        // get: held, free and counts from the same copy as the slots; the op-id window.
        let r = try books.get(usdc)
        XCTAssertEqual(r.held.map(\.exactText), ["0", "0", "1500", "0", "0"])
        XCTAssertEqual(r.free.map(\.exactText), ["10000", "7000", "500", "1000", "0"])
        XCTAssertEqual(r.holdCounts, [0, 0, 1, 0, 0])
        XCTAssertEqual(r.opIdWindow, Layout.minOpIdWindow)
        XCTAssertEqual(r.opIdsRemembered, 1, "the hold's id")
        try assertSound()
    }

    func testHoldRefusals() throws {
        try books.hold(usdc, index: 2, Amount("1500"), id: id("a"))
        assertRefusedUnchanged(books, .exceedsFree, "beyond free") { () throws(BooksError) in try books.hold(usdc, index: 2, Amount("500.000000000000000001"), id: id("b")) }
        let r = assertRefused(.exceedsFree) { () throws(BooksError) in try books.hold(usdc, index: 3, Amount("1000.5"), id: id("c")) }
        XCTAssertEqual(r?.description, "KRAKEN USDC #3: hold 1000.50 exceeds its free budget 1000.00 (budget − held)")
        assertRefusedUnchanged(books, .notASubStrategy, "the pool") { () throws(BooksError) in try books.hold(usdc, index: 1, Amount("1"), id: id("d")) }
        assertRefusedUnchanged(books, .notASubStrategy, "beyond the count") { () throws(BooksError) in try books.hold(usdc, index: 5, Amount("1"), id: id("d2")) }
        assertRefusedUnchanged(books, .nonPositiveAmount, "zero") { () throws(BooksError) in try books.hold(usdc, index: 2, .zero, id: id("d3")) }
        // The id is the hold's op id: other arguments are refused as a reused op id while the window remembers it …
        assertRefusedUnchanged(books, .opIdReused, "same id, other slot") { () throws(BooksError) in try books.hold(usdc, index: 3, Amount("1500"), id: id("a")) }
        assertRefusedUnchanged(books, .opIdReused, "same id, other amount") { () throws(BooksError) in try books.hold(usdc, index: 2, Amount("100"), id: id("a")) }
        // … and, once it has forgotten, by the open hold itself.
        for i in 0..<Layout.minOpIdWindow { try books.receive(usdc, index: 4, Amount("1"), opId: id("r\(i)")) }
        assertRefusedUnchanged(books, .holdIdInUse, "open hold, id forgotten") { () throws(BooksError) in try books.hold(usdc, index: 3, Amount("1500"), id: id("a")) }
        try books.hold(usdc, index: 2, Amount("1500"), id: id("a"))  // as opened: still a replay
        assertRefused(.noRecord) { () throws(BooksError) in try books.hold(key("EUR"), index: 2, Amount("1"), id: id("e")) }
        XCTAssertThrowsError(try HoldId(""))
        XCTAssertThrowsError(try HoldId(String(repeating: "x", count: 33)))
        XCTAssertThrowsError(try HoldId("has space"))
        XCTAssertEqual(try HoldId(String(repeating: "x", count: 32)).description.count, 32)
        XCTAssertThrowsError(try books.hold(usdc, index: 2, Amount("1"), id: id("f"), ttlMicros: 0))
        try assertSound()
    }

    func testTheSameHoldAgainIsAReplay() throws {
        try books.hold(usdc, index: 2, Amount("1500"), id: id("a"), ttlMicros: 60_000_000)
        let ops = try books.get(usdc).state.opCount
        try books.hold(usdc, index: 2, Amount("1500"), id: id("a"), ttlMicros: 60_000_000)
        XCTAssertEqual(try books.get(usdc).state.opCount, ops, "nothing applied")
        XCTAssertEqual(try held(2).held, "1500")
        XCTAssertEqual(try books.holds(usdc).count, 1)
    }

    func testTheHoldTableIsBounded() throws {
        try books.adjust(usdc, Amount("100000"), index: 4)
        for i in 0..<Layout.minHolds { try books.hold(usdc, index: 4, Amount("1"), id: id("h\(i)")) }
        assertRefusedUnchanged(books, .holdTableFull, "full") { () throws(BooksError) in try books.hold(usdc, index: 4, Amount("1"), id: id("one-more")) }
        // A partial fill of a full table still has its spare entry.
        let out = try books.fill(usdc, id: id("h0"), Amount("0.5"))
        XCTAssertEqual(out.fromHold, Amount("0.5"))
        try books.void(usdc, id: id("h1"))
        // The refused call is remembered under its id (the same refusal again); another id gets in.
        assertRefused(.holdTableFull) { () throws(BooksError) in try books.hold(usdc, index: 4, Amount("1"), id: id("one-more")) }
        try books.hold(usdc, index: 4, Amount("1"), id: id("another"))
        XCTAssertEqual(try held(4).count, Layout.minHolds)
        try assertSound()
    }

    func testPartialThenFinalFill() throws {
        try books.hold(usdc, index: 2, Amount("1500"), id: id("o"))
        let first = try books.fill(usdc, id: id("o"), Amount("600"), fee: Amount("1.5"))
        XCTAssertEqual(first, FillOutcome(fromHold: Amount("601.5"), fromFree: .zero, fromPool: .zero, closed: false))
        XCTAssertEqual(try slots(), ["9398.5", "7000", "1398.5", "1000", "0"], "budget and total fall by amount + fee")
        XCTAssertEqual(try held(2).held, "898.5")
        XCTAssertEqual(try books.holds(usdc).first?.amount, Amount("898.5"))
        try assertSound()
        let last = try books.fill(usdc, id: id("o"), Amount("400"), final: true)
        XCTAssertEqual(last, FillOutcome(fromHold: Amount("400"), fromFree: .zero, fromPool: .zero, closed: true))
        XCTAssertEqual(try slots(), ["8998.5", "7000", "998.5", "1000", "0"])
        XCTAssertEqual(try held(2).held, "0", "the rest of the hold returned to free")
        XCTAssertEqual(try held(2).count, 0)
        XCTAssertEqual(try books.holds(usdc), [])
        assertRefusedUnchanged(books, .unknownHold, "fill after final") { () throws(BooksError) in _ = try books.fill(usdc, id: id("o"), Amount("1")) }
        try assertSound()
    }

    func testAFillWhoseFeeOverrunsTheHoldTakesFreeThenPool() throws {
        try books.hold(usdc, index: 3, Amount("900"), id: id("o"))   // #3: budget 1000, free 100
        let out = try books.fill(usdc, id: id("o"), Amount("900"), fee: Amount("250"), final: true)
        XCTAssertEqual(out.fromHold, Amount("900"))
        XCTAssertEqual(out.fromFree, Amount("100"))
        XCTAssertEqual(out.fromPool, Amount("150"))
        XCTAssertEqual(out.overrun, Amount("250"))
        XCTAssertEqual(try slots(), ["8850", "6850", "2000", "0", "0"])
        let entry = try XCTUnwrap(books.activity(limit: 1).last)
        XCTAssertEqual(entry.operation, .fill)
        XCTAssertEqual(entry.detail, Amount("250"), "the overrun is recorded")
        try assertSound()
    }

    func testAFillOfNegativeOrUnknownIsRefused() throws {
        try books.hold(usdc, index: 2, Amount("100"), id: id("o"))
        assertRefusedUnchanged(books, .negativeFill, "amount") { () throws(BooksError) in _ = try books.fill(usdc, id: id("o"), Amount("-1")) }
        assertRefusedUnchanged(books, .negativeFill, "fee") { () throws(BooksError) in _ = try books.fill(usdc, id: id("o"), Amount("1"), fee: Amount("-1")) }
        assertRefusedUnchanged(books, .unknownHold, "unknown") { () throws(BooksError) in _ = try books.fill(usdc, id: id("nope"), Amount("1")) }
    }

    func testVoidReturnsTheHoldAndTwiceIsRefused() throws {
        try books.hold(usdc, index: 2, Amount("1500"), id: id("o"))
        try books.void(usdc, id: id("o"))
        XCTAssertEqual(try held(2).held, "0")
        XCTAssertEqual(try held(2).free, "2000")
        XCTAssertEqual(try slots(), ["10000", "7000", "2000", "1000", "0"])
        assertRefusedUnchanged(books, .unknownHold, "void twice") { () throws(BooksError) in try books.void(usdc, id: id("o")) }
        // A hold's id is its op id: within the window it names that first hold for good.
        assertRefusedUnchanged(books, .opIdReused, "reused") { () throws(BooksError) in try books.hold(usdc, index: 3, Amount("10"), id: id("o")) }
        try assertSound()
    }

    func testReceiveRaisesTheBudgetAndTheTotalNotThePool() throws {
        try books.receive(usdc, index: 2, Amount("250.25"))
        XCTAssertEqual(try slots(), ["10250.25", "7000", "2250.25", "1000", "0"])
        assertRefusedUnchanged(books, .notASubStrategy, "pool") { () throws(BooksError) in try books.receive(usdc, index: 1, Amount("1")) }
        assertRefusedUnchanged(books, .nonPositiveAmount, "zero") { () throws(BooksError) in try books.receive(usdc, index: 2, .zero) }
    }

    func testReleaseSetAndAdjustNeverGoBelowHeld() throws {
        try books.hold(usdc, index: 2, Amount("1500"), id: id("o"))
        let r = assertRefusedUnchanged(books, .belowHeld, "release") { () throws(BooksError) in try books.release(usdc, index: 2, Amount("501")) }
        XCTAssertEqual(r?.detail, Amount("1500"))
        XCTAssertEqual(r?.description, "KRAKEN USDC #2 holds 1500.00 in open orders: release 501.00 would take its budget below that")
        assertRefusedUnchanged(books, .exceedsBudget, "beyond the budget") { () throws(BooksError) in try books.release(usdc, index: 2, Amount("2001")) }
        try books.release(usdc, index: 2, Amount("500"))
        assertRefusedUnchanged(books, .belowHeld, "set") { () throws(BooksError) in try books.set(usdc, Amount("1499"), index: 2) }
        assertRefusedUnchanged(books, .belowHeld, "adjust") { () throws(BooksError) in try books.adjust(usdc, Amount("-1"), index: 2) }
        try books.set(usdc, Amount("1500"), index: 2)
        // The total and the pool are not held: they move freely.
        try books.adjust(usdc, Amount("-9000"))
        try assertSound()
    }

    func testResetKeepsHoldsAndLeavesEachBudgetAtItsHeldAmount() throws {
        try books.hold(usdc, index: 2, Amount("1500"), id: id("a"))
        try books.hold(usdc, index: 3, Amount("250"), id: id("b"))
        let epoch = try books.get(usdc).epoch
        try books.reset(usdc, balance: Amount("8000"))
        XCTAssertEqual(try slots(), ["8000", "6250", "1500", "250", "0"])
        XCTAssertEqual(try books.get(usdc).epoch, epoch + 1)
        XCTAssertEqual(try books.holds(usdc).map(\.id.description).sorted(), ["a", "b"])
        XCTAssertEqual(try held(2).free, "0")
        // Shrinking the count over a slot with holds is refused.
        assertRefusedUnchanged(books, .shrinkOverNonZero, "count") { () throws(BooksError) in try books.reset(usdc, balance: Amount("8000"), strategyCount: 3) }
        try books.fill(usdc, id: id("a"), Amount("1500"), final: true)
        try assertSound()
    }

    func testReconcileKeepsHolds() throws {
        try books.hold(usdc, index: 2, Amount("1500"), id: id("a"))
        // Repaired: budgets stay, the pool absorbs the difference.
        XCTAssertEqual(try books.reconcile(usdc, exchangeBalance: Amount("9000")), .repaired(delta: Amount("-1000"), pool: Amount("6000")))
        XCTAssertEqual(try held(2).held, "1500")
        // Beyond repair: the reset keeps the held part of each budget and drops the free part.
        let out = try books.reconcile(usdc, exchangeBalance: Amount("100"))
        guard case .reset(_, _, let dropped) = out else { return XCTFail("\(out)") }
        XCTAssertEqual(dropped, [DroppedBudget(index: 2, amount: Amount("500")), DroppedBudget(index: 3, amount: Amount("1000"))])
        XCTAssertEqual(try slots(), ["100", "-1400", "1500", "0", "0"])
        XCTAssertEqual(try books.holds(usdc).count, 1)
        try assertSound()
    }

    func testAnExpiredHoldIsShownExpiredThenVoidedByTheNextWriter() throws {
        try books.hold(usdc, index: 2, Amount("1500"), id: id("short"), ttlMicros: 20_000)
        try books.hold(usdc, index: 2, Amount("100"), id: id("long"), ttlMicros: 600_000_000)
        XCTAssertEqual(try books.holds(usdc).map(\.expired), [false, false])
        usleep(40_000)
        let shown = try books.holds(usdc)
        XCTAssertEqual(shown.first { $0.id == id("short") }?.expired, true, "shown expired until a writer comes")
        XCTAssertEqual(try held(2).held, "1600")
        try books.receive(usdc, index: 3, Amount("1"))  // any hold operation is the next writer
        XCTAssertEqual(try books.holds(usdc).map(\.id.description), ["long"])
        XCTAssertEqual(try held(2).held, "100")
        XCTAssertEqual(try slots(), ["10001", "7000", "2000", "1001", "0"], "expiry moves no money")
        assertRefused(.unknownHold) { () throws(BooksError) in _ = try books.fill(usdc, id: id("short"), Amount("1")) }
        XCTAssertTrue(books.activity(limit: 4).contains { $0.operation == .expire })
        try assertSound()
    }

    /// Any writer of the record expires holds, not only hold operations (the hot pair included).
    /// The pair looks only at the head word's expiry bit, so each writer here runs after a
    /// different writer touched the record (the bit must survive each of them).
    func testEveryWriterExpiresDueHolds() throws {
        for (name, write) in [("allocate", { () throws(BooksError) in try self.books.allocate(self.usdc, index: 4, Amount("1")) }),
                              ("release", { () throws(BooksError) in try self.books.release(self.usdc, index: 4, Amount("1")) }),
                              ("set", { () throws(BooksError) in try self.books.set(self.usdc, Amount("10000")) }),
                              ("allocate after a set", { () throws(BooksError) in try self.books.allocate(self.usdc, index: 4, Amount("1")) }),
                              ("release after a receive", { () throws(BooksError) in try self.books.release(self.usdc, index: 4, Amount("1")) }),
                              ("allocate after a config", { () throws(BooksError) in try self.books.allocate(self.usdc, index: 4, Amount("1")) })]
            as [(String, () throws(BooksError) -> Void)] {
            try books.hold(usdc, index: 3, Amount("10"), id: id("ttl-\(name.replacingOccurrences(of: " ", with: "-"))"), ttlMicros: 10_000)
            if name.hasSuffix("a set") { try books.set(usdc, Amount("10000")) }
            if name.hasSuffix("a receive") { try books.receive(usdc, index: 2, Amount("1")) }
            if name.hasSuffix("a config") { _ = try books.applyConfiguration([RecordConfig(key: usdc, creditLimit: Amount("5"))], defaultExchange: nil) }
            usleep(30_000)
            try write()
            XCTAssertEqual(try books.holds(usdc), [], name)
            XCTAssertEqual(try held(3).held, "0", name)
            XCTAssertFalse(HeadWord.mayExpire(books.record(usdc)!.stateLatch.lockedCurrent.loadRelaxed(Layout.State.strategyCount)), name)
        }
        try assertSound()
    }

    /// A restored hold with a ttl expires at the hot pair of the restored books (the restore sets
    /// the head word's expiry bit with the holds it writes).
    func testARestoredHoldWithATtlExpiresAtTheNextRelease() throws {
        try books.hold(usdc, index: 2, Amount("1500"), id: id("due"), ttlMicros: 30_000)
        let file = seg.file("ttl.snapshot")
        _ = try SnapshotFile.save(books, to: file)
        let target = seg.file("restored-ttl")
        _ = try SnapshotFile.restore(from: file, toSegment: target)
        let restored = try Books.open(target, .readWrite)
        usleep(60_000)
        try restored.release(usdc, index: 2, Amount("2000"))  // the whole budget: only once the hold is void
        XCTAssertEqual(try restored.holds(usdc), [])
        XCTAssertEqual(try restored.slotHolds(usdc)[2].budget, .zero)
    }

    /// Snapshots keep open holds: saved with the state they belong to, restored visible and
    /// consistent with the sums, and usable (a fill of a restored hold).
    func testASnapshotKeepsOpenHolds() throws {
        try books.hold(usdc, index: 2, Amount("1500"), id: id("a"), ttlMicros: 600_000_000)
        try books.hold(usdc, index: 3, Amount("250"), id: id("b"))
        try books.fill(usdc, id: id("b"), Amount("50"))
        let file = seg.file("holds.snapshot")
        let saved = try SnapshotFile.save(books, to: file)
        let text = try String(contentsOfFile: file, encoding: .utf8)
        XCTAssertTrue(text.contains("\n  hold a 2 1500 1500 "), text)
        XCTAssertTrue(text.contains("\n  hold b 3 200 250 "), text)
        XCTAssertEqual(try SnapshotFile.read(file), saved)
        let target = seg.file("restored")
        _ = try SnapshotFile.restore(from: file, toSegment: target)
        let restored = try Books.open(target, .readWrite)
        XCTAssertEqual(try restored.holds(usdc), try books.holds(usdc))
        XCTAssertEqual(try restored.slotHolds(usdc), try books.slotHolds(usdc))
        XCTAssertEqual(try restored.get(usdc).held, try books.get(usdc).held)
        let out = try restored.fill(usdc, id: id("b"), Amount("200"), final: true)
        XCTAssertEqual(out.fromHold, Amount("200"))
        XCTAssertEqual(try restored.holds(usdc).map(\.id.description), ["a"])
        assertRefused(.exceedsFree) { () throws(BooksError) in try restored.hold(usdc, index: 2, Amount("501"), id: id("c")) }
        XCTAssertTrue(try restored.get(usdc).identityHolds)
        // A snapshot whose holds exceed a budget is refused when read.
        let bad = text.replacingOccurrences(of: "  hold a 2 1500 1500 ", with: "  hold a 2 2500 2500 ")
        let badFile = seg.file("bad.snapshot")
        let body = bad.split(separator: "\n").dropLast().joined(separator: "\n") + "\n"
        let sum = String(BooksSnapshot.checksum(Array(body.utf8)), radix: 16)
        try (body + "checksum fnv1a64 \(String(repeating: "0", count: 16 - sum.count) + sum)\n").write(toFile: badFile, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try SnapshotFile.read(badFile)) { XCTAssertTrue("\($0)".contains("exceed its budget"), "\($0)") }
    }

    /// A writer killed after tagging entries but before the publish: the next lock owner scrubs
    /// the tags, so the next publish does not make the dead writer's hold real.
    func testTagsOfAnUnpublishedCommitAreScrubbedOnRecovery() throws {
        try books.hold(usdc, index: 2, Amount("100"), id: id("kept"))
        let rec = try XCTUnwrap(books.record(usdc))
        let table = books.holdTable(rec)
        let g = rec.stateLatch.lockedGeneration
        // What a dead writer leaves: a new entry opened at g + 1 and the open one closed at g + 1.
        let kept = try XCTUnwrap(table.find(id("kept"), in: g))
        let ghost = try XCTUnwrap(table.freeEntry(in: g, from: 0))
        table.open(ghost, id: id("ghost"), slot: 3, amount: Amount("5"), original: Amount("5"), created: 1, expires: 0, at: g + 1)
        table.close(kept, at: g + 1)
        // … and its writer-only index half-updated.
        table.index.insert(id("ghost"), at: ghost)
        table.index.remove(id("kept"), at: kept)
        XCTAssertNil(table.find(id("kept"), in: g))
        books.recovered(rec)  // what the next lock owner does on EOWNERDEAD
        XCTAssertEqual(table.find(id("kept"), in: g), kept, "the index is rebuilt from the entries")
        XCTAssertNil(table.find(id("ghost"), in: g))
        XCTAssertEqual(table.scrub(published: g), 0, "recovery scrubbed both tags")
        try books.receive(usdc, index: 3, Amount("1"))  // publishes g + 1
        XCTAssertEqual(try books.holds(usdc).map(\.id.description), ["kept"])
        try assertSound()
        try books.void(usdc, id: id("kept"))
        assertRefused(.unknownHold) { () throws(BooksError) in try self.books.void(self.usdc, id: self.id("ghost")) }
        try assertSound()
    }
}
