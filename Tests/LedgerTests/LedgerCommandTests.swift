import Foundation
import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// `shmbal ledger …` against a real PostgreSQL server: exact amounts, op ids, and bad input that
/// gets one line and changes nothing.
final class LedgerCommandTests: LedgerTestCase {
    func testResetCreditGetAndListAreExact() throws {
        XCTAssertEqual(try ledger(["init"]).status, 0, "init again is a no-op")
        var r = try ledger(["reset", "USDC", "10000.000000000000000001"])
        XCTAssertEqual(r.status, 0, r.err)
        r = try ledger(["credit", "USDC", "250.5"])
        XCTAssertEqual(r.status, 0, r.err)
        let a = try account()
        XCTAssertEqual(a["total"] as? String, "10000.000000000000000001", "18 decimals survive the numeric column")
        XCTAssertEqual(a["pool"] as? String, "10000.000000000000000001")
        XCTAssertEqual(a["credit"] as? String, "250.50")
        XCTAssertEqual(a["identityHolds"] as? Bool, true)
        XCTAssertEqual((a["leases"] as? [String: Any])?.count, 0)
        XCTAssertEqual(a["epoch"] as? Int, 1)
        r = try ledger(["list"])
        XCTAssertTrue(r.out.contains("\(exchange) USDC  total 10000.000000000000000001  pool 10000.000000000000000001  credit 250.50  epoch 1  identity holds"), r.out)
        // A second reset: a new epoch.
        XCTAssertEqual(try ledger(["reset", "USDC", "-5"]).status, 0, "a negative balance is an amount, no -- needed")
        XCTAssertEqual(try account()["epoch"] as? Int, 2)
        XCTAssertEqual(try account()["total"] as? String, "-5.00")
    }

    func testBadInputIsOneLineAndChangesNothing() throws {
        XCTAssertEqual(try ledger(["reset", "USDC", "1000"]).status, 0)
        let before = try account()
        let cases: [([String], Int32, String)] = [
            (["reset", "USDC", "1e3"], 2, "exponents are not accepted"),
            (["reset", "USDC", "1,5"], 2, "1,5"),
            (["reset", "USDC", "0.0000000000000000001"], 2, "decimal"),
            (["credit", "USDC", "-5"], 2, "0 or more"),
            (["reconcile", "USDC", "nan"], 2, "nan"),
            (["reset", "US\u{1b}[31mDC", "5"], 2, "currency"),
            (["get", "EUR"], 3, "has no ledger account"),
            (["evict", "no host!"], 2, "host"),
            (["reset", "USDC", "5", "--op-id", "has space"], 2, "--op-id"),
        ]
        for (args, code, words) in cases {
            let r = try ledger(args)
            XCTAssertEqual(r.status, code, "\(args): \(r.err)")
            let lines = r.err.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, "\(args): one line, got \(r.err)")
            XCTAssertTrue(r.err.contains(words) || r.err.lowercased().contains(words.lowercased()), "\(args): \(r.err)")
            XCTAssertFalse(r.err.contains("\u{1b}"), "no escape sequence reaches the terminal: \(r.err)")
        }
        var r = try runProcess(productPath("shmbal"), ["ledger", "get", "USDC", "--db", "mysql://x", "--exchange", exchange])
        XCTAssertEqual(r.status, 2, r.err)
        XCTAssertTrue(r.err.contains("not a postgres:// URL"), r.err)
        r = try runProcess(productPath("shmbal"), ["ledger", "get", "USDC", "--exchange", exchange], unsetting: ["SHMBAL_DB"])
        XCTAssertEqual(r.status, 2, r.err)
        XCTAssertTrue(r.err.contains("SHMBAL_DB"), r.err)
        // A server that is not there: unreachable, one line.
        r = try runProcess(productPath("shmbal"), ["ledger", "get", "USDC", "--db", "postgres://shmbal@127.0.0.1:1/postgres", "--exchange", exchange])
        XCTAssertEqual(r.status, 4, r.err)
        XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err)
        let after = try account()
        XCTAssertEqual(after["total"] as? String, before["total"] as? String)
        XCTAssertEqual(after["epoch"] as? Int, before["epoch"] as? Int)
        XCTAssertEqual(after["credit"] as? String, before["credit"] as? String)
    }

    func testOpIdAppliesOnceAndRefusesOtherArguments() throws {
        XCTAssertEqual(try ledger(["reset", "USDC", "500", "--op-id", "r-1"]).status, 0)
        XCTAssertEqual(try ledger(["reset", "USDC", "500", "--op-id", "r-1"]).status, 0, "a retry is answered")
        XCTAssertEqual(try account()["epoch"] as? Int, 1, "and applies nothing")
        let r = try ledger(["reset", "USDC", "600", "--op-id", "r-1"])
        XCTAssertEqual(r.status, 3, r.err)
        XCTAssertTrue(r.err.contains("op id r-1 was used for reset"), r.err)
        XCTAssertEqual(try account()["total"] as? String, "500.00")
        XCTAssertEqual(try ledger(["reconcile", "USDC", "450", "--op-id", "c-1"]).out.contains("repaired by -50.00"), true)
        let again = try ledger(["reconcile", "USDC", "450", "--op-id", "c-1"])
        XCTAssertTrue(again.out.contains("repaired by -50.00"), "a replay returns the first outcome: \(again.out)")
        XCTAssertEqual(try account()["total"] as? String, "450.00")
    }

    /// The identity is the database's own rule: no client, not even psql by hand, commits a break.
    func testTheDatabaseRefusesABrokenIdentity() throws {
        XCTAssertEqual(try ledger(["reset", "USDC", "1000"]).status, 0)
        for statement in ["UPDATE shmbal_account SET total = total + 1 WHERE exchange = '\(exchange)'",
                          "INSERT INTO shmbal_lease (exchange, currency, host, amount) VALUES ('\(exchange)', 'USDC', 'x', 5)"] {
            let r = try server.sql(statement)
            XCTAssertNotEqual(r.status, 0, "the commit must fail: \(statement)")
            XCTAssertTrue(r.err.contains("is not pool"), r.err)
        }
        // A lease that holds money cannot be deleted by hand either.
        XCTAssertEqual(try server.sql("""
            BEGIN; INSERT INTO shmbal_lease (exchange, currency, host, amount) VALUES ('\(exchange)', 'USDC', 'y', 7);
            UPDATE shmbal_account SET pool = pool - 7 WHERE exchange = '\(exchange)'; COMMIT
            """).status, 0)
        let r = try server.sql("DELETE FROM shmbal_lease WHERE exchange = '\(exchange)' AND host = 'y'")
        XCTAssertNotEqual(r.status, 0, "deleting a lease with money in it breaks the identity")
        XCTAssertTrue(r.err.contains("is not pool"), r.err)
        let f = try tableFigures()
        XCTAssertEqual(f.total, Amount(whole: 1000))
        XCTAssertEqual(f.leased, Amount(whole: 7))
        XCTAssertEqual(f.total.raw, f.pool.raw + f.leased.raw)
    }
}
