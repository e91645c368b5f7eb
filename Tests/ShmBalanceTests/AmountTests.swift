import ShmBalance
import ShmBalanceTestSupport
import XCTest

final class AmountTests: XCTestCase {
    func testParsesDecimalTextExactly() throws {
        XCTAssertEqual(try Amount(parsing: "10000.00").raw, 10_000 * Amount.scale)
        XCTAssertEqual(try Amount(parsing: "-1000").raw, -1000 * Amount.scale)
        XCTAssertEqual(try Amount(parsing: "0.1").raw, Amount.scale / 10)
        XCTAssertEqual(try Amount(parsing: "+7").raw, 7 * Amount.scale)
        XCTAssertEqual(try Amount(parsing: ".5").raw, Amount.scale / 2)
        XCTAssertEqual(try Amount(parsing: "0.000000000000000001").raw, 1)
        XCTAssertEqual(try Amount(parsing: "1.5000000000000000000000").raw, 3 * Amount.scale / 2, "trailing zeros carry no value")
        XCTAssertEqual(try Amount(parsing: "999999999999999999.999999999999999999").raw, Amount.limit)
    }

    func testRefusesMalformedText() {
        let bad: [(String, String)] = [
            ("", "required"), ("1e5", "exponents"), ("10,000", "separators"), ("1_000", "separators"), ("nan", "not a number"),
            ("inf", "infinite"), ("-", "no digits"), ("1.2.3", "more than one decimal point"), ("12a", "unexpected character"),
            ("0.0000000000000000001", "more than 18 decimal places"), ("1000000000000000000", "does not fit"),
            ("-1000000000000000000", "does not fit"), (" 5", "separators"), ("0x10", "unexpected character"),
        ]
        for (text, why) in bad {
            XCTAssertThrowsError(try Amount(parsing: text), text) { error in
                XCTAssertTrue("\(error)".contains(why), "'\(text)': \(error)")
            }
        }
    }

    func testDoublesConvertThroughTheirShortestDecimalForm() throws {
        XCTAssertEqual(try Amount(exactly: 0.1), Amount("0.1"))
        XCTAssertEqual(try Amount(exactly: 10000.0), Amount("10000"))
        XCTAssertEqual(try Amount(exactly: -30.0), Amount("-30"))
        XCTAssertEqual(try Amount(exactly: 1e-8), Amount("0.00000001"))
        XCTAssertEqual(try Amount(exactly: 123456.789), Amount("123456.789"))
        XCTAssertEqual(try Amount(exactly: 1e17), Amount("100000000000000000"))
        XCTAssertEqual(try Amount(exactly: 0.3), Amount("0.3"))
        XCTAssertThrowsError(try Amount(exactly: .nan))
        XCTAssertThrowsError(try Amount(exactly: .infinity))
        XCTAssertThrowsError(try Amount(exactly: -.infinity))
        XCTAssertThrowsError(try Amount(exactly: 1e18))
        XCTAssertThrowsError(try Amount(exactly: 1e-19), "more decimals than stored")
    }

    /// The fast path must agree with the standard library's shortest round-trip text on any Double.
    func testFastDoubleConversionAgreesWithShortestText() throws {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<50_000 {
            let magnitude = Double.random(in: -12...15, using: &rng)
            let decimals = Int.random(in: 0...10, using: &rng)
            var v = (Double.random(in: -1...1, using: &rng) * pow(10, magnitude))
            let p = pow(10.0, Double(decimals))
            v = (v * p).rounded() / p
            guard abs(v) < 1e17 else { continue }
            let viaFast = try Amount(exactly: v)
            let viaText = try Amount(parsingShortestDescription: v)
            XCTAssertEqual(viaFast, viaText, "\(v)")
        }
    }

    func testTenTimesPointOneIsExactlyOne() throws {
        var sum = Amount.zero
        for _ in 0..<10 { sum = sum.adding(try Amount(exactly: 0.1))! }
        XCTAssertEqual(sum, Amount("1"))
        var doubleSum = 0.0
        for _ in 0..<10 { doubleSum += 0.1 }
        XCTAssertNotEqual(doubleSum, 1.0, "the reason amounts are not Doubles")
    }

    func testFormatting() {
        XCTAssertEqual(Amount("10000").formatted(grouping: true), "10,000.00")
        XCTAssertEqual(Amount("-700").formatted(grouping: true), "-700.00")
        XCTAssertEqual(Amount("0.00012345").formatted(grouping: true), "0.00012345")
        XCTAssertEqual(Amount("1234567.5").formatted(grouping: true), "1,234,567.50")
        XCTAssertEqual(Amount("-0.1").description, "-0.10")
        XCTAssertEqual(Amount("100").exactText, "100")
        XCTAssertEqual(Amount(raw: Amount.limit).exactText, "999999999999999999.999999999999999999")
    }

    func testArithmeticRefusesToLeaveTheStorableRange() {
        let max = Amount(raw: Amount.limit)
        XCTAssertNil(max.adding(Amount(raw: 1)))
        XCTAssertNil((-max).subtracting(Amount(raw: 1)))
        XCTAssertEqual(max.subtracting(max), .zero)
    }
}

extension Amount {
    /// The slow, obviously-right path: the standard library's shortest text, parsed exactly.
    init(parsingShortestDescription v: Double) throws {
        let text = "\(v)"
        if text.contains("e") {
            self = try Amount(exactly: v)  // only reached for tiny/huge values, excluded above
        } else {
            self = try Amount(parsing: text)
        }
    }
}
