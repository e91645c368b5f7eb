import CPeers
import Glibc
import ShmBalance

// A writer beside other processes (the dashboard's reader, a flat-out reader, the scraped
// exporter, the host's agent): its allocate/release in windows with those processes running and
// with them stopped (SIGSTOP), paired in each round, the order alternating so a load change hits
// both sides of a ratio alike.

/// What `Suite.pairedWindows` measured, one element per round.
struct PairedWindows {
    /// The writer's time with ÷ without the processes beside it.
    var ratios: [Double] = []
    /// The writer's ns per operation with them running.
    var withNs: [Double] = []
    /// How far the counter moved during each "with" window, and how long that window was (s).
    var counted: [Double] = []
    var seconds: [Double] = []
}

extension Suite {
    /// The writer's ns per allocate/release over `window` ns (batches of 20,000).
    func writerWindow(_ books: Books, _ rec: RecordRef, _ window: Int64) throws -> Double {
        let t0 = bench_now_ns()
        var ops = 0
        while bench_now_ns() - t0 < window {
            if swiftOps(books, rec, 20_000) != 0 { throw BenchError("refused") }
            ops += 20_000
        }
        return Double(bench_now_ns() - t0) / Double(ops)
    }

    /// `rounds` pairs of writer windows, `beside` resumed (in order) for one of each pair and
    /// stopped (in reverse) again after it; they are stopped when this returns.
    func pairedWindows(_ books: Books, _ rec: RecordRef, rounds: Int, window: Int64, beside: [Child],
                       counter: SharedCounter? = nil) throws -> PairedWindows {
        for c in beside.reversed() { c.stop() }
        var out = PairedWindows()
        for r in 0..<rounds {
            var off = 0.0, on = 0.0
            for running in r % 2 == 0 ? [false, true] : [true, false] {
                guard running else {
                    off = try writerWindow(books, rec, window)
                    continue
                }
                for c in beside { c.resume() }
                let c0 = counter?.value ?? 0, t0 = bench_now_ns()
                on = try writerWindow(books, rec, window)
                let c1 = counter?.value ?? 0, t1 = bench_now_ns()
                for c in beside.reversed() { c.stop() }
                out.counted.append(Double(c1 - c0))
                out.seconds.append(Double(t1 - t0) / 1e9)
            }
            out.ratios.append(on / off)
            out.withNs.append(on)
        }
        return out
    }
}
