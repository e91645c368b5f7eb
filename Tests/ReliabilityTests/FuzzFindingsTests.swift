import Foundation
import ShmBalance
import ShmBalanceConfig
import ShmBalanceTestSupport
import XCTest

/// What the fuzzers (Tests/Fuzz) found, kept as plain tests through the real CLI.
final class FuzzFindingsTests: XCTestCase {
    /// toml++ (inside TOMLKit, which the config used to be read with) aborted the process on a
    /// table header starting with a character that starts no key; such a header is a syntax error
    /// with the file and line, exit 4, with our own reader too.
    func testTableHeaderThatStartsNoKeyIsASyntaxErrorNotAnAbort() throws {
        let dir = TempDir()
        for header in ["[`]", "[ `]", "[[`]]", "[.a]", "[#]", "[=]", "[", "[ \r", "default_exchange = \"KRAKEN\"\n\n  [=x]"] {
            let file = dir.file("c.toml")
            try Data((header + "\n").utf8).write(to: URL(fileURLWithPath: file))
            for args in [["config", "check", file], ["config", "apply", file, "--segment", dir.file("seg")]] {
                let r = try runShmbal(args)
                XCTAssertFalse(r.signalled, "\(header): shmbal crashed")
                XCTAssertEqual(r.status, 4, "\(header): \(r.err)")
                XCTAssertTrue(r.err.contains("c.toml:\(header.split(separator: "\n", omittingEmptySubsequences: false).count):"), r.err)
                XCTAssertTrue(r.err.contains("a table name must start with") || r.err.contains("a table header needs a name"), r.err)
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("seg")), "a bad config created the segment")
        }
        // Headers that are fine stay fine.
        XCTAssertThrowsError(try ConfigFile.parse("\u{FEFF}[= 12XKRAKNCE]\n", file: "bom.toml"))
        XCTAssertNoThrow(try ConfigFile.parse("\u{FEFF}[KRAKEN.USDC]\ncredit = \"1\"\n", file: "bom.toml"))
        XCTAssertNoThrow(try ConfigFile.parse("[KRAKEN.USDC]\ncredit = \"5\"\n[ \"BINANCE\".ETH ]\nstrategies = 3\n[_X.-Y]\n", file: "ok.toml"))
    }

    /// TOMLKit (the config's former reader) quoted the offending character raw, so "saw 't⏎'" made
    /// a two-line error; every config error stays on one line.
    func testTOMLSyntaxErrorsStayOnOneLine() throws {
        let dir = TempDir()
        for text in ["defown = t\n", "a = \"x\ny\"\n", "a = [1,\n\t\r"] {
            let file = dir.file("c.toml")
            try Data(text.utf8).write(to: URL(fileURLWithPath: file))
            let r = try runShmbal(["config", "check", file])
            XCTAssertEqual(r.status, 4, r.err)
            XCTAssertEqual(r.err.split(separator: "\n").count, 1, "one line: \(r.err)")
            XCTAssertTrue(r.err.hasPrefix("shmbal: \(file):"), r.err)
        }
    }

    /// toml++ aborted on an array with a `}` where a value belongs; arrays are not part of the
    /// config, so they are refused first, with the line.
    func testArraysAreRefusedBeforeTheParserCanAbort() throws {
        let dir = TempDir()
        for text in ["a = [}\n", "a = [[}]]\n", "[KRAKEN.USDC]\ncredit = [1,}\n", "a = {b = [}}\n", "x = 1\na = [ # c\n}\n"] {
            let file = dir.file("c.toml")
            try Data(text.utf8).write(to: URL(fileURLWithPath: file))
            let r = try runShmbal(["config", "check", file])
            XCTAssertFalse(r.signalled, "\(text): shmbal crashed")
            XCTAssertEqual(r.status, 4, r.err)
            XCTAssertTrue(r.err.contains("arrays ([…]) are not part of a ShmBalance config"), r.err)
        }
        // Brackets inside strings and comments are not arrays.
        XCTAssertNoThrow(try ConfigFile.parse("# [x] = [}\n[KRAKEN.USDC] # [\nnames = { 2 = \"a[b]\", 3 = 'c[' }\n", file: "ok.toml"))
        XCTAssertThrowsError(try ConfigFile.parse("a = \"\"\"x\"\"\"\n", file: "ml.toml"))
    }

    /// The record and quote counts are unsigned in the file; one with its top bit set read as a
    /// negative Int, passed the attach check (count ≤ capacity) and then trapped every reader.
    func testNegativeLookingCountsAreRefusedAtAttach() throws {
        let dir = TempDir()
        let seg = dir.file("seg")
        XCTAssertEqual(try runShmbal(["reset", "USDC", "100", "--segment", seg, "--exchange", "KRAKEN"]).status, 0)
        let good = try Data(contentsOf: URL(fileURLWithPath: seg))
        for offset in [Layout.Header.recordCount, Layout.Header.quoteCount] {
            var bad = good
            bad[offset + 7] |= 0x80
            try bad.write(to: URL(fileURLWithPath: seg))
            for access in [Segment.AccessMode.readOnly, .readWrite] {
                XCTAssertThrowsError(try Books.open(seg, access)) { error in
                    XCTAssertTrue("\(error)".contains("exceeds its capacity"), "\(error)")
                }
            }
            let r = try runShmbal(["list", "--segment", seg])
            XCTAssertFalse(r.signalled, "list crashed on a negative-looking count")
            XCTAssertEqual(r.status, 4, r.err)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: seg)), bad, "attaching changed the file")
        }
    }
}
