import Foundation
import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// `shmbal hold`, `fill`, `void`, `receive`, `holds`, `--op-id` and `init --holds --op-ids`
/// (SPEC §9), run as the real executable. Every segment is made with small tables (16 holds, 16
/// op ids) in a private folder that is removed at the end.
final class CLIHoldsTests: XCTestCase {
    var seg: TempSegment!

    override func setUp() {
        super.setUp()
        seg = TempSegment()
    }

    override func tearDown() {
        seg = nil
        super.tearDown()
    }

    /// Runs `shmbal` on the test's segment; a failure must be one terminal-safe line on stderr.
    @discardableResult
    func shmbal(_ args: String..., status: Int32 = 0, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        try shmbal(args, status: status, file: file, line: line)
    }

    @discardableResult
    func shmbal(_ args: [String], status: Int32 = 0, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let r = try runProduct("shmbal", args, env: ["SHMBAL_SEGMENT": seg.path, "SHMBAL_EXCHANGE": "KRAKEN"])
        XCTAssertEqual(r.status, status, "shmbal \(args.joined(separator: " ")): \(r.out)\(r.err)", file: file, line: line)
        if status != 0 {
            XCTAssertEqual(r.err.filter { $0 == "\n" }.count, 1, "one line on stderr: \(r.err)", file: file, line: line)
            XCTAssertTrue(r.err.hasPrefix("shmbal: "), r.err, file: file, line: line)
            XCTAssertFalse(r.err.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" }, "terminal-safe: \(r.err)", file: file, line: line)
            return r.err
        }
        return r.out
    }

    /// A small segment (16 holds, 16 op ids per record) and USDC 10000 with 4 slots, #2 named grid-bot,
    /// 1000 allocated to #2 and #3 each.
    func makeBooks() throws {
        try shmbal("init", "--records", "2", "--holds", "16", "--op-ids", "16")
        try shmbal("reset", "USDC", "10000", "--strategies", "4")
        try shmbal("name", "USDC", "2", "grid-bot")
        try shmbal("allocate", "USDC", "2", "1000")
        try shmbal("allocate", "USDC", "3", "1000")
    }

    func record() throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try shmbal("get", "USDC", "--json").utf8)) as? [String: Any])
    }

    /// What the books hold, as numbers a replay must not move.
    func books() throws -> [String] {
        let r = try record()
        return ["slots", "held", "holdCount", "creditLimit", "strategyCount", "opCount"].map { "\($0)=\(r[$0] ?? "nil")" }
    }

    func holdsJSON(_ extra: String...) throws -> [[String: Any]] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try shmbal(["holds", "USDC", "--json"] + extra).utf8)) as? [[String: Any]])
    }

    // MARK: - happy paths and their output

    func testHoldFillVoidReceiveAndWhatTheyPrint() throws {
        try makeBooks()
        XCTAssertEqual(try shmbal("hold", "USDC", "2", "500", "--id", "o1"),
                       "hold o1: 500.00 of KRAKEN USDC #2 grid-bot\nKRAKEN USDC #2 grid-bot  budget 1000.00  held 500.00 in 1 hold  free 500.00\n")
        XCTAssertEqual(try shmbal("hold", "USDC", "3", "100", "--id", "o2", "--ttl", "90.5"),
                       "hold o2: 100.00 of KRAKEN USDC #3 for 90.5 s\nKRAKEN USDC #3  budget 1000.00  held 100.00 in 1 hold  free 900.00\n")

        // A partial fill: from the hold only; what it keeps.
        XCTAssertEqual(try shmbal("fill", "USDC", "--id", "o1", "200", "--fee", "0.5"),
                       "KRAKEN USDC: fill o1 200.00 + fee 0.50: 200.50 from the hold; the hold keeps 299.50\n"
                       + "KRAKEN USDC  total 9799.50  pool 8000.00  allocated 1799.50  credit 0.00  headroom 8000.00  identity ok\n")
        // A final fill beyond the hold and the slot's free budget: the overrun said plainly, and where it came from.
        let over = try shmbal("fill", "USDC", "--id", "o1", "1000", "--fee", "1", "--final")
        XCTAssertEqual(over.split(separator: "\n").first,
                       "KRAKEN USDC: final fill o1 1000.00 + fee 1.00: 299.50 from the hold, OVERRUN 701.50 beyond the hold: 500.00 from the slot's free budget, 201.50 from the pool; hold closed")
        var r = try record()
        XCTAssertEqual(r["slots"] as? [String], ["8798.50", "7798.50", "0.00", "1000.00"])
        XCTAssertEqual(r["identityHolds"] as? Bool, true)

        // --json: the outcome's fields, exact decimal strings.
        try shmbal("hold", "USDC", "3", "300", "--id", "o3")
        let j = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try shmbal("fill", "USDC", "--id", "o3", "250", "--json").utf8)) as? [String: Any])
        XCTAssertEqual(j["fromHold"] as? String, "250.00")
        XCTAssertEqual(j["fromFree"] as? String, "0.00")
        XCTAssertEqual(j["fromPool"] as? String, "0.00")
        XCTAssertEqual(j["closed"] as? Bool, false)
        XCTAssertEqual(j["id"] as? String, "o3")
        let fin = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try shmbal("fill", "USDC", "--id", "o3", "60", "--final", "--json").utf8)) as? [String: Any])
        XCTAssertEqual(fin["fromHold"] as? String, "50.00")
        XCTAssertEqual(fin["fromFree"] as? String, "10.00")
        XCTAssertEqual(fin["overrun"] as? String, "10.00")
        XCTAssertEqual(fin["closed"] as? Bool, true)

        // void: what it kept is free again; a second void has nothing to close (refused, exit 3).
        XCTAssertTrue(try shmbal("void", "USDC", "--id", "o2").hasPrefix("KRAKEN USDC: hold o2 voided; what it kept is free again\n"))
        XCTAssertTrue(try shmbal("void", "USDC", "--id", "o2", status: 3).contains("no open hold o2 (closed"))
        r = try record()
        XCTAssertEqual(r["held"] as? [String], ["0.00", "0.00", "0.00", "0.00"])

        // receive: the total and the slot rise, the pool does not move.
        XCTAssertEqual(try shmbal("receive", "USDC", "2", "75.25"),
                       "KRAKEN USDC  total 8563.75  pool 7798.50  allocated 765.25  credit 0.00  headroom 7798.50  identity ok\n"
                       + "KRAKEN USDC #2 grid-bot  budget 75.25  held 0.00 in 0 holds  free 75.25\n")
    }

    func testHoldsListsIdSlotAmountAgeAndExpiry() throws {
        try makeBooks()
        XCTAssertEqual(try shmbal("holds", "USDC"), "KRAKEN USDC: no open holds\n")
        XCTAssertEqual(try holdsJSON().count, 0)
        try shmbal("hold", "USDC", "2", "500", "--id", "order-1")
        try shmbal("hold", "USDC", "3", "100.5", "--id", "order-2", "--ttl", "3600")
        try shmbal("hold", "USDC", "3", "1", "--id", "order-3", "--ttl", "0.001")
        usleep(20_000)  // order-3's ttl passes; only the next writer voids it

        let lines = try shmbal("holds", "USDC").split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 5, lines.joined(separator: "\n"))
        XCTAssertEqual(lines[0], "KRAKEN USDC: 3 open holds, 601.50 held")
        // Columns are two spaces apart at least; the age depends on how fast the runs went.
        let cells = lines.dropFirst().map { $0.split(separator: "  ").map { $0.trimmingCharacters(in: .whitespaces) } }
        XCTAssertEqual(cells[0], ["ID", "SLOT", "AMOUNT", "OPENED", "EXPIRES"])
        XCTAssertEqual(cells.dropFirst().map { Array($0.prefix(3)) }, [["order-1", "#2 grid-bot", "500.00"], ["order-2", "#3", "100.50"], ["order-3", "#3", "1.00"]])
        XCTAssertTrue(cells.dropFirst().allSatisfy { $0.count == 5 && $0[3].hasSuffix(" s ago") }, "\(cells)")
        XCTAssertEqual(cells.dropFirst().map { $0[4].replacing(/[0-9]+ s ago/, with: "N s ago") }, ["—", "in 60 min", "EXPIRED N s ago"])
        XCTAssertEqual(try shmbal("holds", "USDC", "--index", "2").split(separator: "\n").first, "KRAKEN USDC #2 grid-bot: 1 open hold, 500.00 held")

        let all = try holdsJSON()
        XCTAssertEqual(all.map { $0["id"] as? String }, ["order-1", "order-2", "order-3"])
        XCTAssertEqual(all.map { $0["index"] as? Int }, [2, 3, 3])
        XCTAssertEqual(all.map { $0["amount"] as? String }, ["500.00", "100.50", "1.00"])
        XCTAssertEqual(all.map { $0["expired"] as? Bool }, [false, false, true])
        XCTAssertTrue(all[0]["expiresMicros"] is NSNull, "no ttl: null")
        let created = try XCTUnwrap(all[1]["createdMicros"] as? Int)
        XCTAssertEqual(all[1]["expiresMicros"] as? Int, created + 3_600_000_000)
        XCTAssertEqual(try holdsJSON("--index", "3").map { $0["id"] as? String }, ["order-2", "order-3"])
        XCTAssertTrue(try shmbal("holds", "USDC", "--index", "9", status: 3).contains("index 9 is out of range"))

        // The next writer of the record voids the expired hold.
        try shmbal("receive", "USDC", "2", "1")
        XCTAssertEqual(try holdsJSON().map { $0["id"] as? String }, ["order-1", "order-2"])
        XCTAssertEqual(try record()["holdCount"] as? [Int], [0, 0, 1, 1])
    }

    // MARK: - op ids

    func testAnOpIdIsAppliedOnceAndReusedWithOtherArgumentsRefused() throws {
        try makeBooks()
        // (command with its op id, the same op id with another argument)
        let cases: [([String], [String])] = [
            (["allocate", "USDC", "2", "10", "--op-id", "a1"], ["allocate", "USDC", "2", "11", "--op-id", "a1"]),
            (["release", "USDC", "2", "5", "--op-id", "r1"], ["release", "USDC", "3", "5", "--op-id", "r1"]),
            (["set", "USDC", "--index", "3", "900", "--op-id", "s1"], ["set", "USDC", "--index", "3", "901", "--op-id", "s1"]),
            (["adjust", "USDC", "-7", "--op-id", "d1"], ["adjust", "USDC", "-8", "--op-id", "d1"]),
            (["credit", "USDC", "50", "--op-id", "c1"], ["credit", "USDC", "51", "--op-id", "c1"]),
            (["strategies", "USDC", "5", "--op-id", "n1"], ["strategies", "USDC", "6", "--op-id", "n1"]),
            (["hold", "USDC", "2", "100", "--id", "h1"], ["hold", "USDC", "2", "100", "--id", "h1", "--ttl", "5"]),
            (["fill", "USDC", "--id", "h1", "30", "--op-id", "f1"], ["fill", "USDC", "--id", "h1", "31", "--op-id", "f1"]),
            (["receive", "USDC", "3", "12", "--op-id", "v1"], ["receive", "USDC", "2", "12", "--op-id", "v1"]),
            (["void", "USDC", "--id", "h1", "--op-id", "x1"], ["void", "USDC", "--id", "h2", "--op-id", "x1"]),
            (["name", "USDC", "3", "mm", "--op-id", "m1"], ["name", "USDC", "3", "mm-2", "--op-id", "m1"]),
            (["reconcile", "USDC", "10005", "--op-id", "q1"], ["reconcile", "USDC", "10006", "--op-id", "q1"]),
            (["reset", "USDC", "10000", "--op-id", "z1"], ["reset", "USDC", "10000", "--drop-holds", "--op-id", "z1"]),
        ]
        for (args, other) in cases {
            let first = try shmbal(args)
            let after = try books()
            XCTAssertEqual(try shmbal(args), first, "\(args): a replay prints the first result")
            XCTAssertEqual(try books(), after, "\(args): a replay applies nothing")
            let err = try shmbal(other, status: 3)
            if args[0] != "hold" {
                XCTAssertTrue(err.contains("op id \(args.last!) was already used for "), "\(other): \(err)")
            }
            XCTAssertEqual(try books(), after, "\(other): refused, nothing changed")
        }
        // The numbers say each applied once: 10 allocated then 5 released on #2, #3 set to 900 and
        // given 12, the total adjusted by -7 once; the reset then kept the holds (none left) and
        // zeroed the budgets.
        let r = try record()
        XCTAssertEqual(r["strategyCount"] as? Int, 5)
        XCTAssertEqual(r["creditLimit"] as? String, "50.00")
        XCTAssertEqual(r["slots"] as? [String], ["10000.00", "10000.00", "0.00", "0.00", "0.00"])
        XCTAssertEqual(r["opIdsRemembered"] as? Int, 13, "each op id remembered once (the hold's id is its op id)")
    }

    func testResetKeepsHoldsAndDropHoldsClosesThem() throws {
        try makeBooks()
        try shmbal("hold", "USDC", "2", "400", "--id", "o1")
        try shmbal("reset", "USDC", "9000")
        XCTAssertEqual(try record()["slots"] as? [String], ["9000.00", "8600.00", "400.00", "0.00"], "the hold's 400 stays with #2")
        XCTAssertEqual(try holdsJSON().count, 1)
        try shmbal("reset", "USDC", "9000", "--drop-holds")
        XCTAssertEqual(try record()["slots"] as? [String], ["9000.00", "9000.00", "0.00", "0.00"])
        XCTAssertEqual(try holdsJSON().count, 0)
        XCTAssertTrue(try shmbal("void", "USDC", "--id", "o1", status: 3).contains("no open hold o1"))
    }

    func testReplayedFillReportsTheFirstOutcomeAndMovesNothing() throws {
        try makeBooks()
        try shmbal("hold", "USDC", "2", "100", "--id", "h1")
        let first = try shmbal("fill", "USDC", "--id", "h1", "150", "--final", "--op-id", "f1", "--json")
        let after = try books()
        XCTAssertEqual(try shmbal("fill", "USDC", "--id", "h1", "150", "--final", "--op-id", "f1", "--json"), first)
        XCTAssertEqual(try books(), after)
        let j = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
        XCTAssertEqual([j["fromHold"], j["fromFree"], j["fromPool"]].map { $0 as? String }, ["100.00", "50.00", "0.00"])
        XCTAssertEqual(try record()["slots"] as? [String], ["9850.00", "8000.00", "850.00", "1000.00"])
        // A refusal with an op id is remembered too: the same call again gets the same refusal.
        let refused = try shmbal("hold", "USDC", "2", "5000", "--id", "big", status: 3)
        try shmbal("allocate", "USDC", "2", "5000")
        XCTAssertEqual(try shmbal("hold", "USDC", "2", "5000", "--id", "big", status: 3), refused)
        XCTAssertEqual(try record()["holdCount"] as? [Int], [0, 0, 0, 0])
    }

    // MARK: - refusals

    func testTheCoresHoldRefusalsAreOneLineExitThree() throws {
        try makeBooks()
        try shmbal("hold", "USDC", "2", "600", "--id", "h1")
        let before = try books()
        let cases: [([String], String)] = [
            (["hold", "USDC", "2", "400.01", "--id", "h2"], "KRAKEN USDC #2: hold 400.01 exceeds its free budget 400.00"),
            (["release", "USDC", "2", "401"], "KRAKEN USDC #2 holds 600.00 in open orders: release 401.00"),
            (["set", "USDC", "--index", "2", "599"], "KRAKEN USDC #2 holds 600.00 in open orders"),
            // Within the op-id window the hold's id is found as an op id first (holdIdInUse below).
            (["hold", "USDC", "3", "1", "--id", "h1"], "op id h1 was already used for hold KRAKEN USDC #2 600.00"),
            (["fill", "USDC", "--id", "nope", "1"], "KRAKEN USDC: no open hold nope (closed, expired, or never opened)"),
            (["void", "USDC", "--id", "nope"], "KRAKEN USDC: no open hold nope (closed, expired, or never opened)"),
            (["fill", "USDC", "--id", "h1", "-1"], "KRAKEN USDC: a fill's amount and fee must be ≥ 0 (got -1.00 and 0.00)"),
            (["fill", "USDC", "--id", "h1", "1", "--fee", "-2"], "a fill's amount and fee must be ≥ 0 (got 1.00 and -2.00)"),
            (["hold", "USDC", "1", "5", "--id", "h3"], "hold needs a sub-strategy index 2…3; #1 is the pool"),
            (["hold", "USDC", "2", "0", "--id", "h4"], "hold needs an amount above 0"),
            (["receive", "USDC", "4", "5"], "receive needs a sub-strategy index 2…3"),
            (["receive", "USDC", "2", "-5"], "receive needs an amount above 0"),
            (["hold", "EUR", "2", "5", "--id", "h5"], "KRAKEN EUR has no record: reset it first"),
            (["holds", "EUR"], "KRAKEN EUR has no record: reset it first"),
        ]
        for (args, message) in cases {
            let err = try shmbal(args, status: 3)
            XCTAssertTrue(err.contains(message), "\(args): \(err)")
            XCTAssertEqual(try books(), before, "\(args): nothing changed")
        }
        // Once the window (16 here) has forgotten h1 as an op id, the open hold still owns the id.
        for i in 1...16 { try shmbal("credit", "USDC", "\(i)", "--op-id", "c\(i)") }
        XCTAssertTrue(try shmbal("hold", "USDC", "3", "1", "--id", "h1", status: 3)
            .contains("KRAKEN USDC: hold id h1 is already open on #2 (hold 600.00) with other arguments"))
        // The table full: 16 open holds per record here.
        for i in 2...16 { try shmbal("hold", "USDC", "3", "1", "--id", "t\(i)") }
        XCTAssertTrue(try shmbal("hold", "USDC", "3", "1", "--id", "t17", status: 3).contains("the hold table is full (16 open holds); fill or void some"))
    }

    // MARK: - bad input

    func testBadInputOnTheNewCommandsIsOneLineExitTwoAndChangesNothing() throws {
        try makeBooks()
        try shmbal("hold", "USDC", "2", "100", "--id", "h1")
        let before = try shmbal("get", "USDC", "--json")
        let hostile = "a\u{1B}[2Jb"
        var cases: [[String]] = []
        for amount in ["1e3", "1,000", "NaN", "", "0.0000000000000000001", "99999999999999999999"] {
            cases += [["hold", "USDC", "2", amount, "--id", "h2"], ["fill", "USDC", "--id", "h1", amount], ["fill", "USDC", "--id", "h1", "1", "--fee", amount],
                      ["receive", "USDC", "2", amount]]
        }
        for index in ["two", "2x", ""] {
            cases += [["hold", "USDC", index, "1", "--id", "h2"], ["receive", "USDC", index, "1"], ["holds", "USDC", "--index", index]]
        }
        for id in ["", "a b", String(repeating: "x", count: 33), "é", hostile] {
            cases += [["hold", "USDC", "2", "1", "--id", id], ["fill", "USDC", "--id", id, "1"], ["void", "USDC", "--id", id],
                      ["allocate", "USDC", "2", "1", "--op-id", id], ["receive", "USDC", "2", "1", "--op-id", id],
                      ["fill", "USDC", "--id", "h1", "1", "--op-id", id], ["void", "USDC", "--id", "h1", "--op-id", id],
                      ["reset", "USDC", "1", "--op-id", id], ["strategies", "USDC", "4", "--op-id", id]]
        }
        for ttl in ["0", "-5", "1e3", "x", "0.0000001", "99999999999999999999"] { cases.append(["hold", "USDC", "2", "1", "--id", "h2", "--ttl", ttl]) }
        for currency in ["US DC", "BAD!", "USDCUSDCUSDCUSDC"] {
            cases += [["hold", currency, "2", "1", "--id", "h2"], ["fill", currency, "--id", "h1", "1"], ["void", currency, "--id", "h1"],
                      ["receive", currency, "2", "1"], ["holds", currency]]
        }
        cases += [["hold", "USDC", "2", "1"], ["fill", "USDC", "1"], ["void", "USDC"], ["receive", "USDC", "2"], ["holds"],
                  ["hold", "USDC", "2", "1", "2", "--id", "h2"], ["fill", "USDC", "--id", "h1", "1", "--bogus"]]
        for args in cases {
            let err = try shmbal(args, status: 2)
            if args.contains(hostile) { XCTAssertTrue(err.contains(#"a\x1b[2Jb"#), "\(args): the id is shown escaped: \(err)") }
        }
        XCTAssertEqual(try shmbal("get", "USDC", "--json"), before, "no bad input reached the books")
        XCTAssertEqual(try shmbal("allocate", "USDC", "2", "1", "--op-id", "", status: 2),
                       "shmbal: --op-id: an op id is 1–32 printable ASCII characters without spaces (got 0 bytes: )\n")
    }

    // MARK: - get and init

    func testGetShowsHeldFreeHoldCountAndTheOpIdWindow() throws {
        try makeBooks()
        try shmbal("hold", "USDC", "2", "300", "--id", "h1")
        try shmbal("hold", "USDC", "2", "0.25", "--id", "h2", "--ttl", "60")
        try shmbal("allocate", "USDC", "3", "1", "--op-id", "a1")
        let r = try record()
        XCTAssertEqual(r["slots"] as? [String], ["10000.00", "7999.00", "1000.00", "1001.00"], "the existing fields unchanged")
        XCTAssertEqual(r["held"] as? [String], ["0.00", "0.00", "300.25", "0.00"])
        XCTAssertEqual(r["free"] as? [String], ["10000.00", "7999.00", "699.75", "1001.00"])
        XCTAssertEqual(r["holdCount"] as? [Int], [0, 0, 2, 0])
        XCTAssertEqual(r["opIdWindow"] as? Int, 16)
        XCTAssertEqual(r["opIdsRemembered"] as? Int, 3)
        let lines = try shmbal("get", "USDC").split(separator: "\n").map(String.init)
        XCTAssertEqual(lines[1], "   #  NAME               AMOUNT      HELD  HOLDS      FREE")
        XCTAssertEqual(lines[4], "   2  grid-bot          1000.00    300.25      2    699.75")
        XCTAssertEqual(lines[5], "   3                    1001.00      0.00      0   1001.00")
        XCTAssertEqual(lines.last, "  op ids: 3 remembered, window 16 (a retry with the same --op-id within it is applied once)")
    }

    func testInitTakesTheHoldCapacityAndTheOpIdWindow() throws {
        let out = try shmbal("init", "--records", "1", "--holds", "32", "--op-ids", "64")
        XCTAssertTrue(out.contains("1 records, 1024 quotes, 4096 activity entries, 32 holds and 64 op ids per record"), out)
        try shmbal("reset", "USDC", "1")
        XCTAssertEqual(try record()["opIdWindow"] as? Int, 64)
        // Bad capacities are one line, exit 2, and no file is made.
        for (args, message) in [(["--holds", "15"], "hold capacity 15 is outside 16…65536"),
                                (["--holds", "65537"], "hold capacity 65537 is outside"),
                                (["--op-ids", "0"], "op-id window 0 is outside 16…65536"),
                                (["--op-ids", "100000"], "op-id window 100000 is outside"),
                                (["--op-ids", "x"], "--op-ids"), (["--holds", ""], "--holds")] {
            let path = seg.file("bad")
            XCTAssertTrue(try shmbal(["init", "--segment", path] + args, status: 2).contains(message), "\(args)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: path), "\(args): nothing created")
        }
    }
}
