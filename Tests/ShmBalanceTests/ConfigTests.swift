import Foundation
import ShmBalance
import ShmBalanceConfig
import ShmBalanceTestSupport
import XCTest

/// The TOML config (SPEC §5): parsed exactly, located errors, applied all or nothing.
final class ConfigTests: XCTestCase {
    let specExample = """
        default_exchange = "KRAKEN"

        [KRAKEN.USDC]
        credit = "5000"
        strategies = 5
        names = { 2 = "grid-bot", 3 = "arb", 4 = "mm" }
        """

    /// Parsed and validated as `config check` does (every record new).
    func parse(_ text: String) throws -> ConfigFile { try ConfigFile.check(text, file: "books.toml") }

    func assertBad(_ text: String, line: Int?, key: String?, _ reason: String, file: StaticString = #filePath, l: UInt = #line) {
        XCTAssertThrowsError(try parse(text), file: file, line: l) { error in
            guard let e = error as? ConfigError else { return XCTFail("\(error)", file: file, line: l) }
            XCTAssertEqual(e.line, line, "\(e)", file: file, line: l)
            XCTAssertEqual(e.key, key, "\(e)", file: file, line: l)
            XCTAssertTrue(e.description.contains(reason), "\(e)", file: file, line: l)
            XCTAssertTrue(e.description.hasPrefix("books.toml"), "\(e)", file: file, line: l)
        }
    }

    func testParsesTheSpecExample() throws {
        let c = try parse(specExample)
        XCTAssertEqual(c.defaultExchange?.description, "KRAKEN")
        XCTAssertEqual(c.records.count, 1)
        let r = c.records[0]
        XCTAssertEqual(r.key, key("USDC"))
        XCTAssertEqual(r.creditLimit, Amount("5000"))
        XCTAssertEqual(r.strategyCount, 5)
        XCTAssertEqual(r.names.mapValues(\.description), [2: "grid-bot", 3: "arb", 4: "mm"])
    }

    /// The README's Config section shows a file; it must be one that `config check` accepts.
    func testTheREADMEsExampleParses() throws {
        let readme = try String(contentsOfFile: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../README.md").path, encoding: .utf8)
        let section = try XCTUnwrap(readme.range(of: "## Config\n"))
        let open = try XCTUnwrap(readme.range(of: "```toml\n", range: section.upperBound..<readme.endIndex))
        let close = try XCTUnwrap(readme.range(of: "```", range: open.upperBound..<readme.endIndex))
        let c = try parse(String(readme[open.upperBound..<close.lowerBound]))
        XCTAssertEqual(c.records.map(\.key), [key("USDC"), key("USD"), key("USDT")])
        XCTAssertEqual(c.records[1].creditLimit, Amount("250.5"))
    }

    func testAmountsAreExact() throws {
        XCTAssertEqual(try parse("[K.A]\ncredit = 5000").records[0].creditLimit, Amount("5000"))
        XCTAssertEqual(try parse("[K.A]\ncredit = \"0.123456789012345678\"").records[0].creditLimit, Amount("0.123456789012345678"))
        XCTAssertEqual(try parse("[K.A]\ncredit = 5000.5").records[0].creditLimit, Amount("5000.5"), "a float that means what it says")
        XCTAssertEqual(try parse("[K.A]\ncredit = 123456789012.12345678").records[0].creditLimit, Amount("123456789012.12345678"),
                       "more digits than a Double keeps, read exactly")
        XCTAssertEqual(try parse("[K.A]\ncredit = 1234567890.123456789").records[0].creditLimit, Amount("1234567890.123456789"))
        XCTAssertEqual(try parse("[K.A]\ncredit = 999999999999999999.999999999999999999").records[0].creditLimit,
                       Amount("999999999999999999.999999999999999999"), "the largest amount, bare")
        XCTAssertEqual(try parse("[K.A]\ncredit = +0.000000000000000001").records[0].creditLimit, Amount("0.000000000000000001"))
        assertBad("[K.A]\ncredit = 2.5e3", line: 2, key: "K.A.credit", "exponents are not accepted")
        assertBad("[K.A]\ncredit = 1e3", line: 2, key: "K.A.credit", "write all the digits (1000, not 1e3)")
        assertBad("[K.A]\ncredit = 1E3", line: 2, key: "K.A.credit", "exponents are not accepted")
        assertBad("[K.A]\ncredit = 0.1234567890123456789", line: 2, key: "K.A.credit", "more than 18 decimal places")
        assertBad("[K.A]\ncredit = 1000000000000000000", line: 2, key: "K.A.credit", "does not fit")
        assertBad("[K.A]\ncredit = 5_000", line: 2, key: "K.A.credit", "digit separators are not accepted")
        assertBad("[K.A]\ncredit = 0x1F", line: 2, key: "K.A.credit", "hexadecimal")
        assertBad("[K.A]\ncredit = 0o17", line: 2, key: "K.A.credit", "octal")
        assertBad("[K.A]\ncredit = 0b101", line: 2, key: "K.A.credit", "binary")
        assertBad("[K.A]\ncredit = 05", line: 2, key: "K.A.credit", "leading zeros")
        assertBad("[K.A]\ncredit = 5.", line: 2, key: "K.A.credit", "digits on both sides")
        assertBad("[K.A]\ncredit = .5", line: 2, key: "K.A.credit", "digits on both sides")
        assertBad("[K.A]\ncredit = inf", line: 2, key: "K.A.credit", "not an amount")
        assertBad("[K.A]\ncredit = \"1,000\"", line: 2, key: "K.A.credit", "separators")
        assertBad("[K.A]\ncredit = \"-5\"", line: 2, key: "K.A.credit", "cannot be negative")
        assertBad("[K.A]\ncredit = nan", line: 2, key: "K.A.credit", "NaN")
        assertBad("[K.A]\ncredit = 1979-05-27", line: 2, key: "K.A.credit", "dates and times")
        assertBad("[K.A]\ncredit = 07:32:00", line: 2, key: "K.A.credit", "dates and times")
        assertBad("[K.A]\ncredit = true", line: 2, key: "K.A.credit", "quoted decimal text")
    }

    func testBadConfigNamesFileLineAndKey() {
        assertBad("[KRAKEN.USDC]\ncredit = \"5000\"\nstrategies = 5\ncolour = \"red\"\n", line: 4, key: "KRAKEN.USDC.colour", "unknown key")
        assertBad("[KRAKEN.USDC]\nstrategies = 99", line: 2, key: "KRAKEN.USDC.strategies", "2 to 64 (found 99)")
        assertBad("[KRAKEN.USDC]\nstrategies = 99999999999999999999", line: 2, key: "KRAKEN.USDC.strategies", "2 to 64")
        assertBad("[KRAKEN.USDC]\nstrategies = \"5\"", line: 2, key: "KRAKEN.USDC.strategies", "2 to 64")
        assertBad("[KRAKEN.USDC]\n\n\ncredit = \"abc\"", line: 4, key: "KRAKEN.USDC.credit", "not an amount")
        assertBad("[KRAKEN.USDC]\nstrategies = 3\nnames = { 4 = \"mm\" }", line: 3, key: "KRAKEN.USDC.names.4", "only 3 slots")
        assertBad("[KRAKEN.USDC]\nnames = { 2 = \"two words\" }", line: 2, key: "KRAKEN.USDC.names.2", "not allowed")
        assertBad("[KRAKEN.USDC]\nnames = { 10 = \"x\" }", line: 2, key: "KRAKEN.USDC.names.10", "a new record gets 8 slots")
        assertBad("[KRAKEN.USDC]\nnames.2 = \"a\"\nnames.64 = \"b\"", line: 3, key: "KRAKEN.USDC.names.64", "outside 0…63")
        assertBad("[KRAKEN.USDC]\nnames = { 02 = \"x\" }", line: 2, key: "KRAKEN.USDC.names.02", "without leading zeros")
        assertBad("[KRAKEN.USDC]\nnames = { 2 = 7 }", line: 2, key: "KRAKEN.USDC.names.2", "must be quoted text")
        assertBad("[KRAKEN.USDC]\nnames = \"x\"", line: 2, key: "KRAKEN.USDC.names", "must be a table")
        assertBad("[KRAKEN.USDC\ncredit = 1", line: 1, key: nil, "TOML syntax")
        assertBad("x = 1", line: 1, key: "x", "unknown key")
        assertBad("default_exchange = 7", line: 1, key: "default_exchange", "quoted exchange name")
        assertBad("[KRAKEN]\nUSDC = 5", line: 2, key: "KRAKEN.USDC", "expected a table")
        assertBad("[KRA KEN.USDC]\ncredit = 1", line: 1, key: nil, "TOML syntax")
        assertBad("[\"KRA KEN\".USDC]\ncredit = \"1\"", line: 1, key: "\"KRA KEN\"", "not allowed")
        assertBad("[KRAKEN.\"USDC\\u001B[2J\"]\ncredit = \"1\"", line: 1, key: "KRAKEN.\"USDC\\x1b[2J\"", "not allowed")
        assertBad("[KRAKEN.usdc]\ncredit = \"1\"\n[KRAKEN.USDC]\n", line: 3, key: "KRAKEN.USDC", "first configured at line 1")
    }

    func testApplyCreatesRecordsThatALaterResetKeeps() throws {
        let seg = TempSegment()
        let books = try seg.books()
        let c = try parse(specExample)
        let report = try books.applyConfiguration(c.records, defaultExchange: c.defaultExchange)
        XCTAssertEqual(report.created, [key("USDC")])
        XCTAssertEqual(try books.defaultExchange?.description, "KRAKEN")
        var r = try books.get(key("USDC"))
        XCTAssertEqual(r.slots, Array(repeating: .zero, count: 5), "created with zero balances")
        XCTAssertEqual(r.creditLimit, Amount("5000"))
        XCTAssertEqual(r.names.map(\.description), ["total", "pool", "grid-bot", "arb", "mm"])
        try books.reset(key("USDC"), balance: Amount("10000"))
        r = try books.get(key("USDC"))
        XCTAssertEqual(r.strategyCount, 5)
        XCTAssertEqual(r.creditLimit, Amount("5000"))
        XCTAssertEqual(r.names[2].description, "grid-bot")

        // Re-applying with a new credit updates the existing record and keeps its money.
        let again = try parse(specExample.replacingOccurrences(of: "\"5000\"", with: "\"6000\""))
        XCTAssertEqual(try books.applyConfiguration(again.records, defaultExchange: nil).updated, [key("USDC")])
        XCTAssertEqual(try books.get(key("USDC")).creditLimit, Amount("6000"))
        XCTAssertEqual(try books.balance(key("USDC")), Amount("10000"))
    }

    func testAConfigThatCannotApplyChangesNothing() throws {
        let seg = TempSegment()
        let books = try seg.books()
        try books.reset(key("AAA"), balance: Amount("10"), strategyCount: 4)
        try books.reset(key("ZZZ"), balance: Amount("10"), strategyCount: 6)
        try books.allocate(key("ZZZ"), index: 5, Amount("1"))
        let before = try books.allRecords()
        let head = books.activityHead
        // AAA's change is fine, BBB is new, but ZZZ cannot shrink over its non-zero slot 5.
        let c = try parse("""
            default_exchange = "KRAKEN"
            [KRAKEN.AAA]
            credit = "100"
            [KRAKEN.BBB]
            strategies = 3
            [KRAKEN.ZZZ]
            strategies = 4
            """)
        XCTAssertThrowsError(try books.applyConfiguration(c.records, defaultExchange: c.defaultExchange)) { error in
            XCTAssertEqual((error as? BooksError)?.refusal?.code, .shrinkOverNonZero, "\(error)")
        }
        XCTAssertEqual(try books.allRecords(), before, "no record changed")
        XCTAssertNil(books.record(key("BBB")), "no record created")
        XCTAssertNil(try books.defaultExchange)
        XCTAssertEqual(books.activityHead, head, "nothing logged as applied")
    }
}
