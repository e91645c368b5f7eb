import Foundation
import Glibc
import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// What the ledger tests share: one real PostgreSQL server per test class (started in the class's
/// setUp, stopped in its tearDown), a ledger schema in it, and an exchange of its own per test so
/// tests never see each other's accounts.
class LedgerTestCase: XCTestCase {
    nonisolated(unsafe) static var server: PostgresServer?
    nonisolated(unsafe) static var tests = 0

    var server: PostgresServer { LedgerTestCase.server! }
    var db: String { server.url }
    /// This test's exchange.
    private(set) var exchange = ""

    nonisolated(unsafe) static var startFailure: String?

    override class func setUp() {
        super.setUp()
        startFailure = nil
        do {
            let s = try PostgresServer()
            server = s
            let r = try runProcess(productPath("shmbal-ledger"), ["ledger", "init", "--db", s.url], timeout: 60)
            if r.status != 0 { startFailure = "ledger init failed: \(r.err)" }
        } catch {
            startFailure = "the ledger tests need a PostgreSQL server (scripts/pg-temp; Debian's postgresql): \(error)"
        }
    }

    override class func tearDown() {
        server = nil
        super.tearDown()
    }

    /// Without a server every test of the class fails (never skips), and the other suites go on.
    override func setUpWithError() throws {
        try super.setUpWithError()
        if let why = LedgerTestCase.startFailure { throw PostgresUnavailable(message: why) }
        LedgerTestCase.tests += 1
        exchange = "T\(LedgerTestCase.tests)"
    }

    /// `shmbal ledger ARGS… --db URL --exchange EXCHANGE`, through `shmbal` (which runs shmbal-ledger).
    @discardableResult
    func ledger(_ args: [String], exchange: String? = nil, timeout: Double = 60) throws -> RunResult {
        try runProcess(productPath("shmbal"), ["ledger"] + args + ["--db", db, "--exchange", exchange ?? self.exchange], timeout: timeout)
    }

    /// `ledger get CURRENCY --json`, parsed.
    func account(_ currency: String = "USDC") throws -> [String: Any] {
        let r = try ledger(["get", currency, "--json"])
        XCTAssertEqual(r.status, 0, r.err)
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any], r.out)
    }

    func amount(_ any: Any?) throws -> Amount { try Amount(parsing: try XCTUnwrap(any as? String)) }

    /// The account's identity and figures, straight from the tables (not through the CLI).
    func tableFigures(_ currency: String = "USDC") throws -> (total: Amount, pool: Amount, leased: Amount) {
        let r = try server.sql("""
            SELECT a.total::text || ' ' || a.pool::text || ' ' || coalesce((SELECT sum(amount) FROM shmbal_lease l
              WHERE l.exchange = a.exchange AND l.currency = a.currency), 0)::text
            FROM shmbal_account a WHERE exchange = '\(exchange)' AND currency = '\(currency)'
            """)
        let parts = r.out.split(whereSeparator: { $0 == " " || $0 == "\n" })
        XCTAssertEqual(parts.count, 3, r.out + r.err)
        return (try Amount(parsing: parts[0]), try Amount(parsing: parts[1]), try Amount(parsing: parts[2]))
    }

    /// Transfers an agent started and did not finish.
    func unfinishedTransfers() throws -> Int {
        let r = try server.sql("SELECT count(*) FROM shmbal_journal WHERE exchange = '\(exchange)' AND state IN ('granted', 'pending')")
        return Int(r.out.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }
}

/// One host: its segment, its config (lease marks), and its agent runs.
final class TestHost: @unchecked Sendable {
    let name: String
    let segment: TempSegment
    let config: String
    let db: String
    let exchange: String
    var agent: ChildProcess?
    let log: String

    init(_ name: String, db: String, exchange: String, low: String = "500", high: String = "2000", chunk: String = "500", strategies: Int = 6) {
        self.name = name
        self.db = db
        self.exchange = exchange
        segment = TempSegment("host-\(name)")
        config = segment.file("host.toml")
        log = segment.file("agent.log")
        _ = writeTextFile(config, """
            default_exchange = "\(exchange)"
            [\(exchange).USDC]
            strategies = \(strategies)
            lease_low = "\(low)"
            lease_high = "\(high)"
            lease_chunk = "\(chunk)"

            """)
    }

    var key: BookKey { try! BookKey(exchange, "USDC") }

    func agentArgs(_ extra: [String]) -> [String] {
        ["agent", "--host", name, "--segment", segment.path, "--config", config, "--db", db] + extra
    }

    /// The agent for `rounds` rounds, to completion.
    @discardableResult
    func runAgent(rounds: Int, interval: Int = 10) throws -> RunResult {
        try runProcess(productPath("shmbal-ledger"), agentArgs(["--rounds", String(rounds), "--interval", String(interval)]), timeout: 120)
    }

    /// The agent in the background, until stopped or killed.
    func startAgent(interval: Int = 20, ttl: String = "10") throws {
        agent = try ChildProcess(productPath("shmbal-ledger"), agentArgs(["--interval", String(interval), "--ttl", ttl]),
                                 stdout: .appending(log), stderr: .appending(log))
    }

    func killAgent() {
        guard let a = agent else { return }
        a.signal(SIGKILL)
        _ = a.wait(timeout: 10)
        agent = nil
    }

    func books() throws -> Books { try segment.books(.readWrite) }
}
