import CPeers
import Glibc
import Histogram
import ShmBalance

// shmbal-bench: the benchmark harness. `Benchmarks/run` drives it; the subcommands are
//   ops IMPL N            N operations of one workload, nothing else (for callgrind: Ir(2N) − Ir(N))
//   suite [options]       every timed row, interleaved rounds, results as Markdown
//   child-…               the processes the suite spawns (contending writers, readers)

let usage = """
    usage: shmbal-bench ops (swift|swift-opid|swift-holdvoid|swift-holdfill|c-safe|c-safe-noclock|c-safe-bare|c-inplace|c-inplace64|floor|swift-read|swift-read-relaxed|c-read) N
           shmbal-bench suite [--redis-port P] [--instructions FILE] [--external FILE] [--cabi-ops PATH] [--shmbal PATH] [--shmbal-ledger PATH --db URL] [--ledger FILE] [--now-batch PATH --before-batch PATH --before-rev REV] [--out FILE] [--quick] [--only one,read,before,holds,slow,external,contend,readers,render,scrape,ledger]
    """

func fail(_ message: String) -> Never {
    printError("shmbal-bench: \(message)")
    exit(2)
}

func scratchPath(_ what: String) -> String { "/dev/shm/shmbal-bench-\(getpid())-\(what)" }

/// `ops`: the callgrind workload. Set-up is identical for N and 2N, so it cancels out.
func runOps(_ impl: String, _ n: Int) throws {
    switch impl {
    case "swift-opid", "swift-holdvoid", "swift-holdfill":
        try runHoldOps(impl, n)
    case "swift", "swift-read", "swift-read-relaxed":
        let s = try SwiftSubject(path: scratchPath("ops"))
        defer { s.close() }
        if impl == "swift" {
            let failed = swiftOps(s.books, s.rec, n)
            if failed != 0 { throw BenchError("\(failed) operations were refused") }
        } else if impl == "swift-read" {
            var state = RecordState()
            _ = swiftReads(s.rec, n, into: &state)
        } else {
            var state = RecordState()
            _ = swiftReadsRelaxed(s.rec, n, into: &state)
        }
    default:
        let path = scratchPath("ops-c")
        guard let p = cpeer_create(path, Int32(benchCount), benchBalance) else { throw BenchError("cpeer_create failed") }
        defer { cpeer_close(p); unlink(path) }
        if impl == "c-read" {
            let state = UnsafeMutablePointer<cpeer_state>.allocate(capacity: 1)
            _ = cReads(p, n, into: state)
        } else {
            guard let c = CImpl(rawValue: impl) else { fail(usage) }
            let failed = cOps(c, p, n)
            if failed != 0 { throw BenchError("\(failed) operations were refused") }
        }
    }
}

/// `child-contend IMPL PATH INDEX START_NS DURATION_NS NS_PER_TICK`: from START, operations on
/// slot INDEX for DURATION, each timed (lock wait included); prints its latency line.
func childContend(_ a: [String]) throws {
    guard a.count == 6, let index = Int(a[2]), let start = Int64(a[3]), let duration = Int64(a[4]),
          let nsPerTick = Double(a[5]) else { fail("bad child-contend arguments") }
    var h = newHistogram()
    // BENCH_PIN=1: one process per core. Off by default: on a loaded machine a pinned process
    // gets only what its core has left, which shows the scheduler, not the lock.
    if let pin = getenv("BENCH_PIN"), pin.pointee == UInt8(ascii: "1") {
        _ = bench_pin_cpu(Int32(index % max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))))
    }
    let failed: Int
    if a[0] == "swift" {
        let books = try Books.open(a[1], .readWrite)
        guard let rec = books.record(try BookKey("KRAKEN", "USDC")) else { throw BenchError("no record") }
        while bench_now_ns() < start {}
        failed = contendSwift(books, rec, index: index, duration: duration, nsPerTick: nsPerTick, &h)
    } else {
        guard let peer = cpeer_attach(a[1]) else { throw BenchError("cannot attach to \(a[1])") }
        while bench_now_ns() < start {}
        failed = contendC(peer, index: Int32(index), duration: duration, nsPerTick: nsPerTick, &h)
    }
    print(Latency(h).line + " failed=\(failed)")
}

@inline(never)
func contendSwift(_ books: Books, _ rec: RecordRef, index: Int, duration: Int64, nsPerTick: Double, _ h: inout Histogram<UInt64>) -> Int {
    let amount = Amount(raw: Int128(bench_opaque(benchAmount)))
    let end = bench_ticks() &+ UInt64(Double(duration) / nsPerTick)
    var failed = 0, i = 0
    var t0 = bench_ticks()
    while t0 < end {
        do {
            if i & 1 == 0 { try books.allocate(rec, index: index, amount) } else { try books.release(rec, index: index, amount) }
        } catch { failed += 1 }
        let t1 = bench_ticks()
        h.record(UInt64(Double(t1 &- t0) * nsPerTick))
        t0 = t1
        i &+= 1
    }
    return failed
}

@inline(never)
func contendC(_ peer: OpaquePointer, index: Int32, duration: Int64, nsPerTick: Double, _ h: inout Histogram<UInt64>) -> Int {
    let end = bench_ticks() &+ UInt64(Double(duration) / nsPerTick)
    var failed = 0, i = 0
    var t0 = bench_ticks()
    while t0 < end {
        let rc = i & 1 == 0 ? cpeer_safe_allocate(peer, index, benchAmount) : cpeer_safe_release(peer, index, benchAmount)
        if rc != 0 { failed += 1 }
        let t1 = bench_ticks()
        h.record(UInt64(Double(t1 &- t0) * nsPerTick))
        t0 = t1
        i &+= 1
    }
    return failed
}

/// `child-dash PATH HZ`: what the dashboard reads, HZ times a second, until SIGTERM.
func childDash(_ a: [String]) throws {
    guard a.count == 2, let hz = Int(a[1]) else { fail("bad child-dash arguments") }
    let books = try Books.open(a[0], .readOnly)
    guard let rec = books.record(try BookKey("KRAKEN", "USDC")) else { throw BenchError("no record") }
    var last: UInt64 = 0
    var reads = 0
    let period = 1_000_000_000 / Int64(hz)
    var next = bench_now_ns()
    while true {
        let r = try books.get(rec)
        let entries = books.activity(after: last, limit: 100)
        last = entries.last?.sequence ?? last
        if !r.identityHolds { throw BenchError("identity broken in a reader's copy") }
        reads += 1
        next += period
        // A dashboard does not catch up on frames it missed (while stopped between rounds).
        if next < bench_now_ns() { next = bench_now_ns() + period }
        let wait = next - bench_now_ns()
        if wait > 0 {
            var req = timespec(tv_sec: Int(wait / 1_000_000_000), tv_nsec: Int(wait % 1_000_000_000))
            nanosleep(&req, nil)
        }
    }
}

/// `child-spin PATH COUNTER_FILE`: consistent reads flat out; every 1024 reads the count goes to
/// the counter file (checked: the identity holds in every copy).
func childSpin(_ a: [String]) throws {
    guard a.count == 2 else { fail("bad child-spin arguments") }
    let books = try Books.open(a[0], .readOnly)
    guard let rec = books.record(try BookKey("KRAKEN", "USDC")) else { throw BenchError("no record") }
    let counter = try SharedCounter(path: a[1], create: false)
    var state = RecordState()
    var n: UInt64 = 0
    while true {
        for _ in 0..<1024 {
            try rec.read(into: &state)
            if !state.identityHolds { throw BenchError("identity broken in a reader's copy") }
        }
        n &+= 1024
        counter.store(n)
    }
}

let args = Array(CommandLine.arguments.dropFirst())
do {
    switch args.first {
    case "ops":
        guard args.count == 3, let n = Int(args[2]) else { fail(usage) }
        try runOps(args[1], n)
    case "suite":
        try Suite(options: SuiteOptions(Array(args.dropFirst()))).run()
    case "child-contend": try childContend(Array(args.dropFirst()))
    case "child-dash": try childDash(Array(args.dropFirst()))
    case "child-spin": try childSpin(Array(args.dropFirst()))
    case "child-scrape": try childScrape(Array(args.dropFirst()))
    default: fail(usage)
    }
} catch {
    fail("\(error)")
}
