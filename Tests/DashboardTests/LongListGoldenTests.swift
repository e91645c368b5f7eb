import Foundation
import ShmBalance
import ShmBalanceDashboard
import ShmBalanceTestSupport
import XCTest

/// Golden frames for a long currency list (issue 14): 500 currencies scrolled to the middle,
/// filtered, in each sort; the slot history view; the STALE marker. Re-record as Golden.swift says.
final class LongListGoldenTests: XCTestCase {
    override class func setUp() {
        super.setUp()
        setenv("TZ", "UTC", 1)
        tzset()
    }

    func frame(_ world: World, _ ui: UIState, _ width: Int = 120, _ height: Int = 35) -> Grid {
        Render.frame(world, ui, Size(width: width, height: height))
    }

    /// The currency column's entries from top to bottom, as drawn.
    func listedNames(_ grid: Grid) -> [String] {
        var names: [String] = []
        for y in 3..<grid.height {
            let line = grid.line(y)
            guard line.hasPrefix("│"), !line.contains("#  NAME") else { if !names.isEmpty { break } else { continue } }
            let words = line.dropFirst(2).split(separator: " ")
            guard words.count >= 2, words[0] == "BINANCE" || words[0] == "KRAKEN" else { if !names.isEmpty { break } else { continue } }
            names.append("\(words[0]) \(words[1])")
        }
        return names
    }

    func testFiveHundredCurrenciesScrolledToTheMiddle() {
        let world = Fixture.many()
        let ui = UIState(selectedKey: Fixture.manyKey("KRAKEN", "T250"), selectedSlot: 2)
        let grid = frame(world, ui)
        assertGolden(grid, "many-middle-120x35")
        let names = listedNames(grid)
        XCTAssert(names.contains("KRAKEN T250"), "the selection is in view: \(names)")
        XCTAssertFalse(names.contains("BINANCE T000"), "scrolled: the top of the list is out of view")
        let first = 251 - names.count / 2
        XCTAssert(grid.line(1).contains("\(first)–\(first + names.count - 1) of 500"), grid.line(1))
        XCTAssert(grid.line(grid.height - 2).contains("500 currencies"))
    }

    func testAFilterListsOnlyTheMatchesAndCountsThem() {
        let world = Fixture.many()
        var ui = UIState(selectedKey: Fixture.manyKey("KRAKEN", "T250"), selectedSlot: 2)
        ui.filter = CurrencyFilter("kr:t1")
        ui.editingFilter = true
        let grid = frame(world, ui)
        assertGolden(grid, "many-filter-120x35")
        let names = listedNames(grid)
        // KRAKEN holds T100…T499; "t1" matches T100…T199 whatever the case.
        let expected = world.records.filter { $0.key.exchange.description == "KRAKEN" && $0.key.currency.description.contains("T1") }
        XCTAssertEqual(names, expected.prefix(names.count).map { "KRAKEN \($0.key.currency)" })
        XCTAssert(grid.line(1).contains("filter 'kr:t1' \(expected.count) of 500"), grid.line(1))
        XCTAssert(grid.line(grid.height - 2).hasPrefix(" /kr:t1_"), "the prompt shows what was typed")
    }

    func testEachSortKey() {
        let world = Fixture.many()
        for sort in SortKey.allCases {
            var ui = UIState(selectedSlot: 2)
            ui.sort = sort
            let grid = frame(world, ui)
            assertGolden(grid, "many-sort-\(sort.rawValue)-120x35")
            let names = listedNames(grid)
            let shown = names.map { n -> BalanceRecord in
                let parts = n.split(separator: " ")
                return world.record(Fixture.manyKey(String(parts[0]), String(parts[1])))!
            }
            XCTAssertEqual(shown.count, names.count)
            switch sort {
            case .name:
                XCTAssertEqual(names.first, "BINANCE T000")
                XCTAssert(grid.line(1).contains("sort name ·"), "a list that scrolls names its order: \(grid.line(1))")
                XCTAssertFalse(frame(Fixture.healthy, Fixture.healthyUI).line(1).contains("sort"), "three currencies need no order named")
            case .total:
                XCTAssertEqual(shown.map(\.state.total), shown.map(\.state.total).sorted(by: >), "largest total first")
                XCTAssertEqual(shown.first?.state.total, world.records.map(\.state.total).max())
                XCTAssert(grid.line(1).contains("sort total ↓"))
            case .headroom:
                XCTAssertEqual(shown.map(\.headroom), shown.map(\.headroom).sorted(by: >))
                XCTAssert(grid.line(1).contains("sort headroom ↓"))
            case .drift:
                let gaps = shown.map { r in world.exchangeBalance(r.key)!.subtracting(r.state.total)!.raw.magnitude }
                XCTAssertEqual(gaps, gaps.sorted(by: >), "the largest gap from the exchange first")
                XCTAssert(grid.line(1).contains("sort |drift| ↓"))
            }
        }
    }

    func testTheSlotHistoryView() {
        var world = Fixture.healthy
        world.history = Fixture.usdcHistory
        var ui = Fixture.healthyUI
        ui.showHistory = true
        let grid = frame(world, ui)
        assertGolden(grid, "history-120x35")
        XCTAssert(grid.text.contains("History · KRAKEN USDC #2 grid-bot · 7 entries"))
        // Values after each applied entry on #2, oldest first: reset 0, 1,500, 2,500, 1,700, 1,500, 2,000,
        // in eighths of the range 0…2,500.
        XCTAssert(grid.text.contains("▁▅█▆▅▇"), "the sparkline of the slot's value")
        XCTAssert(grid.text.contains("low 0.00 · high 2,500.00 · now 2,000.00"))
        XCTAssert(grid.text.contains("refused: headroom 9,000.00"))
        XCTAssertFalse(grid.text.contains("+300.00"), "USD's entry on its own #2 is not USDC's")
        XCTAssertFalse(grid.text.contains("+3,000.00"), "an allocation to #3 is not #2's")
    }

    func testStaleMarkerWhenTheBooksCouldNotBeRead() {
        var world = Fixture.healthy
        world.markStale("KRAKEN USDC: record busy", now: Fixture.now + 3 * Fixture.second)
        let grid = frame(world, Fixture.healthyUI)
        assertGolden(grid, "stale-120x35")
        XCTAssert(grid.line(0).contains("STALE — last read 3 s ago"), grid.line(0))
        XCTAssertFalse(frame(Fixture.healthy, Fixture.healthyUI).text.contains("STALE"), "a fresh read has no marker")
    }

    /// What is typed into the filter is shown escaped, in the prompt and in the panel's title.
    func testTypedFilterTextIsShownSanitised() {
        var ui = UIState(selectedSlot: 2)
        ui.filter = CurrencyFilter("\u{1b}[2J\u{9b}31m\u{7}")
        for editing in [true, false] {
            ui.editingFilter = editing
            let grid = frame(Fixture.many(), ui)
            let scalars = grid.text.unicodeScalars
            XCTAssertFalse(scalars.contains { $0.value < 0x20 && $0 != "\n" || (0x7F...0x9F).contains($0.value) }, grid.text)
            XCTAssert(grid.text.contains("no currency matches"), "nothing matches such a filter")
            XCTAssert(grid.text.contains(TerminalText.safe("\u{1b}[2J")), "the text is shown, escaped")
        }
    }

    /// The help lists every key, the new ones included, down to a classic 80×24 terminal.
    func testHelpFitsAClassicTerminal() {
        var ui = Fixture.healthyUI
        ui.showHelp = true
        let grid = frame(Fixture.healthy, ui, 80, 24)
        for b in Keys.documented { XCTAssert(grid.text.contains(b.help.prefix(30)), "help lists '\(b.help)':\n\(grid.text)") }
        XCTAssert(grid.text.contains("closes this help"), grid.text)
    }

    /// The new views at every size: no trap, the grid exactly its size, the view drawn when it fits.
    func testEverySizeRendersTheNewViews() {
        var world = Fixture.many(40)
        world.history = SlotHistory(key: world.records[3].key, slot: 2)
        world.history?.append(Fixture.usdcHistory.entries.map { e in var e = e; e.key = world.records[3].key; return e }, head: 98)
        world.markStale("busy", now: Fixture.now + Fixture.second)
        var ui = UIState(selectedKey: world.records[3].key, selectedSlot: 2)
        ui.filter = CurrencyFilter("t0")
        ui.editingFilter = true
        ui.sort = .drift
        ui.showHistory = true
        for width in stride(from: 1, through: 200, by: 9) {
            for height in stride(from: 1, through: 60, by: 4) {
                let grid = Render.frame(world, ui, Size(width: width, height: height))
                XCTAssertEqual(grid.cells.count, width * height)
                if width >= Render.minimumSize.width && height >= Render.minimumSize.height {
                    XCTAssert(grid.text.contains("History"), "\(width)x\(height):\n\(grid.text)")
                    XCTAssert(grid.line(0).contains("STALE"), "\(width)x\(height): \(grid.line(0))")
                }
            }
        }
    }
}
