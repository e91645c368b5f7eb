import Foundation
import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// Holds in the real dashboard: tmux runs `shmbal top` on a segment whose holds this process made
/// through the core; the operator opens the holds view and voids a stuck hold by typing its id;
/// the books are read back through the core.
final class TopHoldsTests: SeededTopTestCase {
    let usdc = key("USDC")

    func ids() throws -> [String] { try books.holds(usdc).map(\.id.description) }

    func start() throws -> TmuxSession {
        // The seed: #2 grid-bot 2,000. Two orders of its strategy keep 1,200 and 300 of it.
        try books.hold(usdc, index: 2, Amount("1200"), id: try HoldId("ord-7f3a"))
        try books.hold(usdc, index: 2, Amount("300"), id: try HoldId("ord-7f3b"), ttlMicros: 3_600_000_000)
        let t = try TmuxSession(["top", "--segment", segment.path, "--currency", "USDC"], width: 120, height: 35)
        tmux = t
        t.waitFor("USDC · 5 slots", "HELD", "FREE", "HOLDS", "1,500.00", "h holds")
        try t.keys("h")
        t.waitFor("Holds · KRAKEN USDC #2 grid-bot · 2 open · held 1,500.00 · free 500.00", "ord-7f3a", "ord-7f3b", "in 59 min",
                  "no ttl", "v void")
        return t
    }

    func testVoidingAHoldByTypingItsId() throws {
        let t = try start()
        try t.keys("v")
        t.waitFor("Void hold · KRAKEN USDC #2 grid-bot", "Hold ord-7f3a keeps 1,200.00", "Type the hold's id to confirm")
        try t.type("ord-7f3a")
        t.waitFor("ord-7f3a_")
        try t.keys("Enter")
        let screen = t.waitFor("voided hold ord-7f3a (1,200.00) on KRAKEN USDC #2: free now 1,700.00",
                               "Holds · KRAKEN USDC #2 grid-bot · 1 open · held 300.00 · free 1,700.00")
        XCTAssertFalse(screen.contains("Void hold ·"), "the prompt closed:\n\(screen)")
        // The books, read back through the core: the hold is gone and free rose by its amount.
        XCTAssertEqual(try ids(), ["ord-7f3b"])
        let slot = try books.slotHolds(usdc)[2]
        XCTAssertEqual(slot.free, Amount("1700"))
        XCTAssertEqual(slot.held, Amount("300"))
        XCTAssertEqual(slot.count, 1)
        XCTAssertEqual(try books.balance(usdc, index: 2), Amount("2000"), "a void moves no budget")

        try t.keys("Escape")
        t.waitFor("a allocate")
        try t.keys("q")
        XCTAssertEqual(t.waitForExit(), 0)
    }

    func testAWrongIdVoidsNothing() throws {
        let t = try start()
        let before = try books.get(usdc)
        let head = books.activityHead
        // The other hold's id, then a prefix of the right one: neither voids the selected hold.
        for typed in ["ord-7f3b", "ord-7f3"] {
            try t.keys("v")
            t.waitFor("Type the hold's id to confirm")
            try t.type(typed)
            try t.keys("Enter")
            t.waitFor("void cancelled: typed '\(typed)', not the hold's id; nothing changed")
        }
        // Escape cancels too.
        try t.keys("v")
        t.waitFor("Type the hold's id to confirm")
        try t.type("ord-7f3a")
        try t.keys("Escape")
        var screen = ""
        eventually("the prompt closed, 'cancelled' on the status line; the screen shows:\n\(screen)") {
            screen = t.screen()
            return screen.contains(" cancelled ") && !screen.contains("void cancelled") && !screen.contains("Void hold ·")
        }
        XCTAssert(screen.contains("2 open"), screen)
        XCTAssertEqual(try ids(), ["ord-7f3a", "ord-7f3b"])
        XCTAssertEqual(try books.get(usdc), before)
        XCTAssertEqual(books.activityHead, head, "nothing reached the core")
        try t.keys("q")
        XCTAssertEqual(t.waitForExit(), 0)
    }

    /// A hold id with an SGR sequence, a newline and a C1 control in the segment (a corrupt or
    /// hostile writer: the core refuses such ids, so the bytes are patched into the file). The
    /// view and the prompt show it as `?`s, nothing reaches the terminal, and typing what is shown
    /// still voids that stuck hold.
    func testAHostileHoldIdIsShownSafelyAndCanStillBeVoided() throws {
        try books.hold(usdc, index: 3, Amount("700"), id: try HoldId("HHHHHHHHHHHHHHHH"))
        try patchFile(segment.path, Array("HHHHHHHHHHHHHHHH".utf8), [0x1B] + Array("[31m".utf8) + [0x0A] + Array("X".utf8) + [0xC2, 0x9B] + Array("2J".utf8))
        let shown = "?[31m?X??2J"
        XCTAssertEqual(try ids(), [shown], "the core shows the stored bytes as ? (not printable ASCII)")
        let t = try TmuxSession(["top", "--segment", segment.path, "--currency", "USDC"], width: 120, height: 35)
        tmux = t
        t.waitFor("USDC · 5 slots", "HOLDS")
        try t.keys("j")
        try t.keys("h")
        var screen = t.waitFor("Holds · KRAKEN USDC #3 arb · 1 open", shown)
        XCTAssertFalse(screen.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" || (0x7F...0x9F).contains($0.value) }, screen)
        try t.keys("v")
        t.waitFor("Hold \(shown) keeps 700.00")
        try t.type(shown)
        try t.keys("Enter")
        screen = t.waitFor("voided hold \(shown) (700.00) on KRAKEN USDC #3: free now 3,000.00", "no open holds on this slot")
        XCTAssertNotEqual(t.display("#{pane_title}"), "pwned", "no escape sequence reached the terminal")
        XCTAssertEqual(try ids(), [])
        XCTAssertEqual(try books.slotHolds(usdc)[3].free, Amount("3000"))
        try t.keys("q")
        XCTAssertEqual(t.waitForExit(), 0)
    }

    /// `top --once --currency USDC`: the currency chosen after the first read still brings its own
    /// holds (the expired mark needs the list, read for the selected currency only).
    func testTopOnceShowsHoldsAndMarksAnExpiredOne() throws {
        try books.hold(usdc, index: 2, Amount("1200"), id: try HoldId("ord-7f3a"))
        try books.hold(usdc, index: 3, Amount("500"), id: try HoldId("arb-991"), ttlMicros: 1_000)
        usleep(5_000)
        let r = try shmbal(["top", "--once", "--width", "120", "--height", "35", "--segment", segment.path, "--currency", "USDC"],
                           env: ["LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"])
        XCTAssertEqual(r.status, 0, r.err)
        let rows = r.out.split(separator: "\n").map(String.init)
        XCTAssert(r.out.contains("HELD") && r.out.contains("! 1 hold expired"), r.out)
        XCTAssert(rows.contains { $0.contains("grid-bot") && $0.contains("1,200.00") && $0.contains("800.00") }, r.out)
        XCTAssert(rows.contains { $0.contains(" arb ") && $0.contains("1 !") }, r.out)
        XCTAssertEqual(try ids(), ["ord-7f3a", "arb-991"], "watching voids nothing: the next writer does")
    }
}

