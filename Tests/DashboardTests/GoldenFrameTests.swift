import Foundation
import ShmBalance
import ShmBalanceDashboard
import ShmBalanceTestSupport
import XCTest

/// Snapshot-render tests: hand-built snapshots rendered to frames and compared with golden files
/// (see Golden.swift for how to re-record them).
final class GoldenFrameTests: XCTestCase {
    override class func setUp() {
        super.setUp()
        // The clock and the activity times are local time: pin the zone so frames do not depend on the machine.
        setenv("TZ", "UTC", 1)
        tzset()
    }

    func frame(_ world: World, _ ui: UIState = Fixture.healthyUI, _ width: Int = 120, _ height: Int = 35) -> Grid {
        let grid = Render.frame(world, ui, Size(width: width, height: height))
        XCTAssertEqual(grid.size, Size(width: width, height: height))
        return grid
    }

    func testHealthyBooks() {
        let grid = frame(Fixture.healthy)
        assertGolden(grid, "healthy-120x35")
        // What the issue asks the frame to show, checked outright as well as through the golden.
        XCTAssert(grid.text.contains("10,000.00 = 4,000.00 + 6,000.00 ✓"))
        XCTAssert(grid.text.contains("headroom 9,000.00 = pool 4,000.00 + credit 5,000.00"))
        XCTAssert(grid.text.contains("refused: headroom 9,000.00"))
    }

    func testIdentityBroken() {
        let grid = frame(Fixture.identityBroken)
        assertGolden(grid, "identity-broken-120x35")
        XCTAssert(grid.text.contains("✗ +100.00"), "the currency row shows ✗ with the difference")
        XCTAssert(grid.text.contains("10,000.00 ≠ 4,000.00 + 5,900.00 ✗ off by +100.00"))
        XCTAssert(grid.text.contains("1 broken"))
    }

    func testNegativeHeadroom() {
        let grid = frame(Fixture.negativeHeadroom)
        assertGolden(grid, "negative-headroom-120x35")
        XCTAssert(grid.text.contains("headroom -1,000.00 = pool -6,000.00 + credit 5,000.00 < 0: reconcile (c) or reset (R)"))
    }

    func testDriftAgainstTheExchange() {
        let grid = frame(Fixture.drift)
        assertGolden(grid, "drift-120x35")
        XCTAssert(grid.text.contains("+0.05"), "BTC: the exchange says 2.55, the books 2.50")
        XCTAssert(grid.text.contains("-50.00"), "USDC: the exchange says 9,950, the books 10,000")
    }

    func testPromptOpen() {
        var ui = Fixture.healthyUI
        ui.prompt = Prompt(.allocate(index: 2), key: key("USDC"), input: "500")
        let grid = frame(Fixture.healthy, ui)
        assertGolden(grid, "prompt-allocate-120x35")
        XCTAssert(grid.text.contains("Allocate · KRAKEN USDC #2 grid-bot"))
    }

    func testResetConfirmationPrompt() {
        var ui = Fixture.healthyUI
        ui.prompt = Prompt(.resetConfirm(balance: Amount("12000")), key: key("USDC"), input: "USD")
        assertGolden(frame(Fixture.healthy, ui), "prompt-reset-confirm-120x35")
    }

    func testHelpOverlay() {
        var ui = Fixture.healthyUI
        ui.showHelp = true
        let grid = frame(Fixture.healthy, ui)
        assertGolden(grid, "help-120x35")
        for b in Keys.documented { XCTAssert(grid.text.contains(b.help.prefix(40)), "help lists '\(b.help)'") }
    }

    /// The help's legend says what the code does: a drift highlights its own cell, never the currency; ! marks an expired hold.
    func testTheLegendSaysWhatTheColoursMean() {
        var ui = Fixture.healthyUI
        ui.showHelp = true
        let text = dialogText(frame(Fixture.healthy, ui), "Help")
        XCTAssertFalse(text.contains("or drift from the exchange"), "drift never makes a currency yellow")
        XCTAssert(text.contains("A drift from the exchange's BALANCE quote only highlights its EXCHANGE Δ cell"), text)
        XCTAssertEqual(health(Fixture.drift.records[2]), .healthy, "USDC is 50.00 off the exchange and still healthy")
        XCTAssert(text.contains("! after a slot's HOLDS count: a hold's ttl has passed"), text)
    }

    func testClassicTerminal80x24() {
        assertGolden(frame(Fixture.healthy, Fixture.healthyUI, 80, 24), "healthy-80x24")
    }

    func testLargeTerminal160x48() {
        assertGolden(frame(Fixture.healthy, Fixture.healthyUI, 160, 48), "healthy-160x48")
    }

    func testTerminalTooSmall() {
        let grid = frame(Fixture.healthy, Fixture.healthyUI, 50, 12)
        assertGolden(grid, "too-small-50x12")
        XCTAssert(grid.text.contains("Terminal too small: 50×12."))
    }

    func testASCIIOnly() {
        var ui = Fixture.healthyUI
        ui.glyphs = .ascii
        let grid = frame(Fixture.identityBroken, ui, 100, 30)
        assertGolden(grid, "ascii-identity-broken-100x30")
        XCTAssert(grid.text.unicodeScalars.allSatisfy(\.isASCII), "an ASCII-only frame has no byte above 0x7F")
        XCTAssert(grid.text.contains("BROKEN +100.00"))
        XCTAssert(grid.text.contains("| CUR"))
    }

    func testReadOnly() {
        var world = Fixture.healthy
        world.readOnly = true
        let grid = frame(world)
        assertGolden(grid, "read-only-120x35")
        XCTAssertFalse(grid.line(34).contains("allocate"), "the key line leaves out actions when read-only")
    }

    // MARK: - the golden machinery itself

    func testAChangedFrameGivesAReadableDiff() {
        let before = frame(Fixture.healthy)
        var world = Fixture.healthy
        world.records[2].state.slots[2] = Amount("2000.5")
        world.records[2].state.slots[0] = Amount("10000.5")
        let after = frame(world)
        let diff = frameDiff(expected: before.text, actual: after.text)
        XCTAssertNotNil(diff)
        let text = diff ?? ""
        XCTAssert(text.contains("expected |") && text.contains("actual   |"), text)
        XCTAssert(text.contains("2,000.50") && text.contains("2,000.00"), "both versions of the changed line are shown:\n\(text)")
        XCTAssert(text.contains("^"), "a caret marks the first differing column")
        XCTAssertNil(frameDiff(expected: before.text, actual: before.text))
        XCTAssertNotNil(frameDiff(expected: styleFile(before), actual: styleFile(frame(Fixture.identityBroken))), "a style change alone is a difference")
    }

    /// Every size renders without trapping and fills exactly its grid; tiny ones say they are too small.
    func testEverySizeRenders() {
        var ui = Fixture.healthyUI
        ui.prompt = Prompt(.reconcile, key: key("USDC"), input: "9950")
        for width in stride(from: 1, through: 200, by: 7) {
            for height in stride(from: 1, through: 60, by: 5) {
                let grid = Render.frame(Fixture.drift, ui, Size(width: width, height: height))
                XCTAssertEqual(grid.cells.count, width * height)
                if width < Render.minimumSize.width || height < Render.minimumSize.height {
                    XCTAssert(grid.text.contains("small") || height < 3 || width < 6, "\(width)x\(height): \(grid.text)")
                } else {
                    XCTAssert(grid.line(0).contains("ShmBalance"), "\(width)x\(height)")
                }
            }
        }
    }
}
