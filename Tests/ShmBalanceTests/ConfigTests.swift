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

    func parse(_ text: String) throws -> ConfigFile { try ConfigFile.parse(text, file: "books.toml") }

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

    func testAmountsAreExact() throws {
        XCTAssertEqual(try parse("[K.A]\ncredit = 5000").records[0].creditLimit, Amount("5000"))
        XCTAssertEqual(try parse("[K.A]\ncredit = \"0.123456789012345678\"").records[0].creditLimit, Amount("0.123456789012345678"))
        XCTAssertEqual(try parse("[K.A]\ncredit = 5000.5").records[0].creditLimit, Amount("5000.5"), "a float that means what it says")
        XCTAssertEqual(try parse("[K.A]\ncredit = 2.5e3").records[0].creditLimit, Amount("2500"))
        assertBad("[K.A]\ncredit = 123456789012.12345678", line: 2, key: "K.A.credit", "not exact as a TOML float")
        assertBad("[K.A]\ncredit = \"1,000\"", line: 2, key: "K.A.credit", "separators")
        assertBad("[K.A]\ncredit = \"-5\"", line: 2, key: "K.A.credit", "cannot be negative")
        assertBad("[K.A]\ncredit = nan", line: 2, key: "K.A.credit", "NaN")
        assertBad("[K.A]\ncredit = true", line: 2, key: "K.A.credit", "quoted decimal text")
    }

    func testBadConfigNamesFileLineAndKey() {
        assertBad("[KRAKEN.USDC]\ncredit = \"5000\"\nstrategies = 5\ncolour = \"red\"\n", line: 4, key: "KRAKEN.USDC.colour", "unknown key")
        assertBad("[KRAKEN.USDC]\nstrategies = 99", line: 2, key: "KRAKEN.USDC.strategies", "2 to 64")
        assertBad("[KRAKEN.USDC]\n\n\ncredit = \"abc\"", line: 4, key: "KRAKEN.USDC.credit", "not an amount")
        assertBad("[KRAKEN.USDC]\nstrategies = 3\nnames = { 4 = \"mm\" }", line: 3, key: "KRAKEN.USDC.names", "only 3 slots")
        assertBad("[KRAKEN.USDC]\nnames = { 2 = \"two words\" }", line: 2, key: "KRAKEN.USDC.names", "not allowed")
        assertBad("[KRAKEN.USDC\ncredit = 1", line: 1, key: nil, "TOML syntax")
        assertBad("x = 1", line: 1, key: "x", "unknown key")
        assertBad("default_exchange = 7", line: 1, key: "default_exchange", "quoted exchange name")
        assertBad("[KRAKEN]\nUSDC = 5", line: 2, key: "KRAKEN.USDC", "expected a table")
        assertBad("[KRA KEN.USDC]\ncredit = 1", line: 1, key: nil, "TOML syntax")
        assertBad("[\"KRA KEN\".USDC]\ncredit = \"1\"", line: 1, key: "KRA KEN", "not allowed")
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
