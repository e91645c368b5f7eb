import Foundation
import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// Operators type money (SPEC §4): in the real dashboard, every prompt that asks for an amount
/// keeps every character typed, refuses what `shmbal` refuses with the very message `shmbal`
/// prints, and changes nothing in the segment.
final class PromptTypingTests: SeededTopTestCase {
    /// What `shmbal allocate USDC 2 TEXT` says about `text` on stderr, without the `shmbal: ` prefix.
    func cliRefusal(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let r = try shmbal(["allocate", "USDC", "2", text, "--segment", segment.path, "--exchange", "KRAKEN"])
        XCTAssertEqual(r.status, 2, r.err, file: file, line: line)
        XCTAssert(r.err.hasPrefix("shmbal: ") && r.err.hasSuffix("\n"), r.err, file: file, line: line)
        return String(r.err.dropFirst("shmbal: ".count).dropLast())
    }

    func testEveryAmountPromptRefusesWhatTheCLIRefusesWithTheCLIsMessage() throws {
        // Wide enough for the longest message on the status line.
        let t = try TmuxSession(["top", "--segment", segment.path, "--currency", "USDC"], width: 160, height: 40)
        tmux = t
        t.waitFor("USDC · 5 slots")
        let records = try books.allRecords()
        let head = books.activityHead
        let prompts = [("a", "Allocate · KRAKEN USDC #2"), ("r", "Release · KRAKEN USDC #2"), ("s", "Set total · KRAKEN USDC"),
                       ("c", "Reconcile · KRAKEN USDC"), ("R", "Reset · KRAKEN USDC")]
        for text in ["1e3", "1,000", "12.5abc"] {
            let message = try cliRefusal(text)
            for (key, title) in prompts {
                try t.keys(key)
                t.waitFor(title)
                try t.type(text)
                t.waitFor(text + "_")  // the field shows every character typed, the cursor after it
                try t.keys("Enter")
                let screen = t.waitFor(message)
                XCTAssert(screen.contains(title), "\(title): the prompt stays open to be fixed:\n\(screen)")
                try t.keys("Escape")
                t.waitFor("cancelled")  // the status line is cleared before the next attempt
            }
        }
        XCTAssertEqual(try books.allRecords(), records, "nothing changed in the books")
        XCTAssertEqual(books.activityHead, head, "nothing reached the core: the activity ring has no new entry")
        try t.keys("q")
        XCTAssertEqual(t.waitForExit(), 0)
    }
}
