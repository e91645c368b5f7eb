import Foundation
import ShmBalance
import ShmBalanceConfig
import ShmBalanceDashboard
import ShmBalanceTestSupport
import XCTest

/// On a host with an agent (SPEC §10) the status line shows the agent's state, the selected
/// currency's lease and how long since the ledger answered; fenced and silent agents are loud.
final class AgentLineTests: XCTestCase {
    override class func setUp() {
        super.setUp()
        setenv("TZ", "UTC", 1)
        tzset()
    }

    func world(state: String, contactAgo: Int64, updatedAgo: Int64, lease: String, fenced: Bool = false) -> World {
        var w = Fixture.healthy
        let usdc = try! BookKey("KRAKEN", "USDC")
        w.agents = [AgentStatus(host: "tokyo-1", pid: 4242, state: state, updatedMicros: Fixture.now - updatedAgo,
                                contactMicros: Fixture.now - contactAgo, ttlMs: 10_000,
                                leases: [AgentStatus.Lease(key: usdc, amount: try! Amount(parsing: lease), generation: 1)])]
        if fenced, let i = w.records.firstIndex(where: { $0.key == usdc }) { w.records[i].state.fenced = true }
        return w
    }

    func frame(_ w: World) -> Grid { Render.frame(w, Fixture.healthyUI, Size(width: 120, height: 35)) }

    func testConnectedFencedAndSilent() {
        var grid = frame(world(state: "connected", contactAgo: 200_000, updatedAgo: 200_000, lease: "10000"))
        assertGolden(grid, "agent-connected-120x35")
        XCTAssertTrue(grid.text.contains("agent tokyo-1 connected · lease 10,000.00 · the ledger answered "), grid.text)
        grid = frame(world(state: "connected", contactAgo: 300_000, updatedAgo: 300_000, lease: "9950"))
        XCTAssertTrue(grid.text.contains("lease 9,950.00 (+50.00 not yet reported)"), grid.text)
        grid = frame(world(state: "fenced", contactAgo: 14 * Fixture.second, updatedAgo: 500_000, lease: "10000", fenced: true))
        assertGolden(grid, "agent-fenced-120x35")
        XCTAssertTrue(grid.text.contains("agent tokyo-1 FENCED: allocate refused, the ledger last answered 14 s ago"), grid.text)
        grid = frame(world(state: "connected", contactAgo: 60 * Fixture.second, updatedAgo: 60 * Fixture.second, lease: "10000"))
        XCTAssertTrue(grid.text.contains("agent tokyo-1 SILENT (last wrote 1 min ago)"), grid.text)
        // A currency the agent does not serve: no agent line.
        var ui = Fixture.healthyUI
        ui.selectedKey = try! BookKey("KRAKEN", "BTC")
        let other = Render.frame(world(state: "connected", contactAgo: 1, updatedAgo: 1, lease: "1"), ui, Size(width: 120, height: 35))
        XCTAssertFalse(other.text.contains("agent tokyo-1"), other.text)
    }

    /// `top` reads the status files beside its segment (what the agent writes; AgentTests checks the writing).
    func testCaptureReadsTheAgentsBesideTheSegment() throws {
        let seg = TempSegment()
        let books = try seg.books()
        let usdc = try BookKey("KRAKEN", "USDC")
        try books.reset(usdc, balance: try Amount(parsing: "700"))
        let status = AgentStatus(host: "a", pid: 1, state: "connected", updatedMicros: Fixture.now, contactMicros: Fixture.now, ttlMs: 5000,
                                 leases: [AgentStatus.Lease(key: usdc, amount: try Amount(parsing: "700"), generation: 3)])
        XCTAssertTrue(status.write(to: AgentStatus.path(segment: seg.path, host: "a")))
        let world = try World.capture(books, nowMicros: Fixture.now)
        XCTAssertEqual(world.agents, [status])
        XCTAssertEqual(AgentStatus(parsing: status.text), status, "the text round-trips")
    }
}
