import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// `RecordConfig.problems`: the config rules on the entries themselves, the one function
/// `config check`, `config apply` and (through the Swift API) the core's apply share.
final class ConfigValidationTests: XCTestCase {
    func entry(_ currency: String, strategies: Int? = nil, credit: String? = nil, names: [Int] = []) -> RecordConfig {
        RecordConfig(key: key(currency), strategyCount: strategies, creditLimit: credit.map { Amount($0) },
                     names: Dictionary(uniqueKeysWithValues: names.map { ($0, try! ShortName("n\($0)", kind: .label)) }))
    }

    func testGoodEntriesHaveNoProblems() {
        XCTAssertEqual(RecordConfig.problems([]), [])
        XCTAssertEqual(RecordConfig.problems([
            entry("USDC", strategies: 5, credit: "5000", names: [0, 1, 2, 3, 4]),
            entry("USD", strategies: 64, credit: "0", names: [63]),
            entry("ETH", strategies: 2),
            entry("BTC", names: [7]),
        ]), [])
    }

    func testEachRuleNamesItsEntryAndField() {
        let p = RecordConfig.problems([
            entry("A", strategies: 1),
            entry("B", strategies: 65, names: [70]),
            entry("C", credit: "-0.01"),
            entry("D", names: [-1, 8]),
            entry("E", strategies: 3, names: [3]),
            RecordConfig(key: key("F"), creditLimit: Amount(raw: Amount.limit + 1)),
        ])
        XCTAssertEqual(p.map(\.entry), [0, 1, 1, 2, 3, 3, 4, 5])
        XCTAssertEqual(p.map(\.field), [.strategies, .strategies, .name(70), .credit, .name(-1), .name(8), .name(3), .credit])
        XCTAssertEqual(p[0].description, "KRAKEN A strategies: must be an integer from 2 to 64 (found 1)")
        XCTAssertEqual(p[2].message, "slot 70 is outside 0…63", "a bad count: names checked against 0…63 only")
        XCTAssertEqual(p[3].message, "a credit limit cannot be negative (found -0.01)")
        XCTAssertEqual(p[5].description, "KRAKEN D names.8: slot 8 is named but a new record gets 8 slots (0…7); set strategies to at least 9")
        XCTAssertEqual(p[6].message, "slot 3 is named but the record has only 3 slots (0…2); set strategies to at least 4")
        XCTAssertTrue(p[7].message.contains("must fit"), p[7].message)
    }

    func testKeysFoldToUpperCaseSoAFoldedRepeatIsAProblem() throws {
        let lower = RecordConfig(key: try BookKey("kraken", "usdc"))
        let upper = RecordConfig(key: try BookKey("KRAKEN", "USDC"))
        XCTAssertEqual(lower.key, upper.key, "ShortName folds to upper case")
        let p = RecordConfig.problems([upper, entry("USD"), lower, upper])
        XCTAssertEqual(p.map(\.entry), [2, 3])
        XCTAssertEqual(p.map(\.firstEntry), [0, 0])
        XCTAssertEqual(p.map(\.field), [.record, .record])
    }

    func testAnExistingRecordsCountDecidesItsNames() {
        let e = [entry("USDC", names: [10]), entry("USD", strategies: 4, names: [10])]
        // A record in the segment with 20 slots may be named up to 19 without restating its count;
        // a count in the file wins over the segment's.
        XCTAssertEqual(RecordConfig.problems(e) { $0 == key("USDC") || $0 == key("USD") ? 20 : nil }.map(\.entry), [1])
        let small = RecordConfig.problems(e) { $0 == key("USDC") ? 6 : nil }
        XCTAssertEqual(small.map(\.entry), [0, 1])
        XCTAssertEqual(small[0].message, "slot 10 is named but the record has 6 slots in the segment (0…5); set strategies to at least 11")
    }
}
