import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// `TerminalText.safe`, the one function every sink (CLI output, the dashboard's grid) uses.
final class TerminalTextTests: XCTestCase {
    func testControlCharactersAreWrittenOut() {
        XCTAssertEqual(TerminalText.safe("a\nb\rc\td"), #"a\nb\rc\td"#)
        XCTAssertEqual(TerminalText.safe("\u{1B}[2J\u{07}\u{00}\u{7F}"), #"\x1b[2J\x07\x00\x7f"#)
        for v in UInt32(0)..<0x20 {
            let out = TerminalText.safe(String(Unicode.Scalar(v)!))
            XCTAssert(out.hasPrefix("\\") && out.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F }, "U+\(v): \(out)")
        }
        for v in UInt32(0x80)...0x9F {
            XCTAssertEqual(TerminalText.safe(String(Unicode.Scalar(v)!)), "\\u{\(String(v, radix: 16))}", "C1 U+\(v)")
        }
    }

    func testOnlyOneColumnCharactersPassAsTheyAre() {
        // What the core's messages and the dashboard draw, and accented Latin in a path.
        for kept in ["…", "Δ", "≠", "✓", "✗", "─", "│", "┌", "█", "▶", "·", "←", "↑", "—", "×", "µ", "é", "ß", "Ж", "€", "’"] {
            XCTAssertEqual(TerminalText.safe(kept), kept)
        }
        // Wide, zero-width, combining, bidi, separators, emoji, private use: escaped.
        let escaped: [(String, String)] = [
            ("中", #"\u{4e2d}"#), ("\u{FF21}", #"\u{ff21}"#), ("\u{200B}", #"\u{200b}"#), ("\u{202E}", #"\u{202e}"#),
            ("e\u{301}", #"e\u{301}"#), ("\u{2028}", #"\u{2028}"#), ("✅", #"\u{2705}"#), ("😀", #"\u{1f600}"#),
            ("\u{E000}", #"\u{e000}"#), ("\u{FEFF}", #"\u{feff}"#), ("\u{00AD}", #"\u{ad}"#), ("א", #"\u{5d0}"#),
        ]
        for (input, shown) in escaped { XCTAssertEqual(TerminalText.safe(input), shown, shown) }
        // A backslash is not an escape: JSON text passes unchanged.
        XCTAssertEqual(TerminalText.safe(#"{"a":"\u001b\\"}"#), #"{"a":"\u001b\\"}"#)
    }

    /// Whatever goes in, what comes out is one scalar per character, each shown as itself, so a
    /// frame can count columns with `count`; and making it safe again changes nothing.
    func testTheOutputIsAlwaysOneColumnPerCharacter() {
        var g = SplitMix64(seed: 0x7E47)
        let pool: [UInt32] = [0x00, 0x07, 0x0A, 0x1B, 0x41, 0x5C, 0x7F, 0x85, 0x9B, 0xE9, 0x301, 0x5D0, 0x2026, 0x200D, 0x202E,
                              0x2500, 0x2705, 0x4E2D, 0xFE0F, 0x1F1E6, 0x1F600]
        for _ in 0..<2000 {
            var s = ""
            for _ in 0..<Int(g.next() % 12) { s.unicodeScalars.append(Unicode.Scalar(pool[Int(g.next() % UInt64(pool.count))])!) }
            let out = TerminalText.safe(s)
            XCTAssertEqual(out.count, out.unicodeScalars.count, "a character made of several scalars: \(out.debugDescription)")
            XCTAssert(out.allSatisfy(TerminalText.isShownAsIs), out.debugDescription)
            XCTAssertEqual(TerminalText.safe(out), out)
        }
    }
}
