import CPeers
import Glibc
import Histogram
import ShmBalance

struct SuiteOptions {
    var redisPort: Int32?
    /// Instructions per operation from callgrind, by workload name (`Benchmarks/run` measures them).
    var instructions: [String: Double] = [:]
    /// Rows measured by other processes (`Benchmarks/python/python_peers.py`, `Benchmarks/cabi`):
    /// name → "median_ns p99_ns p999_ns" or "unavailable: why".
    var external: [String: String] = [:]
    var out: String?
    var quick = false
    var command = "Benchmarks/run"
    /// `Benchmarks/cabi/cabi_ops`, built by `Benchmarks/run`: its read batches run between the
    /// core's read rounds, so their ratio to the core's read is per round, under the same load.
    var cabiOps: String?
    /// Sections to run (all when empty): one, read, before, holds, slow, external, contend, readers, render, scrape, ledger.
    var only: Set<String> = []
    /// The release `shmbal` whose `metrics` exporter the scrape row runs (issue 14).
    var shmbal: String?
    /// The release `shmbal-ledger` whose agent the ledger section runs beside a writer, and the
    /// ledger it leases from (issue 13; Benchmarks/run starts a PostgreSQL).
    var shmbalLedger: String?
    var db: String?
    /// What `shmbal-ledger-bench` printed: name → "key=value …".
    var ledger: [String: String] = [:]
    /// `Benchmarks/before`'s core-batch built against this tree and against the commit before
    /// issue 10's hardening (`beforeRev`): the "no slower than before" rows.
    var nowBatch: String?
    var beforeBatch: String?
    var beforeRev: String?

    init(_ args: [String]) {
        var i = 0
        func value() -> String {
            i += 1
            guard i < args.count else { fail("\(args[i - 1]) needs a value") }
            return args[i]
        }
        while i < args.count {
            switch args[i] {
            case "--redis-port": redisPort = Int32(value())
            case "--instructions": instructions = SuiteOptions.parsePairs(readFile(value()) ?? "").compactMapValues(Double.init)
            case "--external": external = SuiteOptions.parsePairs(readFile(value()) ?? "")
            case "--out": out = value()
            case "--cabi-ops": cabiOps = value()
            case "--shmbal": shmbal = value()
            case "--shmbal-ledger": shmbalLedger = value()
            case "--db": db = value()
            case "--ledger": ledger = SuiteOptions.parsePairs(readFile(value()) ?? "")
            case "--now-batch": nowBatch = value()
            case "--before-batch": beforeBatch = value()
            case "--before-rev": beforeRev = value()
            case "--command": command = value()
            case "--quick": quick = true
            case "--only": only = Set(value().split(separator: ",").map(String.init))
            default: fail("unknown option \(args[i])\n\(usage)")
            }
            i += 1
        }
    }

    /// Lines "name rest of line".
    static func parsePairs(_ text: String) -> [String: String] {
        var d: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            if parts.count == 2 { d[String(parts[0])] = String(parts[1]) }
        }
        return d
    }
}

/// One measured row of the table.
struct Row {
    var name: String
    var median = Double.nan
    var p99 = Double.nan
    var p999 = Double.nan
    var throughput = Double.nan
    var instructions = Double.nan
    /// Peer time ÷ ShmBalance time (median of per-round ratios where interleaved).
    var ratio = Double.nan
    var note = ""
}

/// Every timed row, in one run. Rounds interleave ShmBalance with its peers, so a load change on
/// this shared machine hits both sides of a ratio alike; ratios are medians of per-round ratios.
final class Suite {
    let o: SuiteOptions
    var rows: [Row] = []
    var targets: [(String, Bool?, String)] = []
    var notes: [String] = []
    var rounds: Int { o.quick ? 10 : 21 }
    /// The core's consistent read of 9 slots (`RecordRef.read`), median ns, once `readPass` ran.
    var coreReadMedian = Double.nan
    /// The C ABI read rows `readPass` measured between its rounds (so `externalRows` skips them).
    var interleavedCABI: Set<String> = []

    init(options: SuiteOptions) { o = options }

    func log(_ s: String) { printError(s) }

    func run() throws {
        let load0 = loadAverage()
        log("shmbal-bench: TSC \(String(format2: 1 / nsPerTick, "GHz")), \(rounds) rounds; load \(load0)")
        func on(_ section: String) -> Bool { o.only.isEmpty || o.only.contains(section) }
        let swiftMedian = on("one") ? try onePass() : .nan
        if on("read") { try readPass() }
        if on("before") { try beforeSection() }
        if on("holds") { try holdsPass() }
        if on("slow") { try slowPeers() }
        if on("external") { externalRows(swiftMedian: swiftMedian) }
        if on("contend") { try contention() }
        if on("readers") { try readers() }
        if on("render") { try renderPass() }
        if on("scrape") { try scrape() }
        if on("ledger") { try ledgerSection() }
        let load1 = loadAverage()
        notes.append("Load average (1, 5, 15 min) at the start: \(load0); at the end: \(load1).")
        let text = report()
        if let out = o.out { try writeFile(out, text) } else { print(text) }
    }

    // MARK: - One process: allocate/release against the C peers

    func onePass() throws -> Double {
        let s = try SwiftSubject(path: scratchPath("one"))
        defer { s.close() }
        let cpath = scratchPath("one-c")
        guard let p = cpeer_create(cpath, Int32(benchCount), benchBalance) else { throw BenchError("cpeer_create failed") }
        defer { cpeer_close(p); unlink(cpath) }

        let impls = ["swift", "c-safe", "c-safe-noclock", "c-safe-bare", "c-inplace", "c-inplace64", "floor"]
        func batch(_ impl: String) throws -> Double {
            let n = impl == "floor" ? 1_000_000 : 200_000
            let t0 = bench_now_ns()
            let failed = impl == "swift" ? swiftOps(s.books, s.rec, n) : cOps(CImpl(rawValue: impl)!, p, n)
            let t1 = bench_now_ns()
            if failed != 0 { throw BenchError("\(impl): \(failed) operations refused") }
            return Double(t1 - t0) / Double(n)
        }
        for impl in impls { _ = try batch(impl) }  // warm-up
        var ns: [String: [Double]] = [:]
        for r in 0..<rounds {
            for k in 0..<impls.count {
                let impl = impls[(k + r) % impls.count]
                ns[impl, default: []].append(try batch(impl))
            }
        }
        // Per-operation latency: interleaved chunks, each operation timed alone.
        var hist: [String: Histogram<UInt64>] = [:]
        var timer = newHistogram()
        for chunk in 0..<10 {
            timerOverhead(50_000, &timer)
            for k in 0..<impls.count {
                let impl = impls[(k + chunk) % impls.count]
                var h = hist[impl] ?? newHistogram()
                let failed = impl == "swift" ? swiftOpsTimed(s.books, s.rec, 50_000, &h) : cOpsTimed(CImpl(rawValue: impl)!, p, 50_000, &h)
                if failed != 0 { throw BenchError("\(impl): \(failed) operations refused") }
                hist[impl] = h
            }
        }
        guard try s.books.get(s.rec.key).identityHolds else { throw BenchError("identity broken after the run") }
        let timerNs = Latency(timer).p50
        notes.append("p99 and p99.9 time each operation alone with the TSC; that timer adds about \(fmtNs(timerNs)) (its own median) to every sample. Medians come from batches of 200,000 operations timed as a whole (no timer in the loop).")

        let names = [
            "swift": "**ShmBalance** allocate or release (Swift core, one process)",
            "c-safe": "C, robust mutex, **crash-safe** commit (two copies + generation) + activity entry",
            "c-safe-noclock": "↳ breakdown: the crash-safe C peer without the timestamp",
            "c-safe-bare": "↳ breakdown: … and without the activity entry (lock, checks, commit)",
            "c-inplace": "C, robust mutex, **in place** (128-bit slots; not crash-safe)",
            "c-inplace64": "C, robust mutex, in place, 64-bit slots (not crash-safe)",
            "floor": "one atomic add on shared memory (the floor)",
        ]
        let swiftNs = ns["swift"]!
        for impl in impls {
            let m = median(ns[impl]!)
            let ratios = zip(ns[impl]!, swiftNs).map { $0 / $1 }
            let lat = Latency(hist[impl]!)
            rows.append(Row(name: names[impl]!, median: m, p99: lat.p99, p999: lat.p999, throughput: 1e9 / m,
                            instructions: o.instructions[impl] ?? .nan, ratio: median(ratios)))
        }
        let vsSafe = median(zip(swiftNs, ns["c-safe"]!).map { $0 / $1 })
        let vsInplace = median(zip(swiftNs, ns["c-inplace"]!).map { $0 / $1 })
        targets.append(("allocate/release ≤ 1.0× the crash-safe C peer (ShmBalance ÷ peer, median of \(rounds) per-round ratios)",
                        vsSafe <= 1.0, fmtRatio(vsSafe)))
        targets.append(("allocate/release ≤ 1.2× the in-place C peer", vsInplace <= 1.2, fmtRatio(vsInplace)))
        if let ir = o.instructions["swift"] {
            targets.append(("≤ 250 instructions per operation (callgrind, commit and activity entry included)", ir <= 250, "\(ir)"))
        } else {
            targets.append(("≤ 250 instructions per operation", nil, "not measured (run without callgrind)"))
        }
        return median(swiftNs)
    }

    // MARK: - Consistent read of 9 slots

    func readPass() throws {
        let s = try SwiftSubject(path: scratchPath("read"))
        defer { s.close() }
        let cpath = scratchPath("read-c")
        guard let p = cpeer_create(cpath, Int32(benchCount), benchBalance) else { throw BenchError("cpeer_create failed") }
        defer { cpeer_close(p); unlink(cpath) }
        var state = RecordState()
        let cstate = UnsafeMutablePointer<cpeer_state>.allocate(capacity: 1)
        defer { cstate.deallocate() }
        let n = 500_000
        func batch(_ kind: Int) -> Double {
            let t0 = bench_now_ns()
            let sum = kind == 0 ? swiftReads(s.rec, n, into: &state) : kind == 1 ? cReads(p, n, into: cstate) : swiftReadsRelaxed(s.rec, n, into: &state)
            let t1 = bench_now_ns()
            bench_keep([sum])
            return Double(t1 - t0) / Double(n)
        }
        _ = batch(0); _ = batch(1); _ = batch(2)
        // The C ABI's reads (another process: the library holds a Swift runtime of its own), one
        // batch per round between the core's, in the rotating order.
        let cabiWorkloads = o.cabiOps == nil ? [] : ["state", "slot-exact"]
        func cabiBatch(_ w: String) throws -> Double {
            let out = try Child.spawn(["batch", w, "\(n)"], executable: o.cabiOps!).finish()
            guard let ns = Double(out[...].trimmingCharacters()) else { throw BenchError("cabi_ops batch \(w): \(out)") }
            return ns
        }
        var sw: [Double] = [], c: [Double] = [], relaxed: [Double] = []
        var cabi: [String: [Double]] = [:]
        for r in 0..<rounds {
            // Rotating order, so no variant always runs first (or last) in a round.
            let order = ["swift", "c", "relaxed"] + cabiWorkloads
            for k in 0..<order.count {
                switch order[(k + r) % order.count] {
                case "swift": sw.append(batch(0))
                case "c": c.append(batch(1))
                case "relaxed": relaxed.append(batch(2))
                case let w: cabi[w, default: []].append(try cabiBatch(w))
                }
            }
        }
        var hs = newHistogram(), hc = newHistogram()
        for _ in 0..<10 {
            swiftReadsTimed(s.rec, 50_000, &hs, into: &state)
            cReadsTimed(p, 50_000, &hc, into: cstate)
        }
        guard state.strategyCount == benchCount, cstate.pointee.count == UInt32(benchCount) else { throw BenchError("reads returned the wrong record") }
        let ratio = median(zip(sw, c).map { $0 / $1 })
        coreReadMedian = median(sw)
        let ls = Latency(hs), lc = Latency(hc)
        rows.append(Row(name: "**ShmBalance** consistent read of a record, 9 slots (`RecordRef.read`)", median: median(sw), p99: ls.p99, p999: ls.p999,
                        throughput: 1e9 / median(sw), instructions: o.instructions["swift-read"] ?? .nan, ratio: 1))
        rows.append(Row(name: "ShmBalance read with relaxed 8-byte atomic loads instead of the 16-byte copy (`readRelaxed`)", median: median(relaxed),
                        throughput: 1e9 / median(relaxed), instructions: o.instructions["swift-read-relaxed"] ?? .nan,
                        ratio: median(zip(relaxed, sw).map { $0 / $1 })))
        rows.append(Row(name: "C seqlock read of the same 9 × 128-bit slots", median: median(c), p99: lc.p99, p999: lc.p999,
                        throughput: 1e9 / median(c), instructions: o.instructions["c-read"] ?? .nan, ratio: median(zip(c, sw).map { $0 / $1 })))
        targets.append(("consistent read ≤ 1.0× the C seqlock read (ShmBalance ÷ C)", ratio <= 1.0, fmtRatio(ratio)))
        func tails(_ key: String) -> (Double, Double) {
            let parts = (o.external[key] ?? "").split(separator: " ").compactMap { Double($0) }
            return parts.count == 3 ? (parts[1], parts[2]) : (.nan, .nan)
        }
        let note = "`cabi_ops` batches between the rounds above; ratio to the core's read, median of per-round ratios"
        if let st = cabi["state"] {
            let r = median(zip(st, sw).map { $0 / $1 })
            let (p99, p999) = tails("cabi-state")
            rows.append(Row(name: "**ShmBalance C ABI** `shmbal_record_read` (the state, 9 slots, into a fixed-size struct)", median: median(st),
                            p99: p99, p999: p999, throughput: 1e9 / median(st), instructions: o.instructions["cabi-state"] ?? .nan, ratio: r, note: note))
            targets.append(("C ABI: the fixed-struct read ≤ 2× the core's read (`shmbal_record_read` ÷ `RecordRef.read`)", r <= 2, fmtRatio(r)))
            interleavedCABI.insert("cabi-state")
        }
        if let sl = cabi["slot-exact"] {
            let r = median(zip(sl, sw).map { $0 / $1 })
            let (p99, p999) = tails("cabi-slot-exact")
            rows.append(Row(name: "**ShmBalance C ABI** `shmbal_record_balance` (one slot, consistent, exact)", median: median(sl),
                            p99: p99, p999: p999, throughput: 1e9 / median(sl), instructions: o.instructions["cabi-slot-exact"] ?? .nan, ratio: r, note: note))
            targets.append(("C ABI: one slot read ≤ 2× the core's read (`shmbal_record_balance`, exact, ÷ `RecordRef.read`)", r <= 2, fmtRatio(r)))
            interleavedCABI.insert("cabi-slot-exact")
        }
    }

    // MARK: - SQLite and Redis, interleaved with ShmBalance

    func slowPeers() throws {
        let s = try SwiftSubject(path: scratchPath("slow"))
        defer { s.close() }
        let dbPath = scratchPath("peer.sqlite")
        defer { for suffix in ["", "-wal", "-shm"] { unlink(dbPath + suffix) } }
        guard let db = sqlpeer_open(dbPath, Int32(benchCount), benchBalance) else { throw BenchError("SQLite peer failed to open") }
        defer { sqlpeer_close(db) }
        var redis: OpaquePointer? = nil
        if let port = o.redisPort {
            redis = redispeer_open(port, Int32(benchCount), benchBalance)
            if redis == nil { throw BenchError("Redis peer could not connect to 127.0.0.1:\(port)") }
        }
        defer { if let r = redis { redispeer_close(r) } }

        let slowRounds = o.quick ? 10 : 15
        var sw: [Double] = [], sq: [Double] = [], rd: [Double] = []
        var hq = newHistogram(), hr = newHistogram()
        for _ in 0..<slowRounds {
            // Warm up first: after the peers' blocking calls (the CPU idles while Redis answers)
            // the first milliseconds of work run up to ~2× slower here, which is the machine, not
            // either side. Each side gets untimed operations before its timed batch.
            _ = swiftOps(s.books, s.rec, 150_000)
            let t0 = bench_now_ns()
            let failed = swiftOps(s.books, s.rec, 200_000)
            sw.append(Double(bench_now_ns() - t0) / 200_000)
            if failed != 0 { throw BenchError("ShmBalance refused \(failed)") }
            for i in 0..<20 { _ = i & 1 == 0 ? sqlpeer_allocate(db, 2, benchAmount) : sqlpeer_release(db, 2, benchAmount) }
            sq.append(try slowOpsTimed(300, &hq) { i in
                i & 1 == 0 ? sqlpeer_allocate(db, 2, benchAmount) : sqlpeer_release(db, 2, benchAmount)
            })
            if let r = redis {
                for i in 0..<20 { _ = i & 1 == 0 ? redispeer_allocate(r, 2, benchAmount) : redispeer_release(r, 2, benchAmount) }
                rd.append(try slowOpsTimed(300, &hr) { i in
                    i & 1 == 0 ? redispeer_allocate(r, 2, benchAmount) : redispeer_release(r, 2, benchAmount)
                })
            }
        }
        let lq = Latency(hq)
        let sqRatio = median(zip(sq, sw).map { $0 / $1 })
        log("slow peers: ShmBalance ns per round " + sw.map { fmtNs($0) }.joined(separator: " "))
        rows.append(Row(name: "SQLite 3.\(sqliteMinor()), WAL, `synchronous=NORMAL`, file on tmpfs, one transaction per operation",
                        median: median(sq), p99: lq.p99, p999: lq.p999, throughput: 1e9 / median(sq), ratio: sqRatio))
        targets.append(("≥ 300× faster than SQLite (SQLite ÷ ShmBalance)", sqRatio >= 300, fmtRatio(sqRatio)))
        if redis != nil {
            let lr = Latency(hr)
            let rdRatio = median(zip(rd, sw).map { $0 / $1 })
            rows.append(Row(name: "Redis, a Lua script per operation (hiredis, EVALSHA over loopback)", median: median(rd), p99: lr.p99,
                            p999: lr.p999, throughput: 1e9 / median(rd), ratio: rdRatio))
            targets.append(("≥ 2,000× faster than Redis (Redis ÷ ShmBalance)", rdRatio >= 2000, fmtRatio(rdRatio)))
        } else {
            rows.append(Row(name: "Redis, a Lua script per operation", note: "not measured: no --redis-port"))
            targets.append(("≥ 2,000× faster than Redis", nil, "not measured"))
        }
    }

    func sqliteMinor() -> String {
        let v = String(cString: sqlite3_libversion_shim())
        return v.hasPrefix("3.") ? String(v.dropFirst(2)) : v
    }

    // MARK: - The C ABI and Python (measured by other processes the run script starts)

    func externalRows(swiftMedian: Double) {
        func parse(_ key: String) -> Latency? {
            guard let v = o.external[key] else { return nil }
            let parts = v.split(separator: " ").compactMap { Double($0) }
            guard parts.count == 3 else { return nil }
            return Latency(p50: parts[0], p99: parts[1], p999: parts[2], max: .nan, count: 0)
        }
        func number(_ key: String) -> Double? { o.external[key].flatMap { Double($0[...].trimmingCharacters()) } }
        let separate = "its own process: ratio to the one-process ShmBalance median above"
        if let c = parse("cabi") {
            rows.append(Row(name: "**ShmBalance C ABI** (`libshmbalance.so.1`, record handle, double amount), one call", median: c.p50,
                            p99: c.p99, p999: c.p999, throughput: 1e9 / c.p50, instructions: o.instructions["cabi"] ?? .nan,
                            ratio: c.p50 / swiftMedian, note: separate))
            if let r = parse("cabi-state"), !interleavedCABI.contains("cabi-state") {
                let ratio = r.p50 / coreReadMedian
                rows.append(Row(name: "**ShmBalance C ABI** `shmbal_record_read` (the state, 9 slots, into a fixed-size struct)",
                                median: r.p50, p99: r.p99, p999: r.p999, throughput: 1e9 / r.p50, instructions: o.instructions["cabi-state"] ?? .nan,
                                ratio: ratio, note: "its own process: ratio to the core's consistent read above"))
                targets.append(("C ABI: the fixed-struct read ≤ 2× the core's read (`shmbal_record_read` ÷ `RecordRef.read`, same run)",
                                ratio.isNaN ? nil : ratio <= 2, ratio.isNaN ? "the core's read not measured" : fmtRatio(ratio)))
            }
            if let r = parse("cabi-slot-exact"), !interleavedCABI.contains("cabi-slot-exact") {
                let ratio = r.p50 / coreReadMedian
                rows.append(Row(name: "**ShmBalance C ABI** `shmbal_record_balance` (one slot, consistent, exact)",
                                median: r.p50, p99: r.p99, p999: r.p999, throughput: 1e9 / r.p50, instructions: o.instructions["cabi-slot-exact"] ?? .nan,
                                ratio: ratio, note: "its own process: ratio to the core's consistent read above"))
                targets.append(("C ABI: one slot read ≤ 2× the core's read (`shmbal_record_balance`, exact, ÷ `RecordRef.read`)",
                                ratio.isNaN ? nil : ratio <= 2, ratio.isNaN ? "the core's read not measured" : fmtRatio(ratio)))
            }
            if let r = parse("cabi-slot") {
                rows.append(Row(name: "**ShmBalance C ABI** `shmbal_record_balance` (one slot, consistent, as a double: what Python's `get_balance` calls)",
                                median: r.p50, p99: r.p99, p999: r.p999, throughput: 1e9 / r.p50, instructions: o.instructions["cabi-slot"] ?? .nan,
                                ratio: r.p50 / coreReadMedian, note: "its own process: ratio to the core's consistent read above"))
            }
            if let r = parse("cabi-read") {
                rows.append(Row(name: "**ShmBalance C ABI** `shmbal_record_get` (the whole record, consistent: state, names, change times, as doubles and exact)",
                                median: r.p50, p99: r.p99, p999: r.p999, throughput: 1e9 / r.p50, instructions: o.instructions["cabi-read"] ?? .nan,
                                note: "its own process"))
            }
        } else {
            rows.append(Row(name: "ShmBalance C ABI, one call", note: o.external["cabi"] ?? "not measured"))
        }
        let mp = parse("multiprocessing"), mpRead = parse("multiprocessing-read")
        let path = o.external["package-path"] ?? "?"
        let inProcess = "the Python process of the `multiprocessing` peer, rounds interleaved; ratio to the one-process ShmBalance median above"
        if let pkg = parse("package") {
            let via = path == "extension" ? "C extension" : "ctypes (no extension installed)"
            rows.append(Row(name: "**ShmBalance Python package**, one call (`allocate` or `release`), \(via)", median: pkg.p50, p99: pkg.p99,
                            p999: pkg.p999, throughput: 1e9 / pkg.p50, ratio: pkg.p50 / swiftMedian, note: inProcess))
            if let r = parse("package-read") {
                rows.append(Row(name: "**ShmBalance Python package** `get_balance` of one slot (consistent, a float), \(via)", median: r.p50,
                                p99: r.p99, p999: r.p999, throughput: 1e9 / r.p50, note: "the same Python process"))
            }
            if let c = parse("package-ctypes") {
                rows.append(Row(name: "ShmBalance Python package, one call, through ctypes (the fallback without the extension)", median: c.p50,
                                p99: c.p99, p999: c.p999, throughput: 1e9 / c.p50, ratio: c.p50 / swiftMedian,
                                note: "the same Python process; \(number("python-ratio-ctypes-ops").map(fmtRatio) ?? "?") the extension's time"))
            }
            if let c = parse("package-ctypes-read") {
                rows.append(Row(name: "ShmBalance Python package `get_balance`, through ctypes", median: c.p50, p99: c.p99, p999: c.p999,
                                throughput: 1e9 / c.p50,
                                note: "the same Python process; \(number("python-ratio-ctypes-read").map(fmtRatio) ?? "?") the extension's time"))
            }
            targets.append(("Python: allocate/release ≤ 150 ns median (\(via))", pkg.p50 <= 150, fmtNs(pkg.p50)))
            if let r = parse("package-read") {
                targets.append(("Python: `get_balance` ≤ 150 ns median (\(via))", r.p50 <= 150, fmtNs(r.p50)))
            }
            if let ratio = number("python-ratio-ops") {
                targets.append(("Python: allocate/release ≥ 2× faster than the `multiprocessing` peer (peer ÷ package, median of per-round ratios)",
                                ratio >= 2, fmtRatio(ratio)))
            }
            if let ratio = number("python-ratio-read") {
                targets.append(("Python: `get_balance` ≥ 2× faster than the peer's locked read (peer ÷ package)", ratio >= 2, fmtRatio(ratio)))
            }
            targets.append(("Python (issue 6): one call ≤ 2 µs median (the package as installed: \(via))", pkg.p50 <= 2000, fmtNs(pkg.p50)))
        } else {
            let why = o.external["package"] ?? "not measured"
            rows.append(Row(name: "ShmBalance Python package, one call", note: why))
            targets.append(("Python: allocate/release ≤ 150 ns median", nil, why))
        }
        if let mp {
            rows.append(Row(name: "Python `multiprocessing.shared_memory` + `multiprocessing.Lock` (not crash-safe)", median: mp.p50,
                            p99: mp.p99, p999: mp.p999, throughput: 1e9 / mp.p50, ratio: mp.p50 / swiftMedian,
                            note: "a killed holder blocks everyone; " + separate))
        } else {
            rows.append(Row(name: "Python `multiprocessing` peer", note: o.external["multiprocessing"] ?? "not measured"))
        }
        if let mpRead {
            rows.append(Row(name: "Python `multiprocessing` peer: one slot read under its Lock (consistent), a float", median: mpRead.p50,
                            p99: mpRead.p99, p999: mpRead.p999, throughput: 1e9 / mpRead.p50, note: "the same Python process"))
        }
    }

    // MARK: - Two processes on one record

    func contention() throws {
        let duration: Int64 = o.quick ? 1_000_000_000 : 2_000_000_000
        let contentionRounds = 3
        var results: [String: [(minShare: Double, worstP999: Double, worstP99: Double, p50: Double, total: Double)]] = [:]
        for round in 0..<contentionRounds {
            for impl in round % 2 == 0 ? ["swift", "c-safe"] : ["c-safe", "swift"] {
                let path = scratchPath("contend-\(impl)")
                var subject: SwiftSubject? = nil
                var peer: OpaquePointer? = nil
                if impl == "swift" { subject = try SwiftSubject(path: path) } else {
                    peer = cpeer_create(path, Int32(benchCount), benchBalance)
                    if peer == nil { throw BenchError("cpeer_create failed") }
                }
                defer {
                    subject?.close()
                    if let p = peer { cpeer_close(p); unlink(path) }
                }
                let start = bench_now_ns() + 300_000_000
                let children = try [2, 3].map { index in
                    try Child.spawn(["child-contend", impl, path, "\(index)", "\(start)", "\(duration)", "\(nsPerTick)"])
                }
                let lat = try children.map { c -> (Latency, Int) in
                    let text = try c.finish()
                    guard let l = Latency(line: text), let f = text.split(separator: "=").last.flatMap({ Int($0.trimmingCharacters()) }) else {
                        throw BenchError("child said: \(text)")
                    }
                    return (l, f)
                }
                if lat.contains(where: { $0.1 != 0 }) { throw BenchError("\(impl): operations refused under contention") }
                if let s = subject, try !s.books.get(s.rec.key).identityHolds { throw BenchError("identity broken after contention") }
                let total = Double(lat[0].0.count + lat[1].0.count)
                results[impl, default: []].append((
                    minShare: Double(min(lat[0].0.count, lat[1].0.count)) / total,
                    worstP999: max(lat[0].0.p999, lat[1].0.p999),
                    worstP99: max(lat[0].0.p99, lat[1].0.p99),
                    p50: max(lat[0].0.p50, lat[1].0.p50),
                    total: total / (Double(duration) / 1e9)))
                log("contention \(impl) round \(round): shares \(lat[0].0.count) / \(lat[1].0.count), p99.9 \(lat[0].0.p999) / \(lat[1].0.p999) ns")
            }
        }
        func summary(_ impl: String) -> (Double, Double, Double, Double, Double) {
            let r = results[impl]!
            return (median(r.map(\.minShare)), median(r.map(\.worstP999)), median(r.map(\.worstP99)), median(r.map(\.p50)), median(r.map(\.total)))
        }
        let (share, p999, p99, p50, total) = summary("swift")
        let (cShare, cP999, cP99, cP50, cTotal) = summary("c-safe")
        let secs = Double(duration) / 1e9
        rows.append(Row(name: "**ShmBalance**, two processes on one record, flat out for \(Int(secs)) s", median: p50, p99: p99, p999: p999, throughput: total,
                        ratio: 1, note: "smaller share \(percent(share)); lock wait included"))
        rows.append(Row(name: "C crash-safe peer, two processes (glibc robust mutex: sleeps at once)", median: cP50, p99: cP99, p999: cP999,
                        throughput: cTotal, ratio: cP999 / p999, note: "smaller share \(percent(cShare)); ratio of p99.9"))
        let worst = results["swift"]!
        targets.append(("two processes: each gets ≥ 40% of the operations (smaller share, median of \(contentionRounds) rounds; worst \(percent(worst.map(\.minShare).min()!)))",
                        share >= 0.4, percent(share)))
        targets.append(("two processes: p99.9 < 10 µs, lock wait included (worse process, median of \(contentionRounds) rounds; worst \(fmtNs(worst.map(\.worstP999).max()!)))",
                        p999 < 10_000, fmtNs(p999)))
    }

    func percent(_ x: Double) -> String { "\(Int((x * 1000).rounded()) / 10).\(Int((x * 1000).rounded()) % 10)%" }

    // MARK: - A writer beside readers

    func readers() throws {
        let s = try SwiftSubject(path: scratchPath("readers"))
        defer { s.close() }
        let window: Int64 = o.quick ? 200_000_000 : 300_000_000
        func paired(_ child: Child, counter: SharedCounter?) throws -> (ratios: [Double], withNs: [Double], readsPerSecond: [Double]) {
            let p = try pairedWindows(s.books, s.rec, rounds: rounds, window: window, beside: [child], counter: counter)
            return (p.ratios, p.withNs, zip(p.counted, p.seconds).map { $0 / $1 })
        }
        // The dashboard's reads at 10 Hz: the whole record with names, and the new activity entries.
        let dash = try Child.spawn(["child-dash", s.path, "10"])
        var deadline = bench_now_ns() + 5_000_000_000
        usleep(300_000)
        let d = try paired(dash, counter: nil)
        try dash.terminateExpectingSignal()
        let dRatio = median(d.ratios)
        log("10 Hz reader: per-round ratios " + d.ratios.map { fmtRatio($0) }.joined(separator: " "))
        rows.append(Row(name: "**ShmBalance** writer beside a 10 Hz dashboard reader (`get` + new activity)", median: median(d.withNs),
                        throughput: 1e9 / median(d.withNs), ratio: dRatio, note: "ratio: with ÷ without the reader, paired rounds"))
        targets.append(("a 10 Hz reader beside the writer: with ÷ without ≤ 1.05 (median of \(rounds) paired rounds)", dRatio <= 1.05, fmtRatio(dRatio)))

        // A reader reading flat out on the other core.
        let counterPath = scratchPath("spin-counter")
        let counter = try SharedCounter(path: counterPath, create: true)
        defer { unlink(counterPath) }
        let spin = try Child.spawn(["child-spin", s.path, counterPath])
        deadline = bench_now_ns() + 5_000_000_000
        while counter.value == 0 {
            if bench_now_ns() > deadline { throw BenchError("the flat-out reader did not start") }
            usleep(1000)
        }
        let f = try paired(spin, counter: counter)
        try spin.terminateExpectingSignal()
        rows.append(Row(name: "**ShmBalance** writer beside a flat-out reader (`RecordRef.read`, other process)", median: median(f.withNs),
                        throughput: 1e9 / median(f.withNs), ratio: median(f.ratios),
                        note: "ratio: with ÷ without; the reader got \(fmtRate(median(f.readsPerSecond))) consistent reads"))
    }

    // MARK: - The report

    func report() -> String {
        var t = "| Benchmark (one operation) | Median | p99 | p99.9 | Throughput | Instructions/op | Ratio | Note |\n"
        t += "|---|---:|---:|---:|---:|---:|---:|---|\n"
        for r in rows {
            let ir = r.instructions.isNaN ? "–" : (r.instructions == r.instructions.rounded() ? "\(Int(r.instructions))" : "\(r.instructions)")
            t += "| \(r.name) | \(fmtNs(r.median)) | \(fmtNs(r.p99)) | \(fmtNs(r.p999)) | \(r.throughput.isNaN ? "–" : fmtRate(r.throughput)) | \(ir) | \(fmtRatio(r.ratio)) | \(r.note) |\n"
        }
        t += "\nRatio: the row's time per operation ÷ ShmBalance's (median of per-round ratios, rounds interleaved); "
        t += "for the writer-beside-reader rows, the writer's time with ÷ without the reader; for the two-process C row, its p99.9 ÷ ShmBalance's. "
        t += "Two-process rows: Median and p99/p99.9 are per-operation latencies with the lock wait, Throughput is both processes together.\n"
        t += "\n**Targets** (issue 6):\n\n"
        for (what, ok, figure) in targets {
            let mark = ok == nil ? "–" : (ok! ? "✓" : "✗ missed")
            t += "- \(mark) \(what): **\(figure)**\n"
        }
        t += "\n"
        for n in notes { t += "- \(n)\n" }
        return t
    }
}

func loadAverage() -> String {
    guard let text = readFile("/proc/loadavg") else { return "?" }
    return text.split(separator: " ").prefix(3).joined(separator: ", ")
}

extension Substring {
    func trimmingCharacters() -> Substring {
        var s = self
        while let c = s.last, c == "\n" || c == " " { s = s.dropLast() }
        return s
    }
}

extension Child {
    /// Ends a reader that loops until killed; throws if it had already exited on its own (an error).
    func terminateExpectingSignal() throws {
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid, status & 0x7f == 0 {
            throw BenchError("reader exited early: \(readFile(outputPath) ?? "")")
        }
        _ = terminate()
    }
}
