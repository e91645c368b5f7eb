import Foundation
import ShmBalance
import ShmBalanceDashboard
import ShmBalanceTestSupport
import XCTest

/// Golden frames with holds (SPEC §9): held, free and the count per slot; an expired hold marked;
/// the holds view; the void confirmation. Re-record as Golden.swift says.
final class HoldsGoldenTests: XCTestCase {
    override class func setUp() {
        super.setUp()
        setenv("TZ", "UTC", 1)
        tzset()
    }

    func frame(_ world: World, _ ui: UIState = Fixture.healthyUI, _ width: Int = 120, _ height: Int = 35) -> Grid {
        let grid = Render.frame(world, ui, Size(width: width, height: height))
        XCTAssertEqual(grid.size, Size(width: width, height: height))
        return grid
    }

    /// The slot panel's row of slot `i` (its `#` column reads `i`).
    func slotRow(_ grid: Grid, _ i: Int) -> String {
        (0..<grid.height).map(grid.line).first { $0.dropFirst(2).hasPrefix(" \(i) ") } ?? ""
    }

    func testHeldFreeAndCountsBesideEachBudget() {
        let grid = frame(Fixture.withHolds())
        assertGolden(grid, "holds-120x35")
        let text = grid.text
        XCTAssert(text.contains("HELD") && text.contains("FREE") && text.contains("HOLDS"), text)
        let row2 = slotRow(grid, 2), row3 = slotRow(grid, 3)
        XCTAssert(row2.contains("2,000.00") && row2.contains("1,500.00") && row2.contains("500.00"), row2)
        XCTAssert(row3.contains("3,000.00") && row3.contains("2,500.00"), row3)
        XCTAssertFalse(text.contains("expired"), "no hold is past its ttl")
        XCTAssert(grid.line(34).contains("h holds"), "the key line offers the holds view: \(grid.line(34))")
    }

    /// The classic terminal keeps the hold columns; the share bar and ages give way first.
    func testHeldFreeAndCountsAt80Columns() {
        let grid = frame(Fixture.withHolds(), Fixture.healthyUI, 80, 24)
        assertGolden(grid, "holds-80x24")
        let row2 = slotRow(grid, 2)
        XCTAssert(row2.contains("1,500.00") && row2.contains("500.00") && row2.contains("grid-bot"), row2)
    }

    func testAnExpiredHoldIsMarked() {
        let grid = frame(Fixture.expiredHold)
        assertGolden(grid, "holds-expired-120x35")
        XCTAssert(slotRow(grid, 3).contains("1 !"), slotRow(grid, 3))
        XCTAssertFalse(slotRow(grid, 2).contains("!"), "grid-bot's holds are within their ttl")
        XCTAssert(grid.text.contains("! 1 hold expired"), "the panel's title says what ! means")
    }

    /// Books without holds draw what they drew before holds existed (their goldens are unchanged).
    func testBooksWithoutHoldsHaveNoHoldColumns() {
        let grid = frame(Fixture.healthy)
        XCTAssertFalse(grid.text.contains("HELD"))
        XCTAssertFalse(grid.line(34).contains("holds"))
    }

    func testTheHoldsView() {
        var ui = Fixture.healthyUI
        ui.holdsView = HoldsViewState(key: key("USDC"), slot: 2, selected: 1)
        let grid = frame(Fixture.withHolds(), ui)
        assertGolden(grid, "holds-view-120x35")
        let text = grid.text
        XCTAssert(text.contains("Holds · KRAKEN USDC #2 grid-bot · 2 open · held 1,500.00 · free 500.00"), text)
        XCTAssert(text.contains("ord-7f3a") && text.contains("in 4 min") && text.contains("1 min ago"), text)
        XCTAssert(text.contains("ord-7f3b") && text.contains("no ttl") && text.contains("450.00"), text)
        XCTAssertFalse(text.contains("arb-991"), "only the selected slot's holds")
        XCTAssert(grid.line(34).contains("v void") && grid.line(34).contains("Esc close"), "the view's keys: \(grid.line(34))")
    }

    func testTheHoldsViewOfAnExpiredHold() {
        var ui = Fixture.healthyUI
        ui.selectedSlot = 3
        ui.holdsView = HoldsViewState(key: key("USDC"), slot: 3)
        let grid = frame(Fixture.expiredHold, ui)
        XCTAssert(grid.text.contains("arb-991") && grid.text.contains("EXPIRED"), grid.text)
    }

    /// A long list scrolls with the selection, as the panels do, and says which part it shows.
    func testTheHoldsViewScrolls() {
        var ui = Fixture.healthyUI
        ui.holdsView = HoldsViewState(key: key("USDC"), slot: 2, selected: 39)
        let grid = frame(Fixture.manyHolds(40), ui)
        XCTAssert(grid.text.contains("13–40 of 40"), grid.text)
        XCTAssert(grid.text.contains("▶ord-39") || grid.text.contains("▶ ord-39"), grid.text)
        XCTAssertFalse(grid.text.contains("ord-00"), "scrolled: the top of the list is out of view")
        ui.holdsView?.selected = 3
        let top = frame(Fixture.manyHolds(40), ui)
        XCTAssert(top.text.contains("1–28 of 40") && top.text.contains("ord-00") && top.text.contains("EXPIRED"), top.text)
    }

    func testTheVoidConfirmationPrompt() {
        var ui = Fixture.healthyUI
        ui.holdsView = HoldsViewState(key: key("USDC"), slot: 2)
        ui.prompt = Prompt(.voidHold(id: try! HoldId("ord-7f3a"), index: 2, amount: Amount("1200")), key: key("USDC"), input: "ord-7f")
        let grid = frame(Fixture.withHolds(), ui)
        assertGolden(grid, "prompt-void-hold-120x35")
        XCTAssert(grid.text.contains("Void hold · KRAKEN USDC #2 grid-bot"), grid.text)
        let dialog = dialogText(grid, "Void hold")
        XCTAssert(dialog.contains("Hold ord-7f3a keeps 1,200.00 of #2 grid-bot's budget (opened 1 min ago, expires in 4 min)."), dialog)
        XCTAssert(dialog.contains("Type the hold's id to confirm"), dialog)
        XCTAssert(grid.text.contains("ord-7f_"), "the typed text and the cursor")
    }

    /// At the smallest size the hold columns stay (the bar, the ages and the share go first), and
    /// an ASCII-only terminal gets the view and the mark in ASCII.
    func testNarrowAndASCII() {
        let narrow = frame(Fixture.expiredHold, Fixture.healthyUI, 60, 20)
        let row3 = slotRow(narrow, 3)
        XCTAssert(row3.contains("2,500.00") && row3.contains("500.00") && row3.contains("1 !"), narrow.text)
        XCTAssert(narrow.text.contains("! 1 hold expired"), "the title keeps its note:\n\(narrow.text)")
        var ui = Fixture.healthyUI
        ui.glyphs = .ascii
        ui.selectedSlot = 3
        ui.holdsView = HoldsViewState(key: key("USDC"), slot: 3)
        let ascii = frame(Fixture.expiredHold, ui, 80, 24)
        XCTAssert(ascii.text.unicodeScalars.allSatisfy(\.isASCII), ascii.text)
        XCTAssert(ascii.text.contains(">arb-991") && ascii.text.contains("EXPIRED") && ascii.text.contains("Holds - KRAKEN USDC #3 arb"), ascii.text)
    }

    /// Every size with the holds view and the void prompt: no trap, the grid exactly its size.
    func testEverySizeRendersTheHoldsView() {
        var ui = Fixture.healthyUI
        ui.holdsView = HoldsViewState(key: key("USDC"), slot: 2, selected: 7)
        for prompt in [false, true] {
            ui.prompt = prompt ? Prompt(.voidHold(id: try! HoldId("ord-07"), index: 2, amount: Amount("10")), key: key("USDC")) : nil
            for width in stride(from: 1, through: 200, by: 11) {
                for height in stride(from: 1, through: 60, by: 7) {
                    let grid = Render.frame(Fixture.manyHolds(40), ui, Size(width: width, height: height))
                    XCTAssertEqual(grid.cells.count, width * height)
                }
            }
        }
    }
}
