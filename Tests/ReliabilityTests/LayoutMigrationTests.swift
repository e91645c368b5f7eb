import Foundation
import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// A segment of layout version 1 is refused with how to move its books; the move itself — a
/// snapshot saved by the version-1 build (Tests/Fixtures/layout1.snapshot, made by the build at
/// commit 13ac644), restored by this one — gives the same books.
final class LayoutMigrationTests: XCTestCase {
    let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/layout1.snapshot").path

    func testAVersionOneSnapshotRestoresIntoThisLayout() throws {
        let dir = TempDir()
        let seg = dir.file("seg")
        let r = try runShmbal(["snapshot", "restore", fixture, "--segment", seg])
        XCTAssertEqual(r.status, 0, r.err)
        let books = try Books.open(seg, .readOnly)
        let usdc = try books.get(try BookKey("KRAKEN", "USDC"))
        XCTAssertEqual(usdc.slots.map(\.exactText), ["10000", "5500", "1500", "3000", "0"])
        XCTAssertEqual(usdc.names.map(\.description), ["total", "pool", "grid-bot", "arb", "mm"])
        XCTAssertEqual(usdc.creditLimit.exactText, "5000")
        XCTAssertEqual(usdc.state.opCount, 5)
        XCTAssertEqual(try books.get(try BookKey("KRAKEN", "USD")).state.total.exactText, "4000")
        XCTAssertEqual(try books.quote(try QuoteKey("KRAKEN", "BALANCE", "USDC"))?.mid, 10000.5)
        XCTAssertEqual(try books.defaultExchange?.description, "KRAKEN")
        XCTAssertEqual(try runShmbal(["check", "--segment", seg]).status, 0)
        // And the books go on from there.
        XCTAssertEqual(try runShmbal(["allocate", "USDC", "4", "100", "--segment", seg]).status, 0)
    }
}
