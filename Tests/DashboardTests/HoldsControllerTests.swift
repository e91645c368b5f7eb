import Foundation
import ShmBalance
import ShmBalanceDashboard
import ShmBalanceTestSupport
import XCTest

/// The holds view's keys without a terminal: a real segment with holds made through the core,
/// the `Controller` the live loop drives, and the books read back through the core.
final class HoldsControllerTests: SeededTopTestCase {
    let usdc = key("USDC")

    override func setUp() {
        super.setUp()
        // The seed: #2 grid-bot 2,000, #3 arb 3,000. #2 holds 1,200 + 300, #3 holds 2,500.
        try! books.hold(usdc, index: 2, Amount("1200"), id: try! HoldId("ord-7f3a"))
        try! books.hold(usdc, index: 2, Amount("300"), id: try! HoldId("ord-7f3b"))
        try! books.hold(usdc, index: 3, Amount("2500"), id: try! HoldId("arb-991"))
    }

    func controller(readOnly: Bool = false) throws -> Controller {
        let b = readOnly ? try segment.books(.readOnly) : books!
        return try Controller(books: b, ui: UIState(selectedKey: usdc, selectedSlot: 2))
    }

    func type(_ c: inout Controller, _ text: String) {
        for ch in text { c.handle(.char(ch)) }
    }

    func ids(_ index: Int) throws -> [String] { try books.holds(usdc, index: index).map(\.id.description) }
    func free(_ index: Int) throws -> Amount { try books.slotHolds(usdc)[index].free }

    func testTheSelectedCurrencysHoldsAreReadWithIt() throws {
        var c = try controller()
        XCTAssertEqual(c.world.holds?.key, usdc)
        XCTAssertEqual(c.world.holds?.holds.count, 3)
        // Another process opens one: the next tick reads it (the record's op count moved).
        try books.hold(usdc, index: 4, Amount("10"), id: try HoldId("mm-1"))
        c.refresh()
        XCTAssertEqual(c.world.holds?.holds.count, 4)
        // Another currency selected: its holds (none), never USDC's.
        c.handle(.left)
        XCTAssertNotEqual(c.ui.selectedRecord(in: c.world)?.key, usdc)
        XCTAssertEqual(c.world.holds?.key, c.ui.selectedRecord(in: c.world)?.key)
        XCTAssertEqual(c.world.holds?.holds, [])
    }

    func testVoidingNeedsTheExactIdTyped() throws {
        var c = try controller()
        c.handle(.char("h"))
        XCTAssertEqual(c.ui.holdsView, HoldsViewState(key: usdc, slot: 2))
        c.handle(.char("j"))
        c.handle(.char("v"))
        XCTAssertEqual(c.ui.prompt?.kind, .voidHold(id: try HoldId("ord-7f3b"), index: 2, amount: Amount("300")), "the second hold is selected")

        // A wrong id: the prompt closes with a message, nothing is voided.
        let before = try books.get(usdc)
        type(&c, "ord-7f3a")
        c.handle(.enter)
        XCTAssertNil(c.ui.prompt)
        XCTAssertEqual(c.ui.status?.kind, .error)
        XCTAssertEqual(c.ui.status?.text, "void cancelled: typed 'ord-7f3a', not the hold's id; nothing changed")
        XCTAssertEqual(try ids(2), ["ord-7f3a", "ord-7f3b"])
        XCTAssertEqual(try books.get(usdc), before)
        XCTAssertNotNil(c.ui.holdsView, "the view stays open")

        // Esc: cancelled, nothing voided.
        c.handle(.char("v"))
        type(&c, "ord-7f3b")
        c.handle(.escape)
        XCTAssertNil(c.ui.prompt)
        XCTAssertEqual(c.ui.status?.text, "cancelled")
        XCTAssertEqual(try ids(2), ["ord-7f3a", "ord-7f3b"])

        // The exact id (spaces around it dropped, as the CLI's shell would): voided through the core.
        c.handle(.char("v"))
        type(&c, " ord-7f3b ")
        c.handle(.enter)
        XCTAssertEqual(c.ui.status?.kind, .ok, c.ui.status?.text ?? "")
        XCTAssertEqual(c.ui.status?.text, "voided hold ord-7f3b (300.00) on KRAKEN USDC #2: free now 800.00")
        XCTAssertEqual(try ids(2), ["ord-7f3a"])
        XCTAssertEqual(try free(2), Amount("800"))
        XCTAssertEqual(try books.get(usdc).slots, before.slots, "a void moves no budget")
        XCTAssertEqual(c.world.holds?.of(slot: 2).map(\.id.description), ["ord-7f3a"], "the view is re-read at once")

        c.handle(.escape)
        XCTAssertNil(c.ui.holdsView)
    }

    /// The hold went away (filled by its strategy) between the prompt and Enter: the core's refusal.
    func testTheCoresRefusalIsShown() throws {
        var c = try controller()
        c.handle(.char("h"))
        c.handle(.char("v"))
        try books.fill(usdc, id: try HoldId("ord-7f3a"), Amount("1200"), final: true)
        type(&c, "ord-7f3a")
        c.handle(.enter)
        XCTAssertEqual(c.ui.status?.kind, .error)
        XCTAssert(c.ui.status?.text.contains("no open hold ") ?? false, c.ui.status?.text ?? "")
    }

    func testHoldsNeedASubStrategyAndVoidAHold() throws {
        var c = try controller()
        c.handle(.char("k"))
        c.handle(.char("h"))
        XCTAssertNil(c.ui.holdsView)
        XCTAssertEqual(c.ui.status?.text, "holds are kept by sub-strategies: select slot #2 or later (↑↓)")
        c.handle(.char("j"))
        c.handle(.char("j"))
        c.handle(.char("j"))
        c.handle(.char("h"))
        XCTAssertEqual(c.ui.holdsView?.slot, 4)
        c.handle(.char("v"))
        XCTAssertNil(c.ui.prompt)
        XCTAssertEqual(c.ui.status?.text, "no open hold on KRAKEN USDC #4 to void")
    }

    func testReadOnlyCannotVoid() throws {
        var c = try controller(readOnly: true)
        c.handle(.char("h"))
        XCTAssertNotNil(c.ui.holdsView, "watching holds is not a write")
        c.handle(.char("v"))
        XCTAssertNil(c.ui.prompt)
        XCTAssertEqual(c.ui.status?.text, "read-only: void is off (attached with --read-only)")
        XCTAssertEqual(try ids(2), ["ord-7f3a", "ord-7f3b"])
    }

    func testTheHoldsViewMovesAndClamps() throws {
        var c = try controller()
        // The table holds 16 (Layout.minHolds): 3 are open already.
        for i in 0..<12 { try books.hold(usdc, index: 4, Amount("1"), id: try HoldId("mm-\(i)")) }
        c.refresh()
        for _ in 0..<2 { c.handle(.char("j")) }
        c.handle(.char("h"))
        c.holdsPage = 5
        c.handle(.pageDown)
        XCTAssertEqual(c.ui.holdsView?.selected, 5)
        c.handle(.end)
        XCTAssertEqual(c.ui.holdsView?.selected, 11)
        c.handle(.down)
        XCTAssertEqual(c.ui.holdsView?.selected, 11, "stops at the end")
        c.handle(.pageUp)
        c.handle(.pageUp)
        c.handle(.pageUp)
        XCTAssertEqual(c.ui.holdsView?.selected, 0)
        c.handle(.char("k"))
        XCTAssertEqual(c.ui.holdsView?.selected, 0, "stops at the top")
        c.handle(.char("h"))
        XCTAssertNil(c.ui.holdsView, "h closes it too")
    }

    /// A release cannot take a budget below what its holds keep: the prompt says how much it can.
    func testTheReleasePromptSaysWhatIsFree() throws {
        var c = try controller()
        c.handle(.char("r"))
        let text = dialogText(Render.frame(c.world, c.ui, Size(width: 120, height: 35)), "Release")
        XCTAssert(text.contains("Its budget is 2,000.00, 1,500.00 of it held by 2 open holds: the most it can release is its free 500.00."), text)
    }

    /// A reset keeps holds (SPEC §9): the prompt and the result say so instead of "every budget dropped".
    func testAResetSaysItKeepsTheHolds() throws {
        var c = try controller()
        c.handle(.char("R"))
        let size = Size(width: 120, height: 35)
        XCTAssert(dialogText(Render.frame(c.world, c.ui, size), "Reset").contains("each budget to what its open holds keep (4,000.00 in all)"))
        type(&c, "12000")
        c.handle(.enter)
        let confirm = dialogText(Render.frame(c.world, c.ui, size), "Reset")
        XCTAssert(confirm.contains("the budgets (6,000.00) dropped to what their open holds keep (4,000.00), the pool gets the rest."), confirm)
        type(&c, "USDC")
        c.handle(.enter)
        XCTAssertEqual(c.ui.status?.text, "KRAKEN USDC reset to 12,000.00: budgets dropped but 4,000.00 kept by open holds")
        XCTAssertEqual(try books.get(usdc).slots, [Amount("12000"), Amount("8000"), Amount("1500"), Amount("2500"), .zero])
        XCTAssertEqual(try books.holds(usdc).count, 3)
    }

    /// The selection stays on its hold when one listed before it closes.
    func testTheSelectionFollowsItsHold() throws {
        try books.hold(usdc, index: 2, Amount("100"), id: try HoldId("ord-7f3c"))
        var c = try controller()
        c.handle(.char("h"))
        c.handle(.down)
        XCTAssertEqual(c.ui.holdsView?.selectedId, try HoldId("ord-7f3b"))
        try books.void(usdc, id: try HoldId("ord-7f3a"))
        c.refresh()
        c.handle(.char("v"))
        XCTAssertEqual(c.ui.prompt?.kind, .voidHold(id: try HoldId("ord-7f3b"), index: 2, amount: Amount("300")))
    }

    /// A fill takes money out of the budget: the slot's history (Enter) shows it, with the holds and voids.
    func testTheSlotsHistoryShowsItsHoldsFillsAndVoids() throws {
        try books.fill(usdc, id: try HoldId("ord-7f3a"), Amount("100"))
        try books.void(usdc, id: try HoldId("ord-7f3b"))
        try books.receive(usdc, index: 2, Amount("40"))
        var c = try controller()
        c.handle(.enter)
        let ops = c.world.history?.entries.compactMap { $0.operation?.description } ?? []
        XCTAssertEqual(Array(ops.suffix(5)), ["hold", "hold", "fill", "void", "receive"], "\(ops)")
        XCTAssertEqual(c.world.history?.values.suffix(3), [Amount("1900"), Amount("1900"), Amount("1940")])
    }

    /// The holds view's table is its own: each key dispatches to its binding, none twice, and its
    /// key line holds nothing else.
    func testTheHoldsViewsKeyTable() {
        var seen = Set<Key>()
        for b in Keys.holdsView {
            for k in b.keys {
                XCTAssert(seen.insert(k).inserted, "\(k) is bound twice")
                XCTAssertEqual(Keys.binding(for: k, in: Keys.holdsView)?.action, b.action)
            }
        }
        for readOnly in [false, true] {
            let items = Keys.keyLine(Keys.holdsView, width: 80, glyphs: .unicode, readOnly: readOnly)
            XCTAssertEqual(items.map(\.label), readOnly ? ["hold", "close", "quit"] : ["hold", "void", "close", "quit"])
        }
    }

    /// The hold columns stay once a currency had holds: the panel does not jump as the last one closes.
    func testTheHoldColumnsStayWhenTheLastHoldCloses() throws {
        var c = try controller()
        let size = Size(width: 120, height: 35)
        XCTAssert(Render.frame(c.world, c.ui, size).text.contains("HELD"))
        for id in ["ord-7f3a", "ord-7f3b", "arb-991"] { try books.void(usdc, id: try HoldId(id)) }
        c.refresh()
        let after = Render.frame(c.world, c.ui, size)
        XCTAssert(after.text.contains("HELD") && after.line(34).contains("h holds"), after.text)
        XCTAssertFalse(Render.frame(try controller().world, c.ui, size).text.contains("HELD"), "a new session starts without them")
    }

    /// A hold past its ttl is marked until a writer voids it, with nobody writing to the record.
    func testAnExpiredHoldIsMarkedFromTheSegment() throws {
        try books.hold(usdc, index: 4, Amount("5"), id: try HoldId("mm-ttl"), ttlMicros: 1_000)
        usleep(5_000)
        var c = try controller()
        XCTAssertEqual(c.world.holds?.of(slot: 4).map(\.expired), [true], "the core says so as it reads")
        c.ui.selectedSlot = 4
        let grid = Render.frame(c.world, c.ui, Size(width: 120, height: 35))
        XCTAssert(grid.text.contains("! 1 hold expired"), grid.text)
        c.handle(.char("h"))
        XCTAssert(Render.frame(c.world, c.ui, Size(width: 120, height: 35)).text.contains("EXPIRED"))
    }
}
