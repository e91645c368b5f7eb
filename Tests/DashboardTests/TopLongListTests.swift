import Foundation
import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// `shmbal top` on a real 500-currency segment in tmux (issue 14): the filter, the sort, paging
/// with the selection kept in view, the history view opened with Enter and closed with Esc.
final class TopLongListTests: XCTestCase {
    /// The selected row's currency on the screen (`▶KRAKEN T123`), if one is drawn.
    func selectedRow(_ screen: String) -> String? {
        for line in screen.split(separator: "\n") {
            guard let r = line.range(of: "▶") else { continue }
            let words = line[r.upperBound...].split(separator: " ")
            if words.count >= 2, words[0] == "BINANCE" || words[0] == "KRAKEN" { return "\(words[0]) \(words[1])" }
        }
        return nil
    }

    func testFilterSortScrollAndHistoryOnFiveHundredCurrencies() throws {
        let (segment, books) = try manySegment()
        _ = books
        let t = try TmuxSession(["top", "--segment", segment.path, "--refresh-ms", "100"])
        defer { t.close() }
        t.waitFor("Currencies · sort name · 1–", "of 500", "500 currencies")
        XCTAssertEqual(selectedRow(t.screen()), "BINANCE T000", "the selection starts on the first")

        // Paging: the selection moves a page and stays in view; End reaches the last.
        try t.keys("PageDown")
        eventually("the selection to move a page down") { (selectedRow(t.screen()) ?? "BINANCE T000") != "BINANCE T000" }
        let paged = try XCTUnwrap(selectedRow(t.screen()))
        let page = Int(paged.suffix(3))!
        XCTAssertGreaterThan(page, 5, "a page is the panel's height: \(paged)")
        try t.keys("End")
        t.waitFor("▶KRAKEN T499", "–500 of 500")
        try t.keys("Home")
        t.waitFor("▶BINANCE T000")

        // The filter: typed after /, matches counted in the panel's title, Esc clears it.
        try t.keys("/")
        try t.type("kr:t25")
        t.waitFor("filter 'kr:t25' 10 of 500", " /kr:t25_", "▶KRAKEN T250")
        XCTAssertFalse(t.screen().contains("KRAKEN T249"), "only the matches are listed")
        try t.keys("Enter")
        try t.keys("Right")
        t.waitFor("▶KRAKEN T251")
        try t.keys("Escape")
        eventually("the filter to be cleared") { !t.screen().contains("filter '") && t.screen().contains("of 500") }
        XCTAssertEqual(selectedRow(t.screen()), "KRAKEN T251", "the selection stays on its currency")

        // The sort: o cycles; the largest total comes first.
        try t.keys("o")
        t.waitFor("sort total ↓")
        try t.keys("Home")
        let largest = try books.allRecords().max { $0.state.total < $1.state.total }!
        eventually("the largest total at the top") { t.screen().contains("▶\(largest.key.exchange) \(largest.key.currency) ") }

        // Enter on the slot: its history; Esc closes it.
        try t.keys("Enter")
        t.waitFor("History · \(largest.key) #2", "allocate", "→ 100.00")
        try t.keys("Escape")
        eventually("the history view to close") { !t.screen().contains("History ·") }
        try t.keys("q")
        XCTAssertEqual(t.waitForExit(), 0)
    }
}
