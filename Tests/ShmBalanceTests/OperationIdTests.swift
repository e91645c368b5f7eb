@testable import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// Operation ids (SPEC §9): a replay returns the first result and applies nothing; the same id with
/// other arguments is refused; refusals are remembered too; the window is bounded.
final class OperationIdTests: HoldsTestCase {
    override var startingBudgets: [(Int, String)] { [(2, "2000")] }
    func opCount() throws -> UInt64 { try books.get(usdc).state.opCount }

    /// The digests of slot-only calls come from a table (`OpDigests`): it must be the formula
    /// itself, and the formula must stay what entries already in segments were written with.
    func testThePlainCallDigestsAreTheFormula() throws {
        let op = try OperationId("o-1")
        for i in 0..<Layout.slotCount {
            let full = OpCall(op, .allocate, index: i, amount: Amount("1"))
            XCTAssertEqual(books.plainCall(op, .allocate, index: i, amount: Amount("1")).digest, full.digest)
            XCTAssertEqual(OpDigests.table[i], OpCall.digest(index: i, 0, 0, 0, 0, 0))
        }
        XCTAssertEqual(OpCall.digest(index: 2, 0, 0, 0, 0, 0), 0x5485_5145_EB98_C197)
        XCTAssertEqual(OpCall.digest(index: 63, 0, 0, 0, 0, 0), 0x0A0D_9411_4379_08B8)
        // Outside the table, and with an argument beyond the slot: computed as before.
        for (i, x0) in [(-1, UInt64(0)), (64, 0), (2, 5_000_000)] {
            XCTAssertEqual(books.plainCall(op, .hold, index: i, amount: .zero, x0: x0).digest, OpCall(op, .hold, index: i, amount: .zero, x0).digest)
        }
        XCTAssertEqual(OpCall(op, .allocate, index: 2, amount: .zero).hash, IdIndex.hash(op))
        // Op-id entries keep the hash's high half (`Layout.OpEntry.hashKnown`): it must stay the same.
        XCTAssertEqual(IdIndex.hash(op), 0xA6F4_C010_0920_7E1B)
        XCTAssertEqual(IdIndex.hash(try HoldId("order-00000000000000000000000042")), 0x76B0_B4DB_45B2_46EB)
    }

    func testAHoldReplayedAppliesOnce() throws {
        try books.hold(usdc, index: 2, Amount("500"), id: id("h"))
        let ops = try opCount()
        try books.hold(usdc, index: 2, Amount("500"), id: id("h"))
        XCTAssertEqual(try opCount(), ops)
        XCTAssertEqual(try books.slotHolds(usdc)[2].held, Amount("500"))
        // Even after the hold was filled, the same hold call is the same call: not a second hold.
        try books.fill(usdc, id: id("h"), Amount("500"), final: true)
        try books.hold(usdc, index: 2, Amount("500"), id: id("h"))
        XCTAssertEqual(try books.holds(usdc), [])
    }

    func testAFillReplayedAppliesOnceAndAnswersTheSame() throws {
        try books.hold(usdc, index: 2, Amount("500"), id: id("h"))
        let first = try books.fill(usdc, id: id("h"), Amount("450"), fee: Amount("100"), final: true, opId: id("f1"))
        let after = try slots()
        let again = try books.fill(usdc, id: id("h"), Amount("450"), fee: Amount("100"), final: true, opId: id("f1"))
        XCTAssertEqual(again, first)
        XCTAssertEqual(first.fromFree, Amount("50"))
        XCTAssertEqual(try slots(), after, "applied once")
        let r = assertRefusedUnchanged(books, .opIdReused, "other amount") { () throws(BooksError) in
            _ = try books.fill(usdc, id: id("h"), Amount("1"), opId: id("f1"))
        }
        XCTAssertEqual(r?.description, "op id f1 was already used for fill KRAKEN USDC 450.00")
        // Without an op id, two identical partial fills are two fills.
        try books.hold(usdc, index: 2, Amount("100"), id: id("h2"))
        try books.fill(usdc, id: id("h2"), Amount("10"))
        try books.fill(usdc, id: id("h2"), Amount("10"))
        XCTAssertEqual(try books.holds(usdc).first?.amount, Amount("80"))
    }

    func testAVoidReplayedSucceedsAgain() throws {
        try books.hold(usdc, index: 2, Amount("500"), id: id("h"))
        try books.void(usdc, id: id("h"), opId: id("v"))
        try books.void(usdc, id: id("h"), opId: id("v"))  // not "no open hold": the first answer
        assertRefused(.unknownHold) { () throws(BooksError) in try books.void(usdc, id: id("h")) }
        assertRefused(.opIdReused) { () throws(BooksError) in try books.void(usdc, id: id("other"), opId: id("v")) }
    }

    func testAReceiveReplayedAppliesOnce() throws {
        try books.receive(usdc, index: 2, Amount("7"), opId: id("r"))
        try books.receive(usdc, index: 2, Amount("7"), opId: id("r"))
        XCTAssertEqual(try slots(), ["10007", "8000", "2007", "0", "0"])
        assertRefusedUnchanged(books, .opIdReused, "other slot") { () throws(BooksError) in try books.receive(usdc, index: 3, Amount("7"), opId: id("r")) }
        assertRefusedUnchanged(books, .opIdReused, "another operation") { () throws(BooksError) in try books.void(usdc, id: id("x"), opId: id("r")) }
    }

    func testARefusalIsRememberedAndReplayedAsTheSameRefusal() throws {
        let first = assertRefused(.notASubStrategy) { () throws(BooksError) in try books.receive(usdc, index: 1, Amount("7"), opId: id("bad")) }
        let ops = try opCount()
        let again = assertRefused(.notASubStrategy) { () throws(BooksError) in try books.receive(usdc, index: 1, Amount("7"), opId: id("bad")) }
        XCTAssertEqual(again, first)
        XCTAssertEqual(try opCount(), ops, "a refusal applies nothing")
        // A refused fill stays refused under its id even once the hold exists.
        assertRefused(.unknownHold) { () throws(BooksError) in _ = try books.fill(usdc, id: id("later"), Amount("1"), opId: id("f")) }
        try books.hold(usdc, index: 2, Amount("5"), id: id("later"))
        assertRefused(.unknownHold) { () throws(BooksError) in _ = try books.fill(usdc, id: id("later"), Amount("1"), opId: id("f")) }
    }

    func testTheWindowForgetsTheOldestAndTheIndexSurvivesARebuild() throws {
        try books.receive(usdc, index: 2, Amount("1"), opId: id("first"))
        for i in 1..<Layout.minOpIdWindow { try books.receive(usdc, index: 3, Amount("1"), opId: id("n\(i)")) }
        // Exactly the window: "first" is still remembered.
        try books.receive(usdc, index: 2, Amount("1"), opId: id("first"))
        XCTAssertEqual(try books.get(usdc).slots[2], Amount("2001"))
        // What a new lock owner does after a dead holder: the index from the entries alone.
        let rec = try XCTUnwrap(books.record(usdc))
        books.opLog(rec).rebuild(opSeq: rec.stateLatch.lockedCurrent.loadRelaxed(Layout.State.opSeq))
        try books.receive(usdc, index: 2, Amount("1"), opId: id("first"))
        XCTAssertEqual(try books.get(usdc).slots[2], Amount("2001"))
        // One more id pushes "first" out: the same call applies again.
        try books.receive(usdc, index: 3, Amount("1"), opId: id("push"))
        try books.receive(usdc, index: 2, Amount("1"), opId: id("first"))
        XCTAssertEqual(try books.get(usdc).slots[2], Amount("2002"))
        XCTAssertTrue(try books.get(usdc).identityHolds)
    }

    /// Each entry keeps its id's hash (`Layout.OpEntry.hashKnown`), and the writer that overwrites
    /// it drops it from the index from that hash; entries written before they kept one (bit 8
    /// clear) are dropped by hashing their id. Either way the index names exactly the live entries and
    /// the spare (the one the next op id overwrites).
    func testTheIndexDropsOverwrittenEntriesWithOrWithoutTheirKeptHash() throws {
        let rec = try XCTUnwrap(books.record(usdc))
        let log = books.opLog(rec)
        func assertIndexIsTheLiveEntries(_ what: String, file: StaticString = #filePath, line: UInt = #line) {
            let opSeq = rec.stateLatch.lockedCurrent.loadRelaxed(Layout.State.opSeq)
            var live = 0
            for p in 0...log.window where log.isLive(p, opSeq: opSeq) {
                live += 1
                XCTAssertEqual(log.find(log.index.idAt(p), opSeq: opSeq), p, "\(what): entry \(p)", file: file, line: line)
            }
            // The spare entry's previous id stays named until its entry is overwritten, no other.
            let spare = log.position(opSeq)
            XCTAssertEqual(log.index.find(log.index.idAt(spare)) { $0 == spare }, spare, "\(what): the spare", file: file, line: line)
            let named = (0...log.index.mask).filter { log.index.bucket($0) != 0 }.count
            XCTAssertEqual(named, live + 1, "\(what): buckets beside the entries", file: file, line: line)
        }
        var n = 0
        func run(_ count: Int) throws {
            for _ in 0..<count {
                try books.receive(usdc, index: 2 + n % 3, Amount("1"), opId: id("k\(n)"))
                n += 1
            }
        }
        try run(3 * (log.window + 1) + 5)
        assertIndexIsTheLiveEntries("with kept hashes")
        for p in 0...log.window {
            let w = log.entry(p).loadRelaxed(Layout.OpEntry.resultKind)
            XCTAssertEqual(w & Layout.OpEntry.hashKnown, Layout.OpEntry.hashKnown)
            XCTAssertEqual(w >> 32, IdIndex.hash(log.index.idAt(p)) >> 32)
        }
        // As an older writer left them: the kind alone.
        for p in 0...log.window { log.entry(p).storeRelaxed(0, Layout.OpEntry.resultKind) }
        try run(log.window / 2)
        assertIndexIsTheLiveEntries("half of them without")
        try run(2 * (log.window + 1))
        assertIndexIsTheLiveEntries("all kept again")
        // A replay still finds the last id; the first ones are forgotten and apply again.
        let budget = try books.get(usdc).slots[2 + (n - 1) % 3]
        try books.receive(usdc, index: 2 + (n - 1) % 3, Amount("1"), opId: id("k\(n - 1)"))
        XCTAssertEqual(try books.get(usdc).slots[2 + (n - 1) % 3], budget)
        XCTAssertTrue(try books.get(usdc).identityHolds)
    }

    /// Every other mutation: the same call twice applies once; the same id with other arguments is refused.
    func testEveryMutationKindReplaysAndRefusesReuse() throws {
        typealias Call = () throws(BooksError) -> Void
        let cases: [(String, Call, Call)] = [
            ("allocate", { () throws(BooksError) in try self.books.allocate(self.usdc, index: 3, Amount("100"), opId: self.id("a")) },
                         { () throws(BooksError) in try self.books.allocate(self.usdc, index: 3, Amount("101"), opId: self.id("a")) }),
            ("release", { () throws(BooksError) in try self.books.release(self.usdc, index: 2, Amount("100"), opId: self.id("r")) },
                        { () throws(BooksError) in try self.books.release(self.usdc, index: 3, Amount("100"), opId: self.id("r")) }),
            ("set", { () throws(BooksError) in try self.books.set(self.usdc, Amount("10500"), opId: self.id("s")) },
                    { () throws(BooksError) in try self.books.set(self.usdc, Amount("10500"), index: 1, opId: self.id("s")) }),
            ("adjust", { () throws(BooksError) in try self.books.adjust(self.usdc, Amount("-5"), opId: self.id("j")) },
                       { () throws(BooksError) in try self.books.adjust(self.usdc, Amount("-6"), opId: self.id("j")) }),
            ("credit", { () throws(BooksError) in try self.books.setCreditLimit(self.usdc, Amount("50"), opId: self.id("c")) },
                       { () throws(BooksError) in try self.books.setCreditLimit(self.usdc, Amount("51"), opId: self.id("c")) }),
            ("count", { () throws(BooksError) in try self.books.setStrategyCount(self.usdc, 6, opId: self.id("n")) },
                      { () throws(BooksError) in try self.books.setStrategyCount(self.usdc, 7, opId: self.id("n")) }),
            ("reset", { () throws(BooksError) in try self.books.reset(self.usdc, balance: Amount("9000"), opId: self.id("z")) },
                      { () throws(BooksError) in try self.books.reset(self.usdc, balance: Amount("9000"), strategyCount: 8, opId: self.id("z")) }),
        ]
        for (name, call, other) in cases {
            try call()
            let after = try books.get(usdc)
            try call()
            XCTAssertEqual(try books.get(usdc).state, after.state, "\(name): a replay applies nothing")
            assertRefusedUnchanged(books, .opIdReused, name) { () throws(BooksError) in try other() }
        }
        // A refused allocate stays the same refusal, even once the headroom would allow it.
        let first = assertRefused(.insufficientHeadroom) { () throws(BooksError) in try self.books.allocate(self.usdc, index: 4, Amount("100000"), opId: self.id("big")) }
        try books.adjust(usdc, Amount("1000000"))
        XCTAssertEqual(assertRefused(.insufficientHeadroom) { () throws(BooksError) in try self.books.allocate(self.usdc, index: 4, Amount("100000"), opId: self.id("big")) }, first)
        try books.allocate(usdc, index: 4, Amount("100000"), opId: id("big-2"))
        XCTAssertTrue(try books.get(usdc).identityHolds)
    }
}
