import Foundation
import ShmBalance
import ShmBalanceDashboard
import ShmBalanceTestSupport
import XCTest

/// The long-list keys (issue 14) on a real 500-currency segment, without a terminal: filter,
/// sort, paging, the history view, and the STALE marker when a read fails.
final class LongListControllerTests: XCTestCase {
    var segment: TempSegment!
    var books: Books!

    override func setUp() {
        super.setUp()
        (segment, books) = try! manySegment()
    }

    override func tearDown() {
        books = nil
        segment = nil
        super.tearDown()
    }

    func controller(selecting i: Int) throws -> Controller {
        try Controller(books: books, ui: UIState(selectedKey: manyKey(i), selectedSlot: 2))
    }

    func type(_ c: inout Controller, _ text: String) { for ch in text { c.handle(.char(ch)) } }

    func selected(_ c: Controller) -> BookKey? { c.ui.selectedRecord(in: c.world)?.key }

    func testTheFilterListsMatchesKeepsTheSelectionAndEscClearsIt() throws {
        var c = try controller(selecting: 251)
        XCTAssertEqual(c.world.records.count, 500)
        c.handle(.char("/"))
        XCTAssert(c.ui.editingFilter)
        type(&c, "t25")
        XCTAssertEqual(c.world.listed(c.ui).map(\.key), (250...259).map { manyKey($0) }, "any case, part of the name")
        XCTAssertEqual(selected(c), manyKey(251), "the selection stays on its currency while it is listed")
        c.handle(.char("a"))
        XCTAssertNil(c.ui.prompt, "while the prompt is open, letters are the filter's")
        XCTAssertEqual(c.ui.filter.text, "t25a")
        XCTAssert(c.world.listed(c.ui).isEmpty)
        c.handle(.backspace)
        c.handle(.enter)
        XCTAssertFalse(c.ui.editingFilter, "Enter keeps the filter and closes the prompt")
        XCTAssertEqual(c.world.listed(c.ui).count, 10)
        c.handle(.right)
        XCTAssertEqual(selected(c), manyKey(252), "←→ move within the listed currencies")
        c.handle(.escape)
        XCTAssert(c.ui.filter.isEmpty, "Esc clears an applied filter")
        XCTAssertEqual(c.world.listed(c.ui).count, 500)
        XCTAssertEqual(selected(c), manyKey(252))

        // EXCHANGE:CURRENCY, either side partial: the selection moves to the first match.
        c.handle(.char("/"))
        type(&c, "BIN:t00")
        XCTAssertEqual(c.world.listed(c.ui).map(\.key), (0...9).map { manyKey($0) })
        XCTAssertEqual(c.ui.selectedKey, manyKey(0), "the old selection is not listed: the first match is selected")
        c.handle(.escape)
        XCTAssertFalse(c.ui.editingFilter)
        XCTAssert(c.ui.filter.isEmpty, "Esc in the prompt clears the filter and closes the prompt")
        c.handle(.char("/"))
        type(&c, ":T49")
        XCTAssertEqual(c.world.listed(c.ui).count, 10, "an empty exchange side matches every exchange")
        type(&c, String(repeating: "x", count: Controller.maxFilter))
        XCTAssertEqual(c.ui.filter.text.count, Controller.maxFilter)
        XCTAssertEqual(c.ui.status?.kind, .error, "a character beyond the limit is refused with a message")
        let prompt = Render.frame(c.world, c.ui, Size(width: 120, height: 35)).line(33)
        XCTAssert(prompt.contains("the filter holds at most \(Controller.maxFilter) characters"), "and the prompt shows it: \(prompt)")
    }

    func testSortCyclesAndKeepsTheSelection() throws {
        var c = try controller(selecting: 251)
        XCTAssertEqual(c.ui.sort, .name)
        c.handle(.char("o"))
        XCTAssertEqual(c.ui.sort, .total)
        let byTotal = c.world.listed(c.ui)
        XCTAssertEqual(byTotal.map(\.state.total), byTotal.map(\.state.total).sorted(by: >))
        XCTAssertEqual(selected(c), manyKey(251), "the selection stays on its currency")
        c.handle(.char("o"))
        XCTAssertEqual(c.ui.sort, .headroom)
        c.handle(.char("o"))
        XCTAssertEqual(c.ui.sort, .drift)
        // No BALANCE quotes in this segment: every drift is absent, so the name order stands.
        XCTAssertEqual(c.world.listed(c.ui).map(\.key), c.world.records.map(\.key))
        try books.writeQuote(QuoteKey(exchange: manyKey(300).exchange, dataType: QuoteKey.balanceType, currency: manyKey(300).currency),
                             SingleQuote(timestamp: 1, localTimestamp: 1, mid: 1))
        c.refresh(force: true)
        XCTAssertEqual(c.world.listed(c.ui).first?.key, manyKey(300), "a currency with a drift comes before those without")
        c.handle(.char("o"))
        XCTAssertEqual(c.ui.sort, .name)
        XCTAssertEqual(selected(c), manyKey(251))
    }

    func testPagingKeepsTheSelectionInView() throws {
        var c = try controller(selecting: 0)
        let size = Size(width: 120, height: 35)
        c.currencyPage = Render.currencyRows(c.world, c.ui, size)
        XCTAssertGreaterThan(c.currencyPage, 5)
        c.handle(.pageDown)
        XCTAssertEqual(selected(c), manyKey(c.currencyPage))
        c.handle(.pageUp)
        c.handle(.pageUp)
        XCTAssertEqual(selected(c), manyKey(0), "a page stops at the top")
        c.handle(.end)
        XCTAssertEqual(selected(c), manyKey(499))
        let grid = Render.frame(c.world, c.ui, size)
        XCTAssert(grid.text.contains("▶KRAKEN T499"), "End: the last currency is selected and in view")
        XCTAssert(grid.line(1).contains("of 500") && grid.line(1).contains("–500 of 500"), grid.line(1))
        c.handle(.pageDown)
        XCTAssertEqual(selected(c), manyKey(499), "a page stops at the bottom")
        c.handle(.home)
        XCTAssertEqual(selected(c), manyKey(0))
        c.handle(.left)
        XCTAssertEqual(selected(c), manyKey(499), "← still wraps round")
    }

    func testEnterOpensTheSlotsHistoryAndItFollowsTheRing() throws {
        var c = try controller(selecting: 7)
        c.handle(.enter)
        XCTAssert(c.ui.showHistory)
        var h = try XCTUnwrap(c.world.history)
        XCTAssertEqual(h.key, manyKey(7))
        XCTAssertEqual(h.slot, 2)
        XCTAssertEqual(h.entries.map(\.operation), [.reset, .allocate], "this currency's reset and its #2 allocation, nothing else")
        XCTAssertEqual(h.values, [.zero, Amount("100")])
        try books.allocate(manyKey(7), index: 2, Amount("50"))
        try books.allocate(manyKey(7), index: 3, Amount("50"))
        try books.allocate(manyKey(8), index: 2, Amount("50"))
        c.refresh()
        h = try XCTUnwrap(c.world.history)
        XCTAssertEqual(h.values, [.zero, Amount("100"), Amount("150")], "only #2 of this currency, read as the ring grows")
        XCTAssert(Render.frame(c.world, c.ui, Size(width: 120, height: 35)).text.contains("History · BINANCE T007 #2"))
        c.handle(.char("a"))
        XCTAssertNil(c.ui.prompt, "the history view takes no action keys")
        c.handle(.escape)
        XCTAssertFalse(c.ui.showHistory)
        XCTAssertNil(c.world.history)
    }

    func testAFailedReadShowsStaleInsteadOfLiveNumbers() throws {
        var c = try controller(selecting: 0)
        XCTAssertFalse(c.world.isStale)
        let before = c.world.records
        XCTAssertEqual(truncate(segment.path, 100), 0)
        c.refresh()
        XCTAssert(c.world.isStale)
        XCTAssertEqual(c.world.records, before, "the last picture is kept, marked")
        let header = Render.frame(c.world, c.ui, Size(width: 120, height: 35)).line(0)
        XCTAssert(header.contains("STALE — last read"), header)
    }
}
