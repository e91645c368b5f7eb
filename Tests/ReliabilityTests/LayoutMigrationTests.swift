import Foundation
import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// A segment of an older layout version is refused with how to move its books; the move itself — a
/// snapshot saved by the old build (Tests/Fixtures/layout1.snapshot, made by the build at commit
/// 13ac644; layout2.snapshot, by the build at e5a0ca0; layout3.snapshot, by the build at 0d777e6),
/// restored by this one — gives the same books.
final class LayoutMigrationTests: XCTestCase {
    let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/layout1.snapshot").path
    var fixture2: String { fixture.replacingOccurrences(of: "layout1", with: "layout2") }

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

    /// Layout 2 had no holds: its books restore with no holds, the default hold and op-id capacities,
    /// and the record capacity the snapshot names (256, the old default).
    func testAVersionTwoSnapshotRestoresIntoThisLayout() throws {
        let dir = TempDir()
        let seg = dir.file("seg")
        let r = try runShmbal(["snapshot", "restore", fixture2, "--segment", seg])
        XCTAssertEqual(r.status, 0, r.err)
        let books = try Books.open(seg, .readOnly)
        XCTAssertEqual(books.segment.geometry, Geometry(recordCapacity: 256, quoteCapacity: 1024, ringCapacity: 4096))
        let usdc = try books.get(try BookKey("KRAKEN", "USDC"))
        XCTAssertEqual(usdc.slots.map(\.exactText), ["10000", "5500", "1500", "3000", "0"])
        XCTAssertEqual(usdc.names.map(\.description), ["total", "pool", "grid-bot", "arb", "mm"])
        XCTAssertEqual(usdc.creditLimit.exactText, "5000")
        XCTAssertEqual(try books.get(try BookKey("KRAKEN", "USD")).state.total.exactText, "4000")
        XCTAssertEqual(try runShmbal(["check", "--segment", seg]).status, 0)
        // Saved again by this build, the snapshot names this layout and the capacities and restores to the same geometry.
        let again = dir.file("again.snapshot")
        XCTAssertEqual(try runShmbal(["snapshot", "save", again, "--segment", seg]).status, 0)
        let text = try String(contentsOfFile: again, encoding: .utf8)
        XCTAssertTrue(text.contains("\nlayout 4\n"), text)
        XCTAssertTrue(text.contains("\ngeometry 256 1024 4096 1024 4096\n"), text)
        let seg2 = dir.file("seg2")
        XCTAssertEqual(try runShmbal(["snapshot", "restore", again, "--segment", seg2]).status, 0)
        XCTAssertEqual(try Books.open(seg2, .readOnly).segment.geometry, books.segment.geometry)
    }

    /// Layout 3 had holds; layout 4 gave the head word's bits 30 and 31 their meaning (a hold with
    /// a ttl, the fence). Its books restore with their holds, the one with a ttl still expiring.
    func testAVersionThreeSnapshotRestoresIntoThisLayout() throws {
        let dir = TempDir()
        let seg = dir.file("seg")
        let r = try runShmbal(["snapshot", "restore", fixture.replacingOccurrences(of: "layout1", with: "layout3"), "--segment", seg])
        XCTAssertEqual(r.status, 0, r.err)
        let books = try Books.open(seg, .readWrite)
        let key = try BookKey("KRAKEN", "USDC")
        XCTAssertEqual(try books.get(key).slots.map(\.exactText), ["10000", "6990", "2000", "1000", "10"])
        let holds = try books.holds(key).map { "\($0.id) #\($0.index) \($0.amount.exactText) \($0.expiresMicros ?? 0)" }
        XCTAssertEqual(holds.sorted(), ["order-plain #3 250 0", "order-ttl #2 1500 4796193418168265"])
        XCTAssertEqual(try books.slotHolds(key)[2].held.exactText, "1500")
        XCTAssertEqual(try runShmbal(["check", "--segment", seg]).status, 0)
        // The books go on: the free part of #2 is what its hold leaves.
        XCTAssertThrowsError(try books.release(key, index: 2, Amount("501")))
        try books.release(key, index: 2, Amount("500"))
        XCTAssertTrue(try books.get(key).identityHolds)
    }
}
