import Foundation
import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// Paths, arguments and names the CLI echoes never reach the terminal as control characters or
/// escape sequences (SPEC §4, "Text from the segment is untrusted"): they are shown escaped
/// (`\x1b`, `\n`), an error stays one line, and a table keeps its columns.
final class CLIHostileTextTests: XCTestCase {
    /// A clear-screen, a set-title, a colour, a bell, a newline and a C1 control (CSI, U+009B).
    static let hostile = "a\u{1B}[2J\u{1B}]0;pwned\u{07}\u{1B}[31m\nb\u{9B}1m"
    static let shown = #"a\x1b[2J\x1b]0;pwned\x07\x1b[31m\nb\u{9b}1m"#

    var dir: TempDir!

    override func setUp() {
        super.setUp()
        dir = TempDir("hostile")
    }

    override func tearDown() {
        dir = nil
        super.tearDown()
    }

    func run(_ args: [String]) throws -> RunResult {
        try runProcess(productPath("shmbal"), args, env: ["SHMBAL_SEGMENT": dir.file("seg"), "SHMBAL_EXCHANGE": "KRAKEN"], cwd: dir.path)
    }

    /// Nothing a terminal acts on: no C0 control but the line ends, no DEL, no C1 control.
    func assertTerminalSafe(_ text: String, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        let bad = text.unicodeScalars.filter { ($0.value < 0x20 && $0 != "\n") || (0x7F...0x9F).contains($0.value) }
        XCTAssert(bad.isEmpty, "\(what): \(bad.map { String($0.value, radix: 16) }) in:\n\(text)", file: file, line: line)
    }

    func assertOneLineError(_ r: RunResult, status: Int32, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.status, status, "\(what): \(r.err)", file: file, line: line)
        XCTAssertEqual(r.err.filter { $0 == "\n" }.count, 1, "\(what): one line: \(r.err)", file: file, line: line)
        XCTAssert(r.err.hasPrefix("shmbal: "), r.err, file: file, line: line)
        assertTerminalSafe(r.err, what, file: file, line: line)
    }

    func testErrorsEchoingArgumentsStayOneSafeLine() throws {
        let h = CLIHostileTextTests.hostile
        let cases: [([String], Int32)] = [
            (["reset", h, "1"], 2),                       // a currency name
            (["allocate", "USDC", "2", h], 2),            // an amount
            (["reset", "USDC", "1", "--exchange", h], 2), // an exchange
            (["name", "USDC", "2", h], 2),                // a slot name
            (["allocate", "USDC", "2", "1", "--op-id", h], 2),  // an op id
            (["hold", "USDC", "2", "1", "--id", h], 2),   // a hold id, a ttl, a fee
            (["hold", "USDC", "2", "1", "--id", "h1", "--ttl", h], 2),
            (["fill", "USDC", "--id", "h1", "1", "--fee", h], 2),
            ([h], 2),                                     // the argument parser's own message: an unknown command
            (["get", "USDC", h], 2),                      // … an unexpected argument
            (["allocate", "USDC", h, "1"], 2),            // … a value that is not a number
            (["get", "USDC", "--\(h)"], 2),               // … an unknown option
            (["get", "USDC", "--segment", dir.file(h)], 4),  // a path in a core error
            (["config", "check", dir.file(h)], 4),        // a path in a config error
            (["snapshot", "verify", dir.file(h)], 4),
        ]
        for (args, status) in cases {
            let r = try run(args)
            assertOneLineError(r, status: status, "shmbal \(args)")
            // (The config loader escapes paths in its own messages already, Swift-style: \u{1b}.)
            if args[0] != "config" {
                XCTAssert(r.err.contains(#"\x1b[2J\x1b]0;pwned\x07\x1b[31m\nb"#), "shmbal \(args): the text is shown escaped: \(r.err)")
            }
        }
    }

    func testOutputEchoingPathsStaysOneSafeLinePerLine() throws {
        let seg = dir.file("seg" + CLIHostileTextTests.hostile)
        let snap = dir.file("snap" + CLIHostileTextTests.hostile)
        let config = dir.file("books" + CLIHostileTextTests.hostile + ".toml")
        try "[KRAKEN.USDC]\ncredit = \"5\"\n".write(toFile: config, atomically: false, encoding: .utf8)
        let runs: [[String]] = [
            ["init", "--segment", seg], ["reset", "USDC", "10", "--segment", seg], ["config", "check", config],
            ["config", "apply", config, "--segment", seg], ["snapshot", "save", snap, "--segment", seg], ["snapshot", "verify", snap],
            ["list", "--segment", seg], ["log", "--segment", seg],
        ]
        for args in runs {
            let r = try run(args)
            XCTAssertEqual(r.status, 0, "shmbal \(args): \(r.err)")
            assertTerminalSafe(r.out, "shmbal \(args)")
            if ["init", "snapshot", "config"].contains(args[0]) {
                XCTAssertEqual(r.out.filter { $0 == "\n" }.count, 1, "shmbal \(args): one line: \(r.out)")
                XCTAssert(r.out.contains(CLIHostileTextTests.shown), "shmbal \(args): the path is shown escaped: \(r.out)")
            }
        }
        // JSON stays valid JSON, of printable ASCII.
        let restored = dir.file("restored" + CLIHostileTextTests.hostile)
        XCTAssertEqual(try run(["snapshot", "restore", snap, "--segment", restored]).status, 0)
        let json = try run(["list", "--json", "--segment", restored])
        XCTAssertEqual(json.status, 0, json.err)
        XCTAssert(json.out.unicodeScalars.allSatisfy { $0 == "\n" || ($0.value >= 0x20 && $0.value < 0x7F) }, json.out)
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(json.out.utf8)))
    }

    /// Names and exchanges read from a segment a hostile or corrupt writer left escape sequences
    /// in (the core's API refuses them, so the bytes are patched into the file).
    func testNamesFromTheSegmentAreShownSafely() throws {
        let seg = dir.file("seg")
        XCTAssertEqual(try run(["reset", "USDC", "100", "--strategies", "4", "--segment", seg]).status, 0)
        XCTAssertEqual(try run(["name", "USDC", "2", "ZZZZZZZZZZZZZZZ", "--segment", seg]).status, 0)
        XCTAssertEqual(try run(["reset", "BTC", "1", "--exchange", "QQQQQQQQQQQQQQQ", "--segment", seg]).status, 0)
        try patch(seg, "ZZZZZZZZZZZZZZZ", [0x1B] + Array("[31m".utf8) + [0x0A] + Array("X".utf8) + [0xC2, 0x9B] + Array("2J".utf8))
        try patch(seg, "QQQQQQQQQQQQQQQ", [0x1B] + Array("]0;pwned".utf8) + [0x07, 0x1B] + Array("[2J".utf8))
        for args in [["get", "USDC"], ["list"], ["list", "--json"], ["log"], ["log", "--json"], ["check"], ["get", "USDC", "--json"]] {
            let r = try run(args + ["--segment", seg])
            XCTAssertEqual(r.status, 0, "\(args): \(r.err)")
            assertTerminalSafe(r.out, "\(args)")
            if args == ["list"] {
                let lines = r.out.split(separator: "\n")
                XCTAssertEqual(lines.count, 3, "a header and two rows:\n\(r.out)")
                XCTAssertEqual(Set(lines.map(\.count)).count, 1, "the columns line up (every line is padded to the table's width):\n\(r.out)")
            }
        }
    }

    func patch(_ path: String, _ find: String, _ replacement: [UInt8]) throws {
        let f = Array(find.utf8)
        var data = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let padded = replacement + [UInt8](repeating: 0, count: f.count - replacement.count)
        var found = 0
        var i = 0
        while i + f.count <= data.count {
            if data[i] == f[0] && Array(data[i..<(i + f.count)]) == f {
                data.replaceSubrange(i..<(i + f.count), with: padded)
                found += 1
            }
            i += 1
        }
        XCTAssertGreaterThan(found, 0)
        // In place: the segment is one mapped file, never replaced.
        let h = try XCTUnwrap(FileHandle(forUpdatingAtPath: path))
        try h.write(contentsOf: Data(data))
        try h.close()
    }
}
