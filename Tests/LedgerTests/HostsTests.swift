import Foundation
import Glibc
import ShmBalance
import ShmBalanceTestSupport
import Synchronization
import XCTest

/// Several hosts share one account (SPEC §10): each its segment and agent (a real process), and
/// strategies (threads here, each on its host's real mapping) doing random allocate, release,
/// hold, fill and receive. Afterwards, exactly: the ledger's total = pool + Σ leases; each host's
/// total is its lease; the ledger's total is the start plus every acknowledged receipt minus
/// every acknowledged fill; no transfer is left unfinished. Under faults too: agents SIGKILLed
/// at random moments and restarted; PostgreSQL killed (`-m immediate`) and restarted mid-run.
final class HostsTests: LedgerTestCase {
    static let start = Amount(whole: 100_000)!

    /// What strategies did and the ledger must account for, in raw units.
    final class Tally: Sendable {
        let received = Atomic<Int64>(0), filled = Atomic<Int64>(0), allocated = Atomic<Int>(0)
        /// Allocations applied while `outage` was raised (PostgreSQL down).
        let allocatedInOutage = Atomic<Int>(0)
        let outage = Flag()
        let stop = Flag()
    }

    /// Random operations on one host until `tally.stop`: amounts in whole units so that the
    /// tally (Int64 of whole units) is exact.
    static func strategy(_ books: Books, _ key: BookKey, seed: UInt64, _ tally: Tally, _ findings: Findings) {
        var rng = SplitMix64(seed: seed)
        var open: [(HoldId, Int)] = []
        var serial = 0
        while !tally.stop.isRaised {
            let index = 2 + Int(rng.next() % 4)
            let whole = Int64(1 + rng.next() % 300)
            let amount = Amount(whole: whole)!
            do {
                switch rng.next() % 6 {
                case 0, 1:
                    try books.allocate(key, index: index, amount)
                    tally.allocated.add(1, ordering: .relaxed)
                    if tally.outage.isRaised { tally.allocatedInOutage.add(1, ordering: .relaxed) }
                case 2:
                    // Up to three times the amount, of what the budget has free: money flows back
                    // to the pool too, so agents return as well as lease.
                    let free = try books.get(key).free[index]
                    guard free.raw > 0 else { continue }
                    try books.release(key, index: index, Amount(raw: min(free.raw, 3 * amount.raw)))
                case 3:
                    serial += 1
                    let id = try HoldId("s\(seed % 1000)-\(serial)")
                    try books.hold(key, index: index, amount, id: id)
                    open.append((id, Int(whole)))
                case 4:
                    guard !open.isEmpty else { continue }
                    let (id, held) = open.removeFirst()
                    let part = Int64(1 + Int(rng.next() % UInt64(held)))
                    _ = try books.fill(key, id: id, Amount(whole: part)!, final: true)
                    tally.filled.add(part, ordering: .relaxed)
                default:
                    try books.receive(key, index: index, amount)
                    tally.received.add(whole, ordering: .relaxed)
                }
            } catch {
                if case .refused = error { continue }   // beyond the headroom or the budget: the books said no
                findings.add("\(key) seed \(seed): \(error)")
                return
            }
            sleepMicroseconds(300)
        }
    }

    /// Runs `hosts` with strategies for `seconds`; `during` runs on the test's thread meanwhile
    /// (faults). Then stops everything, lets each agent settle, and checks the books exactly.
    func run(hosts names: [String], seconds: Double,
             during: (@Sendable ([TestHost], Tally, Deadline) throws -> Void)? = nil) throws -> (Tally, [TestHost]) {
        XCTAssertEqual(try ledger(["reset", "USDC", HostsTests.start.description]).status, 0)
        let hosts = names.map { TestHost($0, db: db, exchange: exchange, low: "500", high: "2000", chunk: "500") }
        for h in hosts { XCTAssertEqual(try h.runAgent(rounds: 2).status, 0, "joins, creates its record") }
        for h in hosts { try h.startAgent(interval: 5) }
        let tally = Tally(), findings = Findings()
        let books = try hosts.map { try $0.books() }
        let keys = hosts.map(\.key)
        let deadline = Deadline(seconds: seconds)
        let strategies = 2
        runThreads(hosts.count * strategies + 1) { i in
            if i == hosts.count * strategies {
                // The controller: the faults, then the end of the run.
                do {
                    try during?(hosts, tally, deadline)
                    while !deadline.hasPassed { sleepMicroseconds(20_000) }
                } catch is StopRun {
                } catch {
                    findings.add("faults: \(error)")
                }
                tally.stop.raise()
                return
            }
            HostsTests.strategy(books[i / strategies], keys[i / strategies], seed: UInt64(1000 * i + 7), tally, findings)
        }
        for h in hosts { h.killAgent() }
        XCTAssertEqual(findings.count, 0, findings.lines.joined(separator: "\n"))
        // Settle: each agent a few rounds, from wherever the last one stopped.
        for h in hosts {
            let r = try h.runAgent(rounds: 3)
            XCTAssertEqual(r.status, 0, "\(h.name): \(r.err)\n\(r.out)")
        }
        try checkBooks(hosts, tally)
        return (tally, hosts)
    }

    func checkBooks(_ hosts: [TestHost], _ tally: Tally, file: StaticString = #filePath, line: UInt = #line) throws {
        let a = try account()
        let leases = try XCTUnwrap(a["leases"] as? [String: Any])
        for h in hosts {
            let rec = try h.books().get(h.key)
            XCTAssertTrue(rec.identityHolds, "\(h.name): local identity", file: file, line: line)
            XCTAssertEqual(try amount(leases[h.name]), rec.state.total, "\(h.name): its total is its lease", file: file, line: line)
        }
        let f = try tableFigures()
        XCTAssertEqual(f.total.raw, f.pool.raw + f.leased.raw, "ledger: total = pool + Σ leases", file: file, line: line)
        let expected = Amount(raw: HostsTests.start.raw + Int128(tally.received.load(ordering: .relaxed) - tally.filled.load(ordering: .relaxed)) * Amount.scale)
        XCTAssertEqual(f.total, expected, "the ledger's total is the start + receipts − fills", file: file, line: line)
        XCTAssertEqual(try unfinishedTransfers(), 0, "every transfer finished", file: file, line: line)
    }

    func transfers() throws -> String {
        try server.sql("SELECT kind || ' ' || count(*) FROM shmbal_journal WHERE exchange = '\(exchange)' AND state = 'done' GROUP BY kind ORDER BY kind").out
            .split(separator: "\n").joined(separator: ", ")
    }

    func testThreeHostsTradeAndTheLedgerAddsUp() throws {
        let (tally, _) = try run(hosts: ["a", "b", "c"], seconds: 4)
        XCTAssertGreaterThan(tally.allocated.load(ordering: .relaxed), 100, "the strategies traded")
        print("three hosts, 4 s: \(tally.allocated.load(ordering: .relaxed)) allocations, received \(tally.received.load(ordering: .relaxed)), filled \(tally.filled.load(ordering: .relaxed)); ledger transfers: \(try transfers())")
    }

    /// Agents SIGKILLed at random moments (mid-lease, mid-return, mid-report) and restarted at
    /// once, 120 times across three hosts, while the strategies trade.
    func testAgentsKilledAtRandomMomentsCreateAndLoseNothing() throws {
        let kills = Atomic<Int>(0)
        let (tally, hosts) = try run(hosts: ["a", "b", "c"], seconds: 90) { hosts, _, deadline in
            var rng = SplitMix64(seed: 13)
            while kills.load(ordering: .relaxed) < 120 && !deadline.hasPassed {
                let h = hosts[Int(rng.next() % UInt64(hosts.count))]
                // 20–250 ms: long enough for a restarted agent to connect and transfer, short
                // enough that kills land inside transfers (the logs count those finished later).
                sleepMicroseconds(20_000 + Int(rng.next() % 230_000))
                h.killAgent()
                kills.add(1, ordering: .relaxed)
                try h.startAgent(interval: 5)
            }
            // Enough: the run ends here rather than at the deadline.
            throw StopRun()
        }
        XCTAssertGreaterThanOrEqual(kills.load(ordering: .relaxed), 100)
        let logs = hosts.map { readTextFile($0.log) ?? "" }.joined()
        let finishedLater = logs.components(separatedBy: "left by an earlier run").count - 1
        print("agent kills: \(kills.load(ordering: .relaxed)); transfers cut by a kill and finished by the next agent: \(finishedLater); \(tally.allocated.load(ordering: .relaxed)) allocations, received \(tally.received.load(ordering: .relaxed)), filled \(tally.filled.load(ordering: .relaxed)); ledger transfers: \(try transfers()); 0 created or lost (checked exactly)")
    }

    /// PostgreSQL dies (`pg_ctl stop -m immediate`) mid-run and comes back 2 s later: strategies
    /// keep allocating from their local pools meanwhile (the outage is shorter than the lease's
    /// ttl, so no host fences), agents reconnect and go on leasing, nothing is lost.
    func testPostgresKilledMidRunLosesNoTransfer() throws {
        let server = self.server
        let restarted = Mutex<String?>(nil)
        let (tally, hosts) = try run(hosts: ["a", "b"], seconds: 14) { _, tally, _ in
            sleepMicroseconds(2_000_000)
            try server.crash()
            tally.outage.raise()
            sleepMicroseconds(2_000_000)
            tally.outage.lower()
            try server.start()
            let now = try server.sql("SELECT now()::text").out.trimmingCharacters(in: .whitespacesAndNewlines)
            restarted.withLock { $0 = now }
        }
        XCTAssertGreaterThan(tally.allocatedInOutage.load(ordering: .relaxed), 0, "strategies allocated while the ledger was down")
        let logs = hosts.map { readTextFile($0.log) ?? "" }.joined()
        // A query in flight when the server dies either fails (retrying) or never returns in the
        // driver (the agent's watchdog then starts it afresh); either way it must have noticed.
        XCTAssertTrue(logs.contains("retrying") || logs.contains("starting afresh"), "the agents saw the ledger go: \(logs.suffix(2000))")
        XCTAssertFalse(logs.contains("fenced:"), "an outage shorter than the ttl fences nobody: \(logs.suffix(2000))")
        let since = try XCTUnwrap(restarted.withLock { $0 })
        let after = try server.sql("SELECT count(*) FROM shmbal_journal WHERE exchange = '\(exchange)' AND kind IN ('grant', 'return', 'report') AND state = 'done' AND at > '\(since)'")
        XCTAssertGreaterThan(Int(after.out.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0, 0, "the agents came back and went on: \(logs.suffix(2000))")
        print("ledger down 2 s: \(tally.allocatedInOutage.load(ordering: .relaxed)) allocations during the outage, \(tally.allocated.load(ordering: .relaxed)) in all; \(after.out.trimmingCharacters(in: .whitespacesAndNewlines)) transfers after the restart; agents that had to start afresh: \(logs.components(separatedBy: "starting afresh").count - 1); ledger transfers: \(try transfers())")
    }
}

/// Thrown by a fault schedule that is done: the run stops at once instead of at its deadline.
struct StopRun: Error {}
