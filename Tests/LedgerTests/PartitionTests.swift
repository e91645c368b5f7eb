import Foundation
import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// SPEC §10's partition, through a proxy the test cuts (packets dropped, connections left hanging,
/// not refused): host a, cut off past its lease's ttl, fences itself (allocate refused, release
/// still works); the ledger keeps a's lease a's (another host leasing all it can never gets it)
/// until an operator evicts a; healed, a wipes its books under a new epoch, lifts the fence and
/// leases anew. The books add up exactly throughout.
final class PartitionTests: LedgerTestCase {
    func testACutOffHostFencesKeepsItsLeaseUntilEvictedAndComesBackUnderANewEpoch() throws {
        XCTAssertEqual(try ledger(["reset", "USDC", "6000"]).status, 0)
        let port = try XCTUnwrap(Int(db.split(separator: ":").last!.split(separator: "/").first!))
        let proxy = try TCPProxy(to: port)
        let viaProxy = "postgres://shmbal@127.0.0.1:\(proxy.port)/postgres"
        let a = TestHost("a", db: viaProxy, exchange: exchange, low: "2000", high: "4000", chunk: "1000")
        let b = TestHost("b", db: db, exchange: exchange, low: "1000", high: "9000", chunk: "1000")
        XCTAssertEqual(try a.runAgent(rounds: 2).status, 0)
        XCTAssertEqual(try b.runAgent(rounds: 2).status, 0)
        let booksA = try a.books(), booksB = try b.books()
        try booksA.allocate(a.key, index: 2, Amount(whole: 500)!)
        try a.startAgent(interval: 20, ttl: "2")
        try b.startAgent(interval: 20, ttl: "2")
        defer { a.killAgent(); b.killAgent() }
        XCTAssertTrue(poll(within: 20) { (try? booksA.get(a.key).state.headroom.raw) ?? 0 >= Amount(whole: 2000)!.raw }, "a leased to its low mark")
        let leasedByA = try XCTUnwrap(try account()["leases"] as? [String: Any])["a"]
        let epochA = try booksA.get(a.key).epoch

        proxy.cut()
        XCTAssertTrue(poll(within: 30) { (try? booksA.get(a.key).state.fenced) == true }, "a fenced itself: \(readTextFile(a.log) ?? "")")
        assertRefused(.fenced) { () throws(BooksError) in try booksA.allocate(a.key, index: 3, Amount(whole: 1)!) }
        try booksA.release(a.key, index: 2, Amount(whole: 200)!)   // orders already funded go on
        // Unfenced behind the agent's back (as a snapshot restored over the record would): fenced
        // again while the ledger stays unreachable (here by the stuck-round watchdog or the agent
        // it restarts; AgentTests covers an agent whose rounds fail fast).
        try booksA.setFenced(a.key, false)
        XCTAssertTrue(poll(within: 10) { (try? booksA.get(a.key).state.fenced) == true }, "fenced again: \(readTextFile(a.log) ?? "")")
        // b takes all it can: the ledger's pool, never a's lease.
        for _ in 0..<6 { try? booksB.allocate(b.key, index: 2, Amount(whole: 1000)!) ; sleepMicroseconds(200_000) }
        XCTAssertTrue(poll(within: 20) { (try? self.amount(self.account()["pool"]).raw) == 0 }, "b leased the whole pool")
        var acct = try account()
        XCTAssertEqual(try XCTUnwrap(acct["leases"] as? [String: Any])["a"] as? String, leasedByA as? String, "a's lease is still a's")
        let shown = try ledger(["get", "USDC"]).out
        XCTAssertTrue(shown.contains("EXPIRED"), "and shown as expired: \(shown)")
        XCTAssertTrue(shown.contains("agent silent (last said connected)"), "its agent's state is only what it last said: \(shown)")
        let f = try tableFigures()
        XCTAssertEqual(f.total.raw, f.pool.raw + f.leased.raw)

        // The operator's word: a is gone. Its lease goes to the pool; b may now lease it.
        let evicted = try ledger(["evict", "a"])
        XCTAssertEqual(evicted.status, 0, evicted.err)
        XCTAssertTrue(poll(within: 20) { ((try? self.account()["leases"] as? [String: Any])?["b"] as? String).flatMap { try? Amount(parsing: $0) }.map { $0 > Amount(whole: 3000)! } ?? false },
                      "b got what a held")

        // a comes back: it wipes its books under a new epoch, lifts the fence, leases anew.
        proxy.heal()
        XCTAssertTrue(poll(within: 40) { (try? booksA.get(a.key).state.fenced) == false && (try? booksA.get(a.key).epoch) == epochA + 1 },
                      "a wiped and unfenced: \(readTextFile(a.log) ?? "")")
        XCTAssertEqual(try booksA.get(a.key).slots[2], .zero, "its budgets went with the lease")
        a.killAgent()
        b.killAgent()
        XCTAssertEqual(try a.runAgent(rounds: 2).status, 0)
        XCTAssertEqual(try b.runAgent(rounds: 2).status, 0)
        acct = try account()
        let leases = try XCTUnwrap(acct["leases"] as? [String: Any])
        XCTAssertEqual(try amount(leases["a"]), try booksA.get(a.key).state.total)
        XCTAssertEqual(try amount(leases["b"]), try booksB.get(b.key).state.total)
        XCTAssertEqual(try amount(acct["total"]), Amount(whole: 6000), "no fill or receipt: the total never moved")
        XCTAssertEqual(acct["identityHolds"] as? Bool, true)
        XCTAssertEqual(try unfinishedTransfers(), 0)
        let log = readTextFile(a.log) ?? ""
        print("partition: a's log: \(log.split(separator: "\n").filter { $0.contains("fenced") || $0.contains("afresh") || $0.contains("took the lease back") || $0.contains("lifted") }.joined(separator: " | "))")
    }
}
