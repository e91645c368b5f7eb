import Foundation
import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// The `shmbal` executable, run as a newcomer would run it.
final class CLITests: XCTestCase {
    var seg: TempSegment!

    override func setUp() { seg = TempSegment() }
    override func tearDown() { seg = nil }

    /// Runs `shmbal` on the test's segment (through $SHMBAL_SEGMENT unless the args name one).
    @discardableResult
    func shmbal(_ args: String..., status: Int32 = 0, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let r = try runProduct("shmbal", args, env: ["SHMBAL_SEGMENT": seg.path, "SHMBAL_EXCHANGE": ""])
        XCTAssertEqual(r.status, status, "shmbal \(args.joined(separator: " ")): \(r.err)", file: file, line: line)
        if status != 0 {
            XCTAssertEqual(r.err.filter { $0 == "\n" }.count, 1, "one line on stderr: \(r.err)", file: file, line: line)
            XCTAssertTrue(r.err.hasPrefix("shmbal: "), r.err, file: file, line: line)
            return r.err
        }
        return r.out
    }

    func json(_ text: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] ?? [:]
    }

    func testTheSeedsBusinessFlows() throws {
        // Start-up.
        try shmbal("reset", "USDC", "10000", "--exchange", "KRAKEN", "--strategies", "8")
        try shmbal("--exchange", "KRAKEN", "reset", "USD", "5000")
        // Buy USDC for USD, then sell some back: negative amounts written bare.
        try shmbal("adjust", "USD", "-1000")
        try shmbal("adjust", "USDC", "1000")
        try shmbal("adjust", "USDC", "-500")
        try shmbal("adjust", "USD", "500")
        XCTAssertEqual(try shmbal("balance", "USD"), "4500.00\n")
        // Allocate and release.
        try shmbal("allocate", "USDC", "2", "2000")
        try shmbal("allocate", "USDC", "3", "3000")
        try shmbal("release", "USDC", "2", "500")
        XCTAssertEqual(try shmbal("balance", "USDC", "--index", "1"), "6000.00\n")
        // Transfers.
        try shmbal("adjust", "USDC", "1000")
        try shmbal("adjust", "USDC", "-500")
        // Recovery: the exchange says 10800.
        XCTAssertEqual(try shmbal("reconcile", "USDC", "10800"), "KRAKEN USDC: repaired by -200.00: the pool absorbed it and is now 6300.00\n")
        let r = try json(try shmbal("get", "USDC", "--json"))
        XCTAssertEqual(r["exchange"] as? String, "KRAKEN")
        XCTAssertEqual(r["currency"] as? String, "USDC")
        XCTAssertEqual(r["strategyCount"] as? Int, 8)
        XCTAssertEqual(r["slots"] as? [String], ["10800.00", "6300.00", "1500.00", "3000.00", "0.00", "0.00", "0.00", "0.00"])
        XCTAssertEqual(r["names"] as? [String], ["total", "pool", "", "", "", "", "", ""])
        XCTAssertEqual(r["creditLimit"] as? String, "0.00")
        XCTAssertEqual(r["headroom"] as? String, "6300.00")
        XCTAssertEqual(r["identityHolds"] as? Bool, true)
        XCTAssertEqual(r["epoch"] as? Int, 1)
        // Recovery that must reset.
        let reset = try json(try shmbal("reconcile", "USDC", "-100", "--json"))
        XCTAssertEqual(reset["outcome"] as? String, "reset")
        XCTAssertEqual((reset["dropped"] as? [[String: Any]])?.count, 2)
        XCTAssertEqual(try shmbal("balance", "USDC", "--index", "2"), "0.00\n")
    }

    func testOptionsBeforeOrAfterTheSubcommandAndBareNegatives() throws {
        try shmbal("--segment", seg.path, "reset", "USDC", "100", "--exchange", "KRAKEN", "--strategies", "4")
        try shmbal("set", "USDC", "-30", "--index", "1", "--segment", seg.path)
        try shmbal("set", "USDC", "--index", "2", "7")
        try shmbal("--exchange", "KRAKEN", "adjust", "USDC", "--index", "3", "-0.5", status: 3)
        XCTAssertEqual(try json(try shmbal("get", "USDC", "--json"))["slots"] as? [String], ["-30.00", "-37.00", "7.00", "0.00"])
    }

    func testExitCodesAndOneLineReasons() throws {
        XCTAssertTrue(try shmbal("get", "USDC", status: 4).contains("no segment there"))
        try shmbal("reset", "USDC", "100", "--exchange", "KRAKEN", "--strategies", "4")
        XCTAssertEqual(try shmbal("allocate", "USDC", "2", "100.01", status: 3),
                       "shmbal: KRAKEN USDC #2: allocate 100.01 exceeds the headroom 100.00 (pool + credit)\n")
        XCTAssertTrue(try shmbal("allocate", "USDC", "2", "1e3", status: 2).contains("exponents are not accepted"))
        XCTAssertTrue(try shmbal("allocate", "USDC", "2", "NaN", status: 2).contains("not a number"))
        XCTAssertTrue(try shmbal("allocate", "USDC", "2", "1,000", status: 2).contains("separators"))
        XCTAssertTrue(try shmbal("allocate", "USDC", "2", "0.0000000000000000001", status: 2).contains("more than 18 decimal places"))
        XCTAssertTrue(try shmbal("adjust", "USDC", "99999999999999999999", status: 2).contains("does not fit"))
        XCTAssertTrue(try shmbal("adjust", "USDC", "5", "6", status: 2).contains("unexpected argument '6'"))
        XCTAssertTrue(try shmbal("adjust", "USDC", "5", "--bogus", status: 2).contains("--bogus"))
        XCTAssertTrue(try shmbal("allocate", "USDC", "two", "5", status: 2).contains("two"))
        XCTAssertTrue(try shmbal("frobnicate", status: 2).contains("frobnicate"))
        XCTAssertTrue(try shmbal("release", "USDC", "9", "1", status: 3).contains("needs a sub-strategy index"))
        XCTAssertTrue(try shmbal("balance", "USDC", "--index", "99", status: 3).contains("index 99 is out of range"))
        XCTAssertTrue(try shmbal("get", "EUR", status: 3).contains("KRAKEN EUR has no record: reset it first"))
        // A count no record can have is bad input, decided before the segment is opened.
        XCTAssertTrue(try shmbal("reset", "USDC", "1", "--strategies", "65", status: 2).contains("strategy count 65 is outside 2…64"))
        XCTAssertTrue(try shmbal("strategies", "USDC", "1", status: 2).contains("strategy count 1 is outside 2…64"))
        XCTAssertTrue(try shmbal("reset", "US DC", "1", status: 2).contains("not allowed"))
        XCTAssertEqual(try json(try shmbal("get", "USDC", "--json"))["slots"] as? [String], ["100.00", "100.00", "0.00", "0.00"],
                       "nothing changed")
        let help = try shmbal("--help")
        for code in ["2  bad input", "3  refused", "4  unusable", "5  record busy", "6  check found broken books"] {
            XCTAssertTrue(help.contains(code), "--help documents exit code '\(code)'")
        }
    }

    func testCheckFindsBrokenBooks() throws {
        try shmbal("reset", "USDC", "100", "--exchange", "KRAKEN", "--strategies", "4")
        try shmbal("credit", "USDC", "50")
        XCTAssertTrue(try shmbal("check").contains("1 records checked, 0 broken"))
        try shmbal("set", "USDC", "-60", "--index", "1")
        let out = try runProduct("shmbal", ["check"], env: ["SHMBAL_SEGMENT": seg.path])
        XCTAssertEqual(out.status, 6)
        XCTAssertTrue(out.out.contains("headroom -10.00 is negative"), out.out)
        XCTAssertTrue(out.err.contains("1 of 1 records have broken books"), out.err)
        try shmbal("reconcile", "USDC", "100")
        try shmbal("check")
    }

    func testExchangeResolution() throws {
        XCTAssertTrue(try shmbal("reset", "USDC", "1", status: 2).contains("which exchange?"))
        try shmbal("reset", "USDC", "1", "--exchange", "kraken")
        XCTAssertEqual(try shmbal("balance", "USDC"), "1.00\n", "the only exchange in the segment")
        try shmbal("reset", "USDC", "2", "--exchange", "BINANCE")
        XCTAssertTrue(try shmbal("balance", "USDC", status: 2).contains("the segment has BINANCE, KRAKEN; pass --exchange NAME"))
        let env = ["SHMBAL_SEGMENT": seg.path, "SHMBAL_EXCHANGE": "BINANCE"]
        XCTAssertEqual(try runProduct("shmbal", ["balance", "USDC"], env: env).out, "2.00\n", "$SHMBAL_EXCHANGE")
        let config = seg.dir + "/books.toml"
        try "default_exchange = \"KRAKEN\"\n".write(toFile: config, atomically: false, encoding: .utf8)
        try shmbal("config", "apply", config)
        XCTAssertEqual(try shmbal("balance", "USDC"), "1.00\n", "the config's default exchange")
    }

    func testConfigApplyAndItsErrors() throws {
        let config = seg.dir + "/books.toml"
        try """
            default_exchange = "KRAKEN"

            [KRAKEN.USDC]
            credit = "5000"
            strategies = 5
            names = { 2 = "grid-bot", 3 = "arb", 4 = "mm" }
            """.write(toFile: config, atomically: false, encoding: .utf8)
        XCTAssertTrue(try shmbal("config", "check", config).contains("ok, 1 records"))
        try shmbal("config", "apply", config)
        try shmbal("reset", "USDC", "10000")
        let r = try json(try shmbal("get", "USDC", "--json"))
        XCTAssertEqual(r["names"] as? [String], ["total", "pool", "grid-bot", "arb", "mm"])
        XCTAssertEqual(r["creditLimit"] as? String, "5000.00")
        XCTAssertEqual(r["headroom"] as? String, "15000.00")
        try shmbal("name", "USDC", "4", "market-maker")
        XCTAssertTrue(try shmbal("get", "USDC").contains("market-maker"))

        try "[KRAKEN.USDC]\ncredit = \"5000\"\nstrategies = 3\n".write(toFile: config, atomically: false, encoding: .utf8)
        try shmbal("allocate", "USDC", "4", "1")
        let err = try shmbal("config", "apply", config, status: 3)
        XCTAssertTrue(err.contains("cannot shrink to 3 slots: slot #4 still holds 1.00"), err)
        let bad = seg.dir + "/bad.toml"
        try "[KRAKEN.USDC]\ncredit = \"5000\"\nlimit = 3\n".write(toFile: bad, atomically: false, encoding: .utf8)
        XCTAssertEqual(try shmbal("config", "apply", bad, status: 4),
                       "shmbal: \(bad):3: KRAKEN.USDC.limit: unknown key (expected credit, strategies, names, lease_low, lease_high or lease_chunk); nothing was applied\n")
        XCTAssertEqual(try json(try shmbal("get", "USDC", "--json"))["strategyCount"] as? Int, 5)
    }

    func testQuotesListAndLog() throws {
        try shmbal("quote", "write", "KRAKEN", "BALANCE", "USDT", "10000.5", "--timestamp", "1700000000000000")
        let q = try json(try shmbal("quote", "get", "KRAKEN", "BALANCE", "USDT", "--json"))
        XCTAssertEqual(q["mid"] as? Double, 10000.5)
        XCTAssertEqual(q["timestamp"] as? Int, 1_700_000_000_000_000)
        XCTAssertTrue(try shmbal("quote", "get", "KRAKEN", "BALANCE", "XRP", status: 3).contains("no quote"))
        try shmbal("quote", "write", "KRAKEN", "BALANCE", "USDT", "-0.25")
        XCTAssertTrue(try shmbal("quote", "get", "KRAKEN", "BALANCE", "USDT").contains("mid -0.25"))

        try shmbal("reset", "USDC", "10", "--exchange", "KRAKEN", "--strategies", "3")
        try shmbal("allocate", "USDC", "2", "4")
        try shmbal("allocate", "USDC", "2", "40", status: 3)
        let list = try JSONSerialization.jsonObject(with: Data(try shmbal("list", "--json").utf8)) as? [[String: Any]]
        XCTAssertEqual(list?.count, 1)
        XCTAssertEqual(list?.first?["slots"] as? [String], ["10.00", "6.00", "4.00"])
        let log = try shmbal("log", "--limit", "2").split(separator: "\n")
        XCTAssertEqual(log.count, 2)
        XCTAssertTrue(log[0].contains("allocate") && log[0].hasSuffix("applied"), String(log[0]))
        XCTAssertTrue(log[1].hasSuffix("refused: headroom 6.00"), String(log[1]))
        let lines = try shmbal("log", "--json").split(separator: "\n")
        let last = try json(String(lines.last!))
        XCTAssertEqual(last["applied"] as? Bool, false)
        XCTAssertEqual(last["message"] as? String, "KRAKEN USDC #2: allocate 40.00 exceeds the headroom 6.00 (pool + credit)")
    }

    /// A quote's mid is a Double: the text is accepted only when the Double holds exactly the
    /// decimal written, and reads back as that text; otherwise the refusal says what it would become.
    func testQuoteWriteNeverRoundsSilently() throws {
        for text in ["0.1", "10000.5", "2.55", "-0.25", "123456789012345.6", "9007199254740992", "0.000000000000000001", "7"] {
            XCTAssertEqual(try shmbal("quote", "write", "KRAKEN", "BALANCE", "USDT", text), "KRAKEN BALANCE USDT mid \(Double(text)!)\n")
            let q = try json(try shmbal("quote", "get", "KRAKEN", "BALANCE", "USDT", "--json"))
            XCTAssertEqual(q["mid"] as? Double, Double(text), text)
            XCTAssertEqual(try Amount(exactly: try XCTUnwrap(q["mid"] as? Double)), Amount(text), "\(text) reads back exactly")
        }
        let before = try shmbal("quote", "get", "KRAKEN", "BALANCE", "USDT", "--json")
        for (text, becomes) in [("0.10000000000000001", "0.1"), ("12345678901234567", "12345678901234568"),
                                ("9007199254740993", "9007199254740992"), ("1.000000000000000001", "1"), ("0.30000000000000004441", nil)] {
            let err = try shmbal("quote", "write", "KRAKEN", "BALANCE", "USDT", text, status: 2)
            if let becomes {
                XCTAssertEqual(err, "shmbal: '\(text)' cannot be a quote's mid exactly: the mid is a Double, which would hold \(becomes); write that, or fewer significant digits\n")
            }
        }
        XCTAssertEqual(try shmbal("quote", "get", "KRAKEN", "BALANCE", "USDT", "--json"), before, "nothing was written")
    }

    func testInitChoosesCapacitiesAndMode() throws {
        let out = try shmbal("init", "--records", "8", "--mode", "0660")
        XCTAssertTrue(out.contains("8 records"), out)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: seg.path)[.posixPermissions] as? Int, 0o660)
        XCTAssertTrue(try shmbal("init", status: 4).contains("already exists"))
        XCTAssertTrue(try shmbal("init", "--mode", "999", "--segment", seg.dir + "/x", status: 2).contains("octal"))
        XCTAssertTrue(try shmbal("init", "--activity", "1000", "--segment", seg.dir + "/y", status: 2).contains("power of two"))
    }
}
