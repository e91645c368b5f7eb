import Foundation
import ShmBalanceTestSupport
import XCTest

/// SPEC §4: `config check` and `config apply` accept and refuse exactly the same files, and a
/// refused apply changes nothing. Every file below goes through both commands as real `shmbal`
/// processes: check first, then apply on a scratch segment that already holds an unrelated
/// record (KRAKEN ZZZ), so "changed nothing" compares the whole segment file byte for byte.
final class ConfigAgreementTests: XCTestCase {
    /// A file and what both commands must say about it: `nil` accepted, else refused at `line`.
    struct Case {
        var name: String
        var bytes: [UInt8]
        var refusedAt: Int?

        init(_ name: String, _ text: String, refusedAt: Int? = nil) {
            self.init(name, Array(text.utf8), refusedAt: refusedAt)
        }

        init(_ name: String, _ bytes: [UInt8], refusedAt: Int? = nil) {
            self.name = name
            self.bytes = bytes
            self.refusedAt = refusedAt
        }
    }

    static let spec = """
        default_exchange = "KRAKEN"

        [KRAKEN.USDC]
        credit = "5000"
        strategies = 5
        names = { 2 = "grid-bot", 3 = "arb", 4 = "mm" }

        """

    static let cases: [Case] = [
        // Accepted.
        Case("the spec's example", spec),
        Case("the spec's example with CRLF line ends", spec.replacingOccurrences(of: "\n", with: "\r\n")),
        Case("a byte order mark, comments and blank lines", "\u{FEFF}# books\n\n[KRAKEN.USDC]   # the main one\n\n\tcredit = \"1\"  # exact\n"),
        Case("dotted keys under an exchange", "[KRAKEN]\nUSDC.credit = \"1\"\nUSDC.strategies = 4\nUSDC.names.2 = \"a\"\n"),
        Case("an inline currency table", "[KRAKEN]\nUSDC = { credit = \"5000\", strategies = 5, names = { 2 = \"grid-bot\" } }\n"),
        Case("quoted header parts", "[\"KRAKEN\" . 'USDC']\ncredit = '7'\n"),
        Case("bare exact numbers", "[KRAKEN.USDC]\ncredit = 5000.5\n[KRAKEN.USDT]\ncredit = 1234567890.123456789\n[KRAKEN.USD]\ncredit = +0\n"),
        Case("escapes in a slot name", "[KRAKEN.USDC]\nnames = { 2 = \"grid\\u002Dbot\", 3 = \"a\\\"b\" }\n"),
        Case("lower-case names fold to upper case", "[kraken.usdc]\ncredit = \"1\"\n"),
        Case("the widest record", "[KRAKEN.USDC]\nstrategies = 64\nnames = { 63 = \"last\", 0 = \"all\" }\n"),
        Case("names within a new record's 8 slots", "[KRAKEN.USDC]\nnames = { 7 = \"x\" }\n"),
        Case("an empty file", ""),
        Case("only comments", "# nothing\n   # here\r\n"),
        Case("a hundred currencies", (0..<100).map { "[KRAKEN.C\($0)]\ncredit = \"\($0).5\"\nstrategies = \(2 + $0 % 63)\n" }.joined()),

        // Refused, at the line given.
        Case("a control character before a value's end (toml++ aborted)", Array("a = 1\u{1}X------- 1\n".utf8), refusedAt: 1),
        Case("200,000 dotted parts in a header (toml++ overflowed its stack)", "[" + Array(repeating: "a", count: 200_000).joined(separator: ".") + "]\n", refusedAt: 1),
        Case("two tables that fold to one record", "[KRAKEN.usdc]\ncredit = \"1\"\n[KRAKEN.USDC]\ncredit = \"2\"\n", refusedAt: 3),
        Case("two exchanges that fold to one record", "[kraken.USDC]\ncredit = \"1\"\n\n[KRAKEN]\nUSDC.credit = \"2\"\n", refusedAt: 5),
        Case("a name beyond the configured count", "[KRAKEN.USDC]\nstrategies = 3\nnames = { 4 = \"mm\" }\n", refusedAt: 3),
        Case("a name beyond a new record's 8 slots", "[KRAKEN.USDC]\ncredit = \"1\"\nnames = { 10 = \"x\" }\n", refusedAt: 3),
        Case("a name beyond 63", "[KRAKEN.USDC]\nstrategies = 64\nnames = { 64 = \"x\" }\n", refusedAt: 3),
        Case("an exponent", "[KRAKEN.USDC]\ncredit = 1e3\n", refusedAt: 2),
        Case("CRLF: the error keeps its line", "[KRAKEN.USDC]\r\ncredit = \"1\"\r\n\r\nstrategies = 99\r\n", refusedAt: 4),
        Case("strategies below 2", "[KRAKEN.USDC]\nstrategies = 1\n", refusedAt: 2),
        Case("strategies as a float", "[KRAKEN.USDC]\nstrategies = 5.0\n", refusedAt: 2),
        Case("a negative credit", "[KRAKEN.USDC]\n\ncredit = \"-5\"\n", refusedAt: 3),
        Case("a credit that is not a number", "[KRAKEN.USDC]\ncredit = \"abc\"\n", refusedAt: 2),
        Case("a boolean credit", "[KRAKEN.USDC]\ncredit = true\n", refusedAt: 2),
        Case("a hexadecimal credit", "[KRAKEN.USDC]\ncredit = 0x10\n", refusedAt: 2),
        Case("digit separators", "[KRAKEN.USDC]\ncredit = 5_000\n", refusedAt: 2),
        Case("more decimals than are stored", "[KRAKEN.USDC]\ncredit = 0.1234567890123456789\n", refusedAt: 2),
        Case("an array", "[KRAKEN.USDC]\ncredit = [1]\n", refusedAt: 2),
        Case("a multi-line string", "[KRAKEN.USDC]\ncredit = \"\"\"1\"\"\"\n", refusedAt: 2),
        Case("a date", "x = 1\n[KRAKEN.USDC]\ncredit = 1979-05-27\n", refusedAt: 3),
        Case("a key defined twice", "[KRAKEN.USDC]\ncredit = \"1\"\ncredit = \"2\"\n", refusedAt: 3),
        Case("a table defined twice", "[KRAKEN.USDC]\n[KRAKEN.USD]\n[KRAKEN.USDC]\n", refusedAt: 3),
        Case("an unknown key", "[KRAKEN.USDC]\ncredit = \"5000\"\nlimit = 3\n", refusedAt: 3),
        Case("bytes that are not UTF-8", [UInt8]("[KRAKEN.USDC]\n# caf".utf8) + [0xE9] + [UInt8]("\n".utf8), refusedAt: 2),
        Case("a control character inside a string", Array("[KRAKEN.USDC]\nnames = { 2 = \"a\u{7}b\" }\n".utf8), refusedAt: 2),
        Case("an escape sequence in a key", "[KRAKEN.\"\\u001B[31mUSDC\"]\ncredit = \"1\"\n", refusedAt: 1),
        Case("a lone carriage return", Array("[KRAKEN.USDC]\ncredit = \"1\"\rstrategies = 3\n".utf8), refusedAt: 2),
        Case("an unterminated string", "[KRAKEN.USDC]\ncredit = \"5000\n", refusedAt: 2),
        Case("an inline table left open", "[KRAKEN]\nUSDC = { credit = \"1\"\n", refusedAt: 2),
        Case("a key part beyond 64 bytes", "[KRAKEN.\(String(repeating: "U", count: 65))]\n", refusedAt: 1),
        Case("a slot index that is not a number", "[KRAKEN.USDC]\nnames = { two = \"x\" }\n", refusedAt: 2),
        Case("a default exchange that is not text", "default_exchange = 7\n", refusedAt: 1),
        Case("a default exchange with a space", "\n\ndefault_exchange = \"KRA KEN\"\n", refusedAt: 3),
    ]

    func testCheckAndApplyAgreeOnEveryFile() throws {
        let dir = TempDir("agree")
        let template = dir.file("template")
        let seg = dir.file("seg")
        let env = ["SHMBAL_SEGMENT": seg, "SHMBAL_EXCHANGE": ""]
        // Room for the largest file's records: `check` reads no segment, so the table's capacity
        // is not what the two must agree on (a full table is apply's own refusal, tested apart).
        XCTAssertEqual(try runProduct("shmbal", ["init", "--records", "128", "--holds", "16", "--op-ids", "16", "--segment", template]).status, 0)
        XCTAssertEqual(try runProduct("shmbal", ["reset", "ZZZ", "100", "--exchange", "KRAKEN", "--segment", template]).status, 0)
        for (n, c) in Self.cases.enumerated() {
            let file = dir.file("case\(n).toml")
            try Data(c.bytes).write(to: URL(fileURLWithPath: file))
            // Each file meets the same segment: what an earlier file created must not decide this one.
            try? FileManager.default.removeItem(atPath: seg)
            try FileManager.default.copyItem(atPath: template, toPath: seg)
            let before = try Data(contentsOf: URL(fileURLWithPath: seg))
            let check = try runProduct("shmbal", ["config", "check", file], env: env)
            let apply = try runProduct("shmbal", ["config", "apply", file], env: env)
            let what = "\(c.name): check exit \(check.status) \(check.err) / apply exit \(apply.status) \(apply.err)"
            XCTAssertFalse(check.signalled || apply.signalled, "crashed: \(what)")
            XCTAssertEqual(check.status == 0, apply.status == 0, "check and apply disagree: \(what)")
            if let line = c.refusedAt {
                XCTAssertEqual(check.status, 4, what)
                XCTAssertEqual(apply.status, 4, what)
                XCTAssertEqual(check.err, apply.err, "the same reason from both: \(what)")
                assertOneCleanLine(check.err, file: file, line: line, what)
                print("refused as it should be: \(check.err.dropFirst("shmbal: ".count + file.count + 1).dropLast())")
                XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: seg)), before, "a refused apply changed the segment: \(what)")
            } else {
                XCTAssertEqual(check.status, 0, what)
                XCTAssertEqual(apply.status, 0, what)
                // The same records: check counts them, apply creates them (none exists in the template).
                let counted = check.out.split(separator: " ").drop { $0 != "ok," }.dropFirst().first
                XCTAssertEqual(counted.map(String.init), apply.out.split(separator: " ").dropFirst().first.map(String.init), what)
            }
        }
    }

    /// A refused apply on a path with no segment leaves no segment behind (SPEC §4: a command
    /// that fails on bad input creates no segment file).
    func testARefusedApplyCreatesNoSegment() throws {
        let dir = TempDir("agree")
        let seg = dir.file("seg")
        for (n, c) in Self.cases.enumerated() where c.refusedAt != nil {
            let file = dir.file("case\(n).toml")
            try Data(c.bytes).write(to: URL(fileURLWithPath: file))
            let apply = try runProduct("shmbal", ["config", "apply", file, "--segment", seg])
            XCTAssertEqual(apply.status, 4, "\(c.name): \(apply.err)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: seg), "\(c.name): a refused apply created the segment")
            try? FileManager.default.removeItem(atPath: seg)
        }
    }

    /// What only the segment can decide, and the one place check and apply may differ (README,
    /// Config): apply checks names against an existing record's count, and refuses to shrink a
    /// record over a slot that holds money; check, segment-free, takes every record as new.
    func testWhatOnlyTheSegmentDecides() throws {
        let dir = TempDir("agree")
        let seg = dir.file("seg")
        let env = ["SHMBAL_SEGMENT": seg, "SHMBAL_EXCHANGE": "KRAKEN"]
        XCTAssertEqual(try runProduct("shmbal", ["reset", "USDC", "100", "--strategies", "20"], env: env).status, 0)
        XCTAssertEqual(try runProduct("shmbal", ["allocate", "USDC", "4", "1"], env: env).status, 0)
        let names = dir.file("names.toml")
        try "[KRAKEN.USDC]\nnames = { 15 = \"late\" }\n".write(toFile: names, atomically: true, encoding: .utf8)
        let check = try runProduct("shmbal", ["config", "check", names], env: env)
        XCTAssertEqual(check.status, 4, "a new record would get 8 slots: \(check.err)")
        let apply = try runProduct("shmbal", ["config", "apply", names], env: env)
        XCTAssertEqual(apply.status, 0, "the record has 20 slots in the segment: \(apply.err)")
        XCTAssertTrue(try runProduct("shmbal", ["get", "USDC"], env: env).out.contains("late"))

        let shrink = dir.file("shrink.toml")
        try "# shrink\n[KRAKEN.USD]\ncredit = \"1\"\n[KRAKEN.USDC]\nstrategies = 3\n".write(toFile: shrink, atomically: true, encoding: .utf8)
        XCTAssertEqual(try runProduct("shmbal", ["config", "check", shrink], env: env).status, 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: seg))
        let refused = try runProduct("shmbal", ["config", "apply", shrink], env: env)
        XCTAssertEqual(refused.status, 3, refused.err)
        XCTAssertEqual(refused.err, "shmbal: \(shrink):4: KRAKEN USDC: cannot shrink to 3 slots: slot #4 still holds 1.00; nothing was applied\n")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: seg)).count, before.count)
        XCTAssertFalse(try runProduct("shmbal", ["list"], env: env).out.contains("USD "), "KRAKEN USD was not created")
    }

    /// One line on stderr, `shmbal: FILE:LINE: …; nothing was applied`, no raw control character.
    func assertOneCleanLine(_ err: String, file: String, line: Int, _ what: String, sourceFile: StaticString = #filePath, l: UInt = #line) {
        XCTAssertTrue(err.hasPrefix("shmbal: \(file):\(line): "), "wrong place: \(what)", file: sourceFile, line: l)
        XCTAssertTrue(err.hasSuffix("; nothing was applied\n"), what, file: sourceFile, line: l)
        XCTAssertEqual(err.filter { $0 == "\n" }.count, 1, "one line: \(what)", file: sourceFile, line: l)
        let raw = err.unicodeScalars.dropLast().filter { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }
        XCTAssertTrue(raw.isEmpty, "raw control characters \(raw.map(\.value)) in: \(what)", file: sourceFile, line: l)
        XCTAssertLessThan(err.utf8.count, 400, "a bounded message: \(what)", file: sourceFile, line: l)
    }
}
