import Glibc
import Histogram
import PostgresNIO
import ShmBalance
import ShmBalanceConfig
import ShmBalanceLedger

// shmbal-ledger-bench --db URL [--quick]: the ledger's figures for `Benchmarks/run --only ledger`
// (issue 13, SPEC §10), printed as lines `name key=value …` that `shmbal-bench suite --ledger FILE`
// turns into rows.
//
// A lease transfer is measured as a host waits for it: one round of the agent's own code
// (`Agent.round()`: renew, unfinished transfers, report, then the move — a ledger transaction,
// the local step under its op id, a ledger transaction). Between rounds the bench moves money on
// the host so that every round moves one chunk: a budget takes the whole pool (the next round
// leases a chunk), then gives it back (the next round returns one). Beside it, in the same run and
// on the same kind of connection (postgres-nio, loopback): the driver's floor (`SELECT 1`), a
// one-row UPDATE transaction, and a round with nothing to move (the agent's idle cost).
// Throughput: rounds that move a chunk per second for one host, and for three hosts at once on
// one account (their transactions queue on the account's row lock).

func now() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

func die(_ message: String) -> Never {
    let bytes = Array("shmbal-ledger-bench: \(message)\n".utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(2)
}

func newHistogram() -> Histogram<UInt64> {
    Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
}

func line(_ name: String, _ h: Histogram<UInt64>) -> String {
    "\(name) count=\(h.totalCount) p50=\(h.valueAtPercentile(50)) p99=\(h.valueAtPercentile(99)) p999=\(h.valueAtPercentile(99.9)) max=\(h.max)"
}

var dbText: String?
var quick = false
var args = CommandLine.arguments.dropFirst()
while let a = args.popFirst() {
    switch a {
    case "--db": dbText = args.popFirst()
    case "--quick": quick = true
    default: die("usage: shmbal-ledger-bench --db URL [--quick]")
    }
}
guard let dbText else { die("usage: shmbal-ledger-bench --db URL [--quick]") }
let url: LedgerURL
do { url = try LedgerURL(parsing: dbText) } catch { die("\(error)") }

let key = try BookKey("BENCH", "USDC")
let chunkRaw = Int128(1000) * Amount.scale
// lease_low = lease_high = lease_chunk: a pool of 0 leases one chunk, a pool of two returns one.
let marks = LeaseMarks(key: key, low: Amount(raw: chunkRaw), high: Amount(raw: chunkRaw), chunk: Amount(raw: chunkRaw))
let transfers = quick ? 300 : 1000
let floorOps = quick ? 1000 : 3000

/// One host: its segment (the bench record with three slots) and its agent, driven round by round.
/// Each host is driven by one task at a time (`@unchecked`: `Agent` is a plain class).
final class Host: @unchecked Sendable {
    let name: String
    let path: String
    let books: Books
    let agent: Agent

    init(_ name: String) throws {
        self.name = name
        path = "/dev/shm/shmbal-ledger-bench-\(getpid())-\(name)"
        unlink(path)
        books = try Books.open(path, .readWriteCreating())
        try books.reset(key, balance: .zero, strategyCount: 3)
        var options = Agent.Options(host: name, marks: [marks])
        options.verbose = false
        options.ttlMs = 60_000
        agent = try Agent(books: books, url: url, options: options)
    }

    var pool: Int128 { (try? books.get(key).state.pool.raw) ?? -1 }

    /// Slot 2 takes the whole pool (so the next round leases) or gives it back (so it returns).
    func take() throws { try books.allocate(key, index: 2, Amount(raw: pool)) }
    func giveBack() throws {
        let held = try books.get(key).slots[2]
        try books.release(key, index: 2, held)
    }

    /// Rounds until the host holds its first chunk (joining: wipe, rejoin, lease).
    func join() async throws {
        for _ in 0..<10 where pool != chunkRaw { try await agent.round() }
        guard pool == chunkRaw else { die("host \(name) did not lease its first chunk (pool \(pool))") }
    }

    func close() { unlink(path); unlink(path + ".agent-\(name).lock") }
}

/// `n` rounds that each move one chunk: grant rounds into `grants`, return rounds into `returns`.
func transferRounds(_ host: Host, _ n: Int, grants: inout Histogram<UInt64>, returns: inout Histogram<UInt64>) async throws {
    for i in 0..<n {
        let granting = i % 2 == 0
        if granting { try host.take() } else { try host.giveBack() }
        let t0 = now()
        try await host.agent.round()
        let dt = now() - t0
        // Either way the round leaves the pool at one chunk: a lease onto 0, or a return from two.
        guard host.pool == chunkRaw else { die("round \(i) of host \(host.name): pool \(host.pool) after the round, expected one chunk") }
        _ = granting ? grants.record(UInt64(dt)) : returns.record(UInt64(dt))
    }
}

// ---- the ledger, fresh ------------------------------------------------------------------------
do {
    let setup = try await Ledger.connect(url, requireSchema: false)
    _ = try await setup.initSchema()
    await setup.close()
    let ledger = try await Ledger.connect(url)
    try await ledger.reset(key, total: Amount(raw: 1_000_000 * Amount.scale).wide)
    await ledger.close()
} catch { die("setting up the ledger at \(url): \(error)") }

// ---- the driver's floor, on a connection of its own --------------------------------------------
/// `SELECT 1` round trips and one-row UPDATE transactions on a postgres-nio connection of its own.
func driverFloor() async throws -> (select: Histogram<UInt64>, update: Histogram<UInt64>) {
    var floorRoundTrip = newHistogram(), floorUpdate = newHistogram()
    var logger = Logger(label: "shmbal.ledger-bench")
    logger.logLevel = .critical
    let configuration = PostgresConnection.Configuration(host: url.host, port: url.port, username: url.user,
                                                         password: url.password, database: url.database, tls: .disable)
    let conn = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
    _ = try await conn.query("CREATE TABLE IF NOT EXISTS shmbal_bench_floor (id int PRIMARY KEY, n bigint NOT NULL)", logger: logger)
    _ = try await conn.query("INSERT INTO shmbal_bench_floor VALUES (1, 0) ON CONFLICT (id) DO NOTHING", logger: logger)
    for i in 0..<(floorOps + 100) {
        let t0 = now()
        _ = try await conn.query("SELECT 1", logger: logger)
        if i >= 100 { floorRoundTrip.record(UInt64(now() - t0)) }
    }
    for i in 0..<(transfers + 20) {
        let t0 = now()
        _ = try await conn.query("BEGIN", logger: logger)
        _ = try await conn.query("UPDATE shmbal_bench_floor SET n = n + 1 WHERE id = 1", logger: logger)
        _ = try await conn.query("COMMIT", logger: logger)
        if i >= 20 { floorUpdate.record(UInt64(now() - t0)) }
    }
    _ = try await conn.query("DROP TABLE shmbal_bench_floor", logger: logger)
    try await conn.close()
    return (floorRoundTrip, floorUpdate)
}
let floor: (select: Histogram<UInt64>, update: Histogram<UInt64>)
do { floor = try await driverFloor() } catch { die("the driver's floor: \(error)") }
print(line("ledger-floor-select", floor.select))
print(line("ledger-floor-update", floor.update))

// ---- one host -----------------------------------------------------------------------------------
do {
    let a = try Host("a")
    defer { a.close() }
    try await a.join()
    var idle = newHistogram(), grants = newHistogram(), returns = newHistogram()
    for _ in 0..<transfers {
        let t0 = now()
        try await a.agent.round()
        idle.record(UInt64(now() - t0))
    }
    try await transferRounds(a, 20, grants: &grants, returns: &returns)   // warm-up
    grants.reset()
    returns.reset()
    let t0 = now()
    try await transferRounds(a, 2 * transfers, grants: &grants, returns: &returns)
    let seconds = Double(now() - t0) / 1e9
    print(line("ledger-idle-round", idle))
    print(line("ledger-grant", grants))
    print(line("ledger-return", returns))
    print("ledger-transfers-1 per_s=\(Double(2 * transfers) / seconds)")
} catch { die("one host: \(error)") }

// ---- three hosts on one account, at once ---------------------------------------------------------
do {
    let hosts = try ["b", "c", "d"].map { try Host($0) }
    defer { for h in hosts { h.close() } }
    for h in hosts { try await h.join() }
    let t0 = now()
    var total = newHistogram()
    try await withThrowingTaskGroup(of: Histogram<UInt64>.self) { group in
        for h in hosts {
            group.addTask {
                var g = newHistogram(), r = newHistogram()
                try await transferRounds(h, 2 * transfers, grants: &g, returns: &r)
                g.add(r)
                return g
            }
        }
        for try await h in group { total.add(h) }
    }
    let seconds = Double(now() - t0) / 1e9
    print(line("ledger-transfer-3", total))
    print("ledger-transfers-3 per_s=\(Double(3 * 2 * transfers) / seconds)")
} catch { die("three hosts: \(error)") }
