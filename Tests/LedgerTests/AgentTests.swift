import Foundation
import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// One agent at a time, run for a few rounds (`--rounds`), against a real ledger: it leases to
/// the low mark, returns above the high one, reports what strategies did to the total, wipes and
/// leases anew when the ledger takes the lease back, and answers a reconcile's recall.
final class AgentTests: LedgerTestCase {
    func lease(_ host: String) throws -> Amount? {
        guard let leases = try account()["leases"] as? [String: Any], let a = leases[host] else { return nil }
        return try amount(a)
    }

    func testLeasesToTheLowMarkReportsFillsAndReceiptsAndReturnsTheExcess() throws {
        XCTAssertEqual(try ledger(["reset", "USDC", "10000"]).status, 0)
        let host = TestHost("a", db: db, exchange: exchange, low: "1000", high: "3000", chunk: "400")
        var r = try host.runAgent(rounds: 4)
        XCTAssertEqual(r.status, 0, r.err + r.out)
        let books = try host.books()
        var rec = try books.get(host.key)
        XCTAssertEqual(rec.state.pool, Amount(whole: 1200), "whole chunks until at least the low mark: \(r.out)")
        XCTAssertEqual(try lease("a"), rec.state.total)
        XCTAssertEqual(rec.strategyCount, 6, "the config's count was applied")

        // Strategies: 700 into a budget, an order filled for 300, proceeds of 4,000.50 received.
        try books.allocate(host.key, index: 2, Amount(whole: 700)!)
        let id = try HoldId("order-1")
        try books.hold(host.key, index: 2, Amount(whole: 300)!, id: id)
        _ = try books.fill(host.key, id: id, Amount(whole: 300)!, final: true)
        try books.receive(host.key, index: 3, try Amount(parsing: "4000.50"))
        try books.release(host.key, index: 3, try Amount(parsing: "4000.50"))
        r = try host.runAgent(rounds: 3)
        XCTAssertEqual(r.status, 0, r.err + r.out)
        rec = try books.get(host.key)
        XCTAssertEqual(try lease("a"), rec.state.total, "the host's total is its lease")
        let a = try account()
        XCTAssertEqual(try amount(a["total"]), try Amount(parsing: "13700.50"), "10,000 − 300 filled + 4,000.50 received")
        XCTAssertTrue(rec.state.pool <= Amount(whole: 3000)!, "the excess went back: pool \(rec.state.pool); \(r.out)")
        XCTAssertTrue(r.out.contains("returned"), r.out)
        XCTAssertEqual(a["identityHolds"] as? Bool, true)
        XCTAssertEqual(try unfinishedTransfers(), 0)
    }

    func testACentralResetAndAnEvictionWipeTheHostWhichLeasesAnew() throws {
        XCTAssertEqual(try ledger(["reset", "USDC", "5000"]).status, 0)
        let host = TestHost("a", db: db, exchange: exchange, low: "1000", high: "3000", chunk: "1000")
        XCTAssertEqual(try host.runAgent(rounds: 3).status, 0)
        let books = try host.books()
        try books.allocate(host.key, index: 2, Amount(whole: 600)!)
        let epoch = try books.get(host.key).epoch

        // The ledger takes every lease back: the host's books go to 0 (budgets too), a new epoch.
        var r = try ledger(["reset", "USDC", "8000"])
        XCTAssertTrue(r.out.contains("took back 1000.00 from a"), r.out)
        r = try host.runAgent(rounds: 1)
        var rec = try books.get(host.key)
        XCTAssertEqual(rec.state.total, .zero, r.out)
        XCTAssertEqual(rec.slots[2], .zero, "the budget was dropped with the lease")
        XCTAssertEqual(rec.epoch, epoch + 1)
        XCTAssertEqual(try host.runAgent(rounds: 2).status, 0)
        XCTAssertEqual(try books.get(host.key).state.total, Amount(whole: 1000), "and it leases anew")

        // Evicted: the lease goes back to the pool at once; the host, on return, wipes and rejoins.
        r = try ledger(["evict", "a"])
        XCTAssertTrue(r.out.contains("took back 1000.00 from a"), r.out + r.err)
        var a = try account()
        XCTAssertEqual(try amount(a["pool"]), Amount(whole: 8000))
        XCTAssertTrue(try ledger(["get", "USDC"]).out.contains("EVICTED"))
        r = try host.runAgent(rounds: 1)
        XCTAssertTrue(r.out.contains("took the lease back"), r.out)
        rec = try books.get(host.key)
        XCTAssertEqual(rec.state.total, .zero)
        XCTAssertEqual(rec.epoch, epoch + 2)
        XCTAssertEqual(try host.runAgent(rounds: 2).status, 0)
        a = try account()
        XCTAssertEqual(try lease("a"), Amount(whole: 1000))
        XCTAssertEqual(try amount(a["total"]), Amount(whole: 8000))
        XCTAssertEqual(a["identityHolds"] as? Bool, true)
    }

    func testReconcileRecallsFreeLeaseBeforeItResets() throws {
        XCTAssertEqual(try ledger(["reset", "USDC", "3000"]).status, 0)
        let a = TestHost("a", db: db, exchange: exchange, low: "1000", high: "5000", chunk: "1000")
        let b = TestHost("b", db: db, exchange: exchange, low: "1000", high: "5000", chunk: "1000")
        XCTAssertEqual(try a.runAgent(rounds: 2).status, 0)
        XCTAssertEqual(try b.runAgent(rounds: 2).status, 0)
        try a.books().allocate(a.key, index: 2, Amount(whole: 800)!)
        // The exchange says 1,500: the ledger's pool (1,000) must give 1,500; the hosts' free
        // pools (200 on a, 1,000 on b) make up the rest while the reconcile waits.
        try a.startAgent(interval: 20)
        try b.startAgent(interval: 20)
        defer { a.killAgent(); b.killAgent() }
        var r = try ledger(["reconcile", "USDC", "1500", "--wait", "20"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("repaired by -1500.00 (hosts returned"), r.out)
        var acct = try account()
        XCTAssertEqual(try amount(acct["total"]), Amount(whole: 1500))
        XCTAssertTrue(try amount(acct["pool"]) >= .zero)
        XCTAssertEqual(acct["identityHolds"] as? Bool, true)

        // Now more than every free lease: a's 800 budget cannot be recalled, so the ledger resets.
        r = try ledger(["reconcile", "USDC", "100", "--wait", "3"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("reset: every lease taken back"), r.out)
        acct = try account()
        XCTAssertEqual(try amount(acct["total"]), Amount(whole: 100))
        XCTAssertEqual(acct["identityHolds"] as? Bool, true)
        XCTAssertTrue(poll(within: 20) { (try? a.books().get(a.key).slots[2]) == .zero }, "host a wiped its books after the reset")
    }

    /// Cut off from the ledger past the lease's time-to-live (the server killed here), the agent
    /// fences its records: allocate is refused, releases, holds, fills and receipts go on. When the
    /// ledger answers again the fence is lifted and what happened meanwhile is reported.
    func testCutOffPastTheTTLTheHostIsFencedUntilTheLedgerAnswers() throws {
        XCTAssertEqual(try ledger(["reset", "USDC", "10000"]).status, 0)
        let host = TestHost("a", db: db, exchange: exchange, low: "1000", high: "3000", chunk: "1000")
        XCTAssertEqual(try host.runAgent(rounds: 2).status, 0)
        let books = try host.books()
        try books.allocate(host.key, index: 2, Amount(whole: 400)!)
        try host.startAgent(interval: 20, ttl: "1")
        defer { host.killAgent() }
        try server.crash()
        XCTAssertTrue(poll(within: 20) { (try? books.get(host.key).state.fenced) == true }, "fenced after the ttl: \(readTextFile(host.log) ?? "")")
        assertRefused(.fenced) { () throws(BooksError) in try books.allocate(host.key, index: 3, Amount(whole: 1)!) }
        let cli = try runProcess(productPath("shmbal"), ["allocate", "USDC", "3", "1", "--segment", host.segment.path])
        XCTAssertEqual(cli.status, 3, cli.err)
        XCTAssertTrue(cli.err.contains("is fenced"), cli.err)
        XCTAssertEqual(try runProcess(productPath("shmbal"), ["check", "--segment", host.segment.path]).status, 0, "a notice, not broken books")
        // Unfenced behind the agent's back (as a snapshot restored over the record would): the
        // agent fences it again on its next round, the server still down.
        try books.setFenced(host.key, false)
        XCTAssertTrue(poll(within: 10) { (try? books.get(host.key).state.fenced) == true }, "fenced again: \(readTextFile(host.log) ?? "")")
        XCTAssertTrue((readTextFile(host.log) ?? "").contains("fenced again"), readTextFile(host.log) ?? "")
        try books.release(host.key, index: 2, Amount(whole: 100)!)
        try books.receive(host.key, index: 2, Amount(whole: 50)!)
        try server.start()
        XCTAssertTrue(poll(within: 30) { (try? books.get(host.key).state.fenced) == false }, "lifted: \(readTextFile(host.log) ?? "")")
        try books.allocate(host.key, index: 3, Amount(whole: 1)!)
        host.killAgent()
        XCTAssertEqual(try host.runAgent(rounds: 2).status, 0)
        let log = readTextFile(host.log) ?? ""
        XCTAssertTrue(log.contains("fenced: no answer from the ledger"), log)
        XCTAssertTrue(log.contains("the fence is lifted"), log)
        let a = try account()
        XCTAssertEqual(try amount(a["total"]), Amount(whole: 10050), "the receipt made while cut off was reported")
        XCTAssertEqual(try lease("a"), try books.get(host.key).state.total)
    }

    /// `check` on a host compares its total with its lease (from the agent's status file beside
    /// the segment: no PostgreSQL client in `shmbal`), says what is not yet reported, and says
    /// loudly when the agent has gone silent.
    func testCheckComparesTheHostsTotalWithItsLease() throws {
        XCTAssertEqual(try ledger(["reset", "USDC", "10000"]).status, 0)
        let host = TestHost("a", db: db, exchange: exchange, low: "1000", high: "3000", chunk: "1000")
        XCTAssertEqual(try host.runAgent(rounds: 3).status, 0)
        func check() throws -> String {
            let r = try runProcess(productPath("shmbal"), ["check", "--segment", host.segment.path])
            XCTAssertEqual(r.status, 0, r.err)
            return r.out
        }
        var out = try check()
        XCTAssertTrue(out.contains("agent a (pid "), out)
        XCTAssertTrue(out.contains("\(exchange) USDC: local total 1000.00 = lease 1000.00"), out)
        try host.books().receive(host.key, index: 2, Amount(whole: 50)!)
        out = try check()
        XCTAssertTrue(out.contains("local total 1050.00 vs lease 1000.00: +50.00 not yet reported"), out)
        // The agent stopped long ago (its ttl is 1 s here): check says so.
        XCTAssertEqual(try runProcess(productPath("shmbal-ledger"), host.agentArgs(["--rounds", "1", "--ttl", "1"])).status, 0)
        XCTAssertTrue(try check().contains("= lease 1050.00"), "the receipt was reported")
        sleepMicroseconds(1_500_000)
        out = try check()
        XCTAssertTrue(out.contains("agent a (pid ") && out.contains("SILENT for"), out)
        _ = writeTextFile(host.segment.path + ".agent-x.status", "not a status\n")
        XCTAssertTrue(try check().contains("not an agent status file"))
    }
}
