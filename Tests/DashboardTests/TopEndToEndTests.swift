import Foundation
import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// `shmbal top` in a real terminal: tmux runs it on a seeded segment, the test types keys with
/// send-keys, reads the screen with capture-pane, and checks the segment through the core.
final class TopEndToEndTests: SeededTopTestCase {
    func start(_ extra: [String] = [], width: Int = 120, height: Int = 35, env: [String: String] = [:]) throws -> TmuxSession {
        let t = try TmuxSession(["top", "--segment", segment.path, "--currency", "USDC"] + extra, width: width, height: height, env: env)
        tmux = t
        return t
    }

    func usdc() throws -> BalanceRecord { try books.get(key("USDC")) }

    func testKeysActThroughTheCoreAndTheScreenFollows() throws {
        let t = try start()
        t.waitFor("USDC · 5 slots", "10,000.00 = 4,000.00 + 6,000.00 ✓", "headroom 9,000.00 = pool 4,000.00 + credit 5,000.00")

        // Allocate 500 to the selected slot (#2 grid-bot).
        try t.keys("a")
        t.waitFor("Allocate · KRAKEN USDC #2 grid-bot")
        try t.type("500")
        try t.keys("Enter")
        t.waitFor("allocated 500.00 to KRAKEN USDC #2: it holds 2,500.00", "10,000.00 = 3,500.00 + 6,500.00 ✓")
        XCTAssertEqual(try usdc().slots, [Amount("10000"), Amount("3500"), Amount("2500"), Amount("3000"), Amount("1000")])

        // Release 250 from it.
        try t.keys("r")
        t.waitFor("Release · KRAKEN USDC #2 grid-bot")
        try t.type("250")
        try t.keys("Enter")
        t.waitFor("released 250.00 from KRAKEN USDC #2: it holds 2,250.00", "10,000.00 = 3,750.00 + 6,250.00 ✓")
        XCTAssertEqual(try usdc().state.slots[2], Amount("2250"))

        // An allocation beyond the headroom: the core's refusal on the status line, nothing changed.
        let before = try usdc()
        try t.keys("a")
        try t.type("99999")
        try t.keys("Enter")
        t.waitFor("KRAKEN USDC #2: allocate 99999.00 exceeds the headroom 8750.00 (pool + credit)", "refused: headroom 8,750.00")
        XCTAssertEqual(try usdc(), before)

        // Reset: the balance, then the currency typed to confirm.
        try t.keys("R")
        t.waitFor("Reset · KRAKEN USDC")
        try t.type("12000")
        try t.keys("Enter")
        t.waitFor("Type USDC to confirm.")
        XCTAssertEqual(try usdc(), before, "nothing changes before the confirmation")
        try t.type("USDC")
        try t.keys("Enter")
        t.waitFor("KRAKEN USDC reset to 12,000.00: every budget dropped", "12,000.00 = 12,000.00 + 0.00 ✓")
        let after = try usdc()
        XCTAssertEqual(after.slots, [Amount("12000"), Amount("12000"), .zero, .zero, .zero])
        XCTAssertEqual(after.epoch, before.epoch + 1)

        // Quit: the program exits 0 and gives the terminal back (the dashboard is gone from the screen).
        try t.keys("q")
        XCTAssertEqual(t.waitForExit(), 0)
        XCTAssertFalse(t.screen().contains("ShmBalance"), "the alternate screen was left: the terminal is restored")
    }

    func testReadOnlyAttachRefusesActions() throws {
        let t = try start(["--read-only"])
        let screen = t.waitFor(" RO ", "read-only: watching; actions are off")
        XCTAssertFalse(screen.contains("a allocate"), "the key line leaves out the actions")
        let before = try usdc()
        try t.keys("a")
        t.waitFor("read-only: allocate is off (attached with --read-only)")
        try t.keys("R")
        t.waitFor("read-only: reset is off (attached with --read-only)")
        XCTAssertEqual(try usdc(), before)
        try t.keys("C-c")
        XCTAssertEqual(t.waitForExit(), 0, "Ctrl-C quits cleanly")
    }

    /// Another process changes the books; the dashboard shows it within a few refreshes.
    func testAnotherProcesssChangesAppear() throws {
        // A slow refresh (4 Hz) and a deadline of 20 refreshes: the change must come from the periodic re-read.
        let t = try start(["--refresh-ms", "250"])
        t.waitFor("USDC · 5 slots", "3,000.00")
        let cli = ["--segment", segment.path, "--exchange", "KRAKEN"]
        XCTAssertEqual(try shmbal(["allocate", "USDC", "3", "700"] + cli).status, 0)
        t.waitFor("3,700.00", "+700.00", "10,000.00 = 3,300.00 + 6,700.00 ✓", within: 5)
        XCTAssertEqual(try shmbal(["quote", "write", "KRAKEN", "BALANCE", "USDC", "10000.5"] + cli).status, 0)
        t.waitFor("+0.50", "1 off the exchange", within: 5)
        XCTAssertEqual(try shmbal(["reset", "EUR", "250"] + cli).status, 0)
        t.waitFor("EUR", "250.00", "3 currencies", within: 5)
        XCTAssertEqual(try shmbal(["adjust", "USDC", "-12000"] + cli).status, 0)
        t.waitFor("headroom -3,700.00 = pool -8,700.00 + credit 5,000.00 < 0", "1 broken", within: 5)
    }

    func testResizeAndATerminalTooSmall() throws {
        let t = try start()
        t.waitFor("USDC · 5 slots")
        try t.tmux(["resize-window", "-x", "50", "-y", "12"])
        t.waitFor("Terminal too small: 50×12.")
        try t.tmux(["resize-window", "-x", "100", "-y", "30"])
        let screen = t.waitFor("USDC · 5 slots")
        XCTAssertFalse(screen.contains("too small"))
        let borders = screen.split(separator: "\n").filter { $0.hasPrefix("└") }
        XCTAssertEqual(borders.first?.count, 100, "the panels span the new width")
        try t.keys("q")
        XCTAssertEqual(t.waitForExit(), 0)
    }

    func testASCIILocale() throws {
        let t = try start(env: ["LANG": "C", "LC_ALL": "C"])
        let screen = t.waitFor("| CUR", "USDC - 5 slots", "10,000.00 = 4,000.00 + 6,000.00 OK")
        XCTAssert(screen.unicodeScalars.allSatisfy(\.isASCII), screen)
        try t.keys("q")
        XCTAssertEqual(t.waitForExit(), 0)
    }
}
