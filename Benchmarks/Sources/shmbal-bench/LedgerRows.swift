import CPeers
import Glibc
import ShmBalance

// Issue 13 (SPEC §10): a writer's allocate/release on a host whose agent keeps the record
// supplied from the ledger, against the same writer with the agent stopped (SIGSTOP), in paired
// rounds of one run; and the rows `shmbal-ledger-bench` measured against the same PostgreSQL
// (a lease transfer's latency, the ledger's operations per second, the driver's floor).

extension Suite {
    func ledgerSection() throws {
        guard let exe = o.shmbalLedger, let db = o.db else {
            notes.append("Ledger rows not measured: no `--shmbal-ledger` and `--db` (Benchmarks/run builds the agent and starts PostgreSQL).")
            return
        }
        try agentBeside(exe, db)
        ledgerRows()
    }

    private func agentBeside(_ exe: String, _ db: String) throws {
        let path = scratchPath("agent"), config = "/tmp/shmbal-bench-\(getpid())-agent.toml"
        unlink(path)
        defer { unlink(path); unlink(path + ".agent-bench.lock"); unlink(path + ".agent-bench.status"); unlink(config) }
        // The bench's record (9 slots), leased in chunks of its whole balance: the agent joins,
        // leases one chunk, then only renews, since allocate/release pairs leave the pool as it is.
        try writeFile(config, """
            [KRAKEN.USDC]
            strategies = \(benchCount)
            lease_low = "0.001"
            lease_high = "0.002"
            lease_chunk = "0.001"

            """)
        let agent = try Child.spawn(["agent", "--host", "bench", "--segment", path, "--config", config, "--db", db,
                                     "--interval", "200", "--quiet"], executable: exe)
        defer { _ = agent.terminate() }
        let key = try BookKey("KRAKEN", "USDC")
        let deadline = bench_now_ns() + 20_000_000_000
        var books: Books?
        var rec: RecordRef?
        while true {
            if bench_now_ns() > deadline { throw BenchError("the agent did not lease into \(path): \(readFile(agent.outputPath) ?? "")") }
            var status: Int32 = 0
            if waitpid(agent.pid, &status, WNOHANG) == agent.pid { throw BenchError("the agent exited: \(readFile(agent.outputPath) ?? "")") }
            usleep(20_000)
            if books == nil { books = try? Books.open(path, .readWrite) }
            if let b = books, let r = b.record(key), let st = try? b.get(key), st.state.pool.raw >= Int128(benchBalance) {
                rec = r
                break
            }
        }
        let window: Int64 = o.quick ? 500_000_000 : 1_000_000_000
        let n = o.quick ? 6 : 11
        let p = try pairedWindows(books!, rec!, rounds: n, window: window, beside: [agent])
        let ratios = p.ratios, withNs = p.withNs
        agent.resume()
        var status: Int32 = 0
        if waitpid(agent.pid, &status, WNOHANG) == agent.pid { throw BenchError("the agent exited during the rounds: \(readFile(agent.outputPath) ?? "")") }
        let ratio = median(ratios)
        log("agent beside: per-round ratios " + ratios.map { fmtRatio($0) }.joined(separator: " "))
        rows.append(Row(name: "**ShmBalance** allocate or release beside the host's agent (`shmbal agent`, 200 ms rounds, other process)",
                        median: median(withNs), throughput: 1e9 / median(withNs), ratio: ratio,
                        note: "ratio: with ÷ without the agent (stopped with SIGSTOP), \(n) paired rounds of \(window / 1_000_000) ms"))
        targets.append(("allocate/release beside the agent: with ÷ without ≤ 1.05 (median of \(n) paired rounds)", ratio <= 1.05, fmtRatio(ratio)))
    }

    /// The lines of `shmbal-ledger-bench` (`name key=value …`) as rows.
    private func ledgerRows() {
        var d: [String: [String: Double]] = [:]
        for (name, rest) in o.ledger {
            var kv: [String: Double] = [:]
            for part in rest.split(separator: " ") {
                let p = part.split(separator: "=")
                if p.count == 2, let v = Double(p[1]) { kv[String(p[0])] = v }
            }
            d[name] = kv
        }
        guard let floor = d["ledger-floor-update"]?["p50"], let grant = d["ledger-grant"], let one = d["ledger-transfers-1"]?["per_s"] else {
            notes.append("Ledger transfer rows not measured: no `--ledger` file from shmbal-ledger-bench.")
            return
        }
        func row(_ key: String, _ name: String, throughput: Double? = nil, note: String) {
            guard let v = d[key], let p50 = v["p50"] else { return }
            rows.append(Row(name: name, median: p50, p99: v["p99"] ?? .nan, p999: v["p999"] ?? .nan,
                            throughput: throughput ?? 1e9 / p50, ratio: p50 / floor, note: note))
        }
        let per = "ratio: ÷ the one-row UPDATE transaction below"
        row("ledger-grant", "Ledger: a lease granted (one agent round: renew, unfinished, grant, local step, finish)", throughput: one,
            note: "\(per); throughput: grant and return rounds of one host, back to back")
        row("ledger-return", "Ledger: a lease returned (one agent round: renew, unfinished, begin, local withdraw, finish)", throughput: one, note: per)
        row("ledger-idle-round", "Ledger: an agent round with nothing to move (renew, unfinished)", note: per)
        row("ledger-transfer-3", "Ledger: three hosts moving chunks at once on one account (each round)", throughput: d["ledger-transfers-3"]?["per_s"],
            note: "\(per); throughput: the three hosts together (their transactions queue on the account's row lock)")
        row("ledger-floor-update", "Peer: a one-row UPDATE transaction (BEGIN, UPDATE, COMMIT), postgres-nio", note: "the same server, its own connection")
        row("ledger-floor-select", "Peer: `SELECT 1`, postgres-nio round trip", note: "the driver's floor on loopback")
        targets.append(("a lease transfer on loopback: p50 / p99 (grant round)", nil,
                        "\(fmtNs(grant["p50"] ?? .nan)) / \(fmtNs(grant["p99"] ?? .nan))"))
        targets.append(("ledger operations per second: transfers of one host / of three hosts at once", nil,
                        "\(fmtRate(one)) / \(fmtRate(d["ledger-transfers-3"]?["per_s"] ?? .nan))"))
    }
}
