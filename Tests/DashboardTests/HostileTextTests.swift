import Foundation
import ShmBalance
import ShmBalanceDashboard
import ShmBalanceTestSupport
import XCTest

/// Text the dashboard did not write (a segment path, names read from the segment, a message
/// echoing what was typed) never reaches the terminal as control characters or escape
/// sequences, and never breaks a frame's boxes (SPEC §4, "Text from the segment is untrusted").
final class HostileTextTests: XCTestCase {
    /// A path with a clear-screen, a set-title and a colour sequence, a bell, a newline, a C1 control.
    static let hostileName = "seg\u{1B}[2J\u{1B}]0;pwned\u{07}\u{1B}[31m\nX\u{9B}1m"
    /// How the header shows it.
    static let shownName = "seg\\x1b[2J\\x1b]0;pwned\\x07\\x1b[31m\\nX\\u{9b}1m"

    var segment: TempSegment!
    var tmux: TmuxSession?

    override func setUp() {
        super.setUp()
        segment = TempSegment(HostileTextTests.hostileName)
        try! seedExample(try! segment.books())
    }

    override func tearDown() {
        tmux?.close()
        tmux = nil
        segment = nil
        super.tearDown()
    }

    /// Every frame line fits the width; the box lines (top, bottom, and the rows between their
    /// side borders) are exactly as wide as the terminal.
    func assertBoxesIntact(_ screen: String, width: Int, height: Int, file: StaticString = #filePath, line: UInt = #line) {
        let lines = screen.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertGreaterThanOrEqual(lines.count, height, screen, file: file, line: line)
        var boxes = 0
        for (i, l) in lines.prefix(height).enumerated() {
            XCTAssertLessThanOrEqual(l.count, width, "line \(i) is wider than the terminal:\n\(screen)", file: file, line: line)
            guard let first = l.first, "┌└│".contains(first) else { continue }
            boxes += 1
            XCTAssertEqual(l.count, width, "line \(i) of a box is not the terminal's width:\n\(screen)", file: file, line: line)
            XCTAssert(l.last.map { "┐┘│".contains($0) } ?? false, "line \(i) lost its right border:\n\(screen)", file: file, line: line)
        }
        XCTAssertGreaterThan(boxes, 9, "the three panels are drawn:\n\(screen)", file: file, line: line)
        XCTAssert(lines.first?.hasPrefix(" ShmBalance") ?? false, "the header is the first line:\n\(screen)", file: file, line: line)
        XCTAssert(lines.dropFirst().first?.hasPrefix("┌ Currencies") ?? false, "the first box starts on line 2:\n\(screen)", file: file, line: line)
    }

    func testTopOnceWithAHostileSegmentPath() throws {
        let r = try shmbal(["top", "--once", "--width", "120", "--height", "35", "--color", "never", "--segment", segment.path],
                           env: ["LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertFalse(r.out.utf8.contains(0x1B), "no ESC byte reaches stdout")
        XCTAssertFalse(r.out.unicodeScalars.contains { (0x80...0x9F).contains($0.value) || $0.value == 0x07 }, "no C1 control, no bell")
        XCTAssertEqual(r.out.split(separator: "\n", omittingEmptySubsequences: false).dropLast().count, 35, "one line per row:\n\(r.out)")
        XCTAssert(r.out.contains(HostileTextTests.shownName), "the path is shown escaped:\n\(r.out)")
        assertBoxesIntact(r.out, width: 120, height: 35)
    }

    func testLiveTopWithAHostileSegmentPathDrawsIntactBoxes() throws {
        let t = try TmuxSession(["top", "--segment", segment.path, "--currency", "USDC"])
        tmux = t
        let screen = t.waitFor("USDC · 5 slots", "10,000.00 = 4,000.00 + 6,000.00 ✓", "x07")
        XCTAssert(screen.contains(HostileTextTests.shownName), "the header shows the path escaped:\n\(screen)")
        assertBoxesIntact(screen, width: 120, height: 35)
        XCTAssertNotEqual(t.display("#{pane_title}"), "pwned", "no escape sequence reached the terminal")
        // An action's message names the record; the frame stays intact after it.
        try t.keys("a")
        try t.type("5")
        try t.keys("Enter")
        assertBoxesIntact(t.waitFor("allocated 5.00"), width: 120, height: 35)
        try t.keys("q")
        XCTAssertEqual(t.waitForExit(), 0)
    }

    /// Names and exchanges stored in the segment with escape sequences (a hostile or corrupt
    /// writer: the core's API refuses such names, so the bytes are patched into the file).
    func testNamesFromTheSegmentAreShownSafely() throws {
        try plantHostileNames(segment.path)
        let r = try shmbal(["top", "--once", "--width", "120", "--height", "35", "--color", "never", "--currency", "USDC", "--segment", segment.path])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertFalse(r.out.utf8.contains(0x1B), r.out)
        XCTAssertFalse(r.out.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" }, r.out)
        assertBoxesIntact(r.out, width: 120, height: 35)
        XCTAssert(r.out.contains("?[31m?X"), "the stored bytes show as ? (not printable ASCII):\n\(r.out)")
    }

    // MARK: - in process: the grid itself

    func testTheGridNeverStoresAControlCharacter() {
        var grid = Grid(Size(width: 50, height: 3))
        let end = grid.put("a\u{1B}[31mb\nc\u{9B}\u{7F}\u{200B}中e\u{301}", x: 0, y: 0)
        let shown = #"a\x1b[31mb\nc\u{9b}\x7f\u{200b}\u{4e2d}e\u{301}"#
        XCTAssertEqual(grid.line(0), shown + "   ", "escaped: controls, C1, a zero-width space, a wide character, a combining mark")
        XCTAssertEqual(end, shown.count)
        XCTAssertEqual(grid.put(shown + "overflow", x: 0, y: 2), 50, "clipped at the edge, never wrapped")
        grid[0, 1] = Cell("\u{1B}")
        grid.fill(x: 1, y: 1, width: 2, height: 1, "\n")
        XCTAssertEqual(Array(grid.line(1).prefix(3)), ["?", "?", "?"])
        for cell in grid.cells {
            XCTAssert(TerminalText.isShownAsIs(cell.character), "cell holds \(cell.character.unicodeScalars.map { String($0.value, radix: 16) })")
        }
        // What the dashboard draws itself passes unchanged.
        var own = Grid(Size(width: 20, height: 1))
        own.put("┌─ ✓ ✗ ▶ █ · ≠ — Δ …", x: 0, y: 0)
        XCTAssertEqual(own.line(0), "┌─ ✓ ✗ ▶ █ · ≠ — Δ …")
    }

    func testAStatusEchoingTypedTextIsEscaped() {
        let s = Status(.error, "'1\u{1B}[2J' is not an amount")
        XCTAssertEqual(s.text, #"'1\x1b[2J' is not an amount"#)
    }
}

/// Gives KRAKEN USDC's slot #2 a name holding an SGR sequence and a newline, and the exchange
/// of a new record BINANCE BTC a set-title sequence, by patching the bytes in the file.
func plantHostileNames(_ path: String) throws {
    let books = try Books.open(path, .readWrite)
    try books.setName(key("USDC"), index: 2, label("ZZZZZZZZZZZZZZZ"))
    try books.reset(try BookKey("QQQQQQQQQQQQQQQ", "BTC"), balance: Amount("1"), strategyCount: 3)
    try patchFile(path, Array("ZZZZZZZZZZZZZZZ".utf8), [0x1B] + Array("[31m".utf8) + [0x0A] + Array("X".utf8) + [0xC2, 0x9B] + Array("2J".utf8))
    try patchFile(path, Array("QQQQQQQQQQQQQQQ".utf8), [0x1B] + Array("]0;pwned".utf8) + [0x07, 0x1B] + Array("[2J".utf8))
}

/// Overwrites every occurrence of `find` in the file with `replacement` padded with NULs to the same length.
func patchFile(_ path: String, _ find: [UInt8], _ replacement: [UInt8]) throws {
    precondition(replacement.count <= find.count)
    let handle = try XCTUnwrap(FileHandle(forUpdatingAtPath: path))
    defer { try? handle.close() }
    let data = [UInt8](try handle.readToEnd() ?? Data())
    let padded = replacement + [UInt8](repeating: 0, count: find.count - replacement.count)
    var found = 0
    var i = 0
    while i + find.count <= data.count {
        if data[i] == find[0] && Array(data[i..<(i + find.count)]) == find {
            try handle.seek(toOffset: UInt64(i))
            try handle.write(contentsOf: padded)
            found += 1
            i += find.count
        } else {
            i += 1
        }
    }
    XCTAssertGreaterThan(found, 0, "nothing to patch in \(path)")
}
