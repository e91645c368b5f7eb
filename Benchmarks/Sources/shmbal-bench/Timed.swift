import CPeers
import Histogram
import ShmBalance

// The same loops as Workloads.swift with every operation timed on its own (TSC before and after,
// `lfence`-ordered), for the latency percentiles. The timer adds its own cost, measured by
// `timerOverhead` and printed beside the figures.

@inline(never)
func timerOverhead(_ n: Int, _ h: inout Histogram<UInt64>) {
    var t0 = bench_ticks()
    for _ in 0..<n {
        let t1 = bench_ticks()
        h.record(UInt64(Double(t1 &- t0) * nsPerTick))
        t0 = bench_ticks()
    }
}

@inline(never)
func swiftOpsTimed(_ books: Books, _ rec: RecordRef, _ n: Int, _ h: inout Histogram<UInt64>) -> Int {
    let amount = Amount(raw: Int128(bench_opaque(benchAmount)))
    let index = Int(bench_opaque(2))
    let scale = nsPerTick
    var failed = 0
    for i in 0..<n {
        let t0 = bench_ticks()
        do {
            if i & 1 == 0 { try books.allocate(rec, index: index, amount) } else { try books.release(rec, index: index, amount) }
        } catch { failed &+= 1 }
        let t1 = bench_ticks()
        h.record(UInt64(Double(t1 &- t0) * scale))
    }
    return failed
}

@inline(never)
func cOpsTimed(_ impl: CImpl, _ p: OpaquePointer, _ n: Int, _ h: inout Histogram<UInt64>) -> Int {
    let scale = nsPerTick
    var failed = 0
    for i in 0..<n {
        let t0 = bench_ticks()
        let rc: Int32
        switch impl {
        case .safe: rc = i & 1 == 0 ? cpeer_safe_allocate(p, 2, benchAmount) : cpeer_safe_release(p, 2, benchAmount)
        case .noclock: rc = i & 1 == 0 ? cpeer_safe_noclock_allocate(p, 2, benchAmount) : cpeer_safe_noclock_release(p, 2, benchAmount)
        case .bare: rc = i & 1 == 0 ? cpeer_safe_bare_allocate(p, 2, benchAmount) : cpeer_safe_bare_release(p, 2, benchAmount)
        case .inplace: rc = i & 1 == 0 ? cpeer_inplace_allocate(p, 2, benchAmount) : cpeer_inplace_release(p, 2, benchAmount)
        case .inplace64: rc = i & 1 == 0 ? cpeer_inplace64_allocate(p, 2, benchAmount) : cpeer_inplace64_release(p, 2, benchAmount)
        case .floor: rc = cpeer_atomic_add(p) == UInt64.max ? 1 : 0
        }
        let t1 = bench_ticks()
        if rc != 0 { failed &+= 1 }
        h.record(UInt64(Double(t1 &- t0) * scale))
    }
    return failed
}

@inline(never)
func swiftReadsTimed(_ rec: RecordRef, _ n: Int, _ h: inout Histogram<UInt64>, into state: inout RecordState) {
    let scale = nsPerTick
    for _ in 0..<n {
        let t0 = bench_ticks()
        try? rec.read(into: &state)
        let t1 = bench_ticks()
        h.record(UInt64(Double(t1 &- t0) * scale))
    }
}

@inline(never)
func cReadsTimed(_ p: OpaquePointer, _ n: Int, _ h: inout Histogram<UInt64>, into state: UnsafeMutablePointer<cpeer_state>) {
    let scale = nsPerTick
    for _ in 0..<n {
        let t0 = bench_ticks()
        _ = cpeer_safe_read(p, state)
        let t1 = bench_ticks()
        h.record(UInt64(Double(t1 &- t0) * scale))
    }
}

/// A slow peer (SQLite, Redis): `n` operations, each timed; returns the mean ns per operation.
@inline(never)
func slowOpsTimed(_ n: Int, _ h: inout Histogram<UInt64>, _ op: (Int) -> Int32) throws -> Double {
    let start = bench_now_ns()
    for i in 0..<n {
        let t0 = bench_ticks()
        let rc = op(i)
        let t1 = bench_ticks()
        if rc != 0 { throw BenchError("peer operation failed or was refused (\(rc))") }
        h.record(UInt64(Double(t1 &- t0) * nsPerTick))
    }
    return Double(bench_now_ns() - start) / Double(n)
}
