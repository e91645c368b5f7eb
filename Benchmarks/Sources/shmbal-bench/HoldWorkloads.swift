import CPeers
import Glibc
import Histogram
@_spi(Benchmarks) import ShmBalance

// Holds and operation ids (issue 12), measured beside allocate/release: the same record, slot 2,
// the same amount. Ids come from a pool made before the loop (the same for N and 2N, so callgrind's
// difference cancels it), larger than the op-id window so a reused id has been forgotten.

let idPoolSize = 8192

func idPool(_ prefix: String) -> [HoldId] { (0..<idPoolSize).map { try! HoldId("\(prefix)\($0)") } }

/// A subject whose slot 2 has a budget to hold from.
func holdSubject(_ what: String, budget units: Int = 4) throws -> (SwiftSubject, BookKey) {
    let s = try SwiftSubject(path: scratchPath(what))
    let key = try BookKey("KRAKEN", "USDC")
    try s.books.allocate(key, index: 2, Amount(raw: Int128(benchAmount) * Int128(units)))
    return (s, key)
}

/// The operation kinds the holds section times, each in batches of its own.
enum HoldKind: String, CaseIterable {
    case allocate, release, hold, void, fill, allocateOpId = "allocate with an op id", releaseOpId = "release with an op id"
}

/// One batch of `ids.count` operations of one kind on slot 2 (ids: the holds, or the op ids);
/// returns the refusals (0 when correct).
@inline(never)
func holdBatch(_ kind: HoldKind, _ books: Books, _ rec: RecordRef, _ ids: ArraySlice<HoldId>) -> Int {
    let amount = Amount(raw: Int128(bench_opaque(benchAmount)))
    let index = Int(bench_opaque(2))
    var failed = 0
    for id in ids {
        do {
            switch kind {
            case .allocate: try books.allocate(rec, index: index, amount)
            case .release: try books.release(rec, index: index, amount)
            case .hold: try books.hold(rec, index: index, amount, id: id)
            case .void: try books.void(rec, id: id)
            case .fill: _ = try books.fill(rec, id: id, amount, final: true)
            case .allocateOpId: try books.allocate(rec, index: index, amount, opId: id)
            case .releaseOpId: try books.release(rec, index: index, amount, opId: id)
            }
        } catch { failed &+= 1 }
    }
    return failed
}

/// What undoes a fill batch: the proceeds back (not timed).
func receiveBatch(_ books: Books, _ rec: RecordRef, _ n: Int) throws {
    for _ in 0..<n { try books.receive(rec, index: 2, Amount(raw: Int128(benchAmount))) }
}

/// `ops` workloads for callgrind, one operation kind each (per operation: Ir(2N) − Ir(N) over N
/// ops). Each is a loop of its own, as tight as `swiftOps`.
func runHoldOps(_ impl: String, _ n: Int) throws {
    let (s, _) = try holdSubject("ops-holds")
    defer { s.close() }
    let ids = idPool("h"), ops = idPool("o")
    let failed: Int
    switch impl {
    case "swift-opid": failed = opIdOps(s.books, s.rec, n, ops)
    case "swift-holdvoid": failed = holdVoidOps(s.books, s.rec, n, ids)
    case "swift-holdfill": failed = holdFillOps(s.books, s.rec, n, ids)
    default: fail(usage)
    }
    if failed != 0 { throw BenchError("\(impl): \(failed) operations were refused") }
}

/// allocate, release, …, each with an op id of its own.
@inline(never)
func opIdOps(_ books: Books, _ rec: RecordRef, _ n: Int, _ ids: [HoldId]) -> Int {
    let amount = Amount(raw: Int128(bench_opaque(benchAmount)))
    var failed = 0
    var i = 0
    while i < n {
        let id = ids[i & (idPoolSize - 1)]
        do {
            if i & 1 == 0 { try books.allocate(rec, index: 2, amount, opId: id) } else { try books.release(rec, index: 2, amount, opId: id) }
        } catch { failed &+= 1 }
        i &+= 1
    }
    return failed
}

/// hold, void, hold, void, …
@inline(never)
func holdVoidOps(_ books: Books, _ rec: RecordRef, _ n: Int, _ ids: [HoldId]) -> Int {
    let amount = Amount(raw: Int128(bench_opaque(benchAmount)))
    var failed = 0
    var i = 0
    while i < n {
        let id = ids[(i >> 1) & (idPoolSize - 1)]
        do {
            if i & 1 == 0 { try books.hold(rec, index: 2, amount, id: id) } else { try books.void(rec, id: id) }
        } catch { failed &+= 1 }
        i &+= 1
    }
    return failed
}

/// hold, fill (final), receive, …: three operations a cycle.
@inline(never)
func holdFillOps(_ books: Books, _ rec: RecordRef, _ n: Int, _ ids: [HoldId]) -> Int {
    let amount = Amount(raw: Int128(bench_opaque(benchAmount)))
    var failed = 0
    var i = 0, k = 0, step = 0
    while i < n {
        do {
            switch step {
            case 0: try books.hold(rec, index: 2, amount, id: ids[k])
            case 1: _ = try books.fill(rec, id: ids[k], amount, final: true)
            default: try books.receive(rec, index: 2, amount)
            }
        } catch { failed &+= 1 }
        step &+= 1
        if step == 3 {
            step = 0
            k = (k &+ 1) & (idPoolSize - 1)
        }
        i &+= 1
    }
    return failed
}

extension Suite {
    /// Holds and op ids beside allocate/release: each kind in batches of 1,000 operations timed as a
    /// whole, the kinds interleaved in every round, on one record with up to 1,000 open holds.
    func holdsPass() throws {
        let batch = 1000
        let (s, _) = try holdSubject("holds", budget: batch + 4)
        defer { s.close() }
        let ids = idPool("h"), ops = idPool("o")
        var ns: [HoldKind: [Double]] = [:]
        func timed(_ kind: HoldKind, _ slice: ArraySlice<HoldId>) throws {
            let t0 = bench_now_ns()
            let failed = holdBatch(kind, s.books, s.rec, slice)
            let t1 = bench_now_ns()
            if failed != 0 { throw BenchError("\(kind.rawValue): \(failed) operations refused") }
            ns[kind, default: []].append(Double(t1 - t0) / Double(slice.count))
        }
        // Each round takes 1,000 hold ids and 2,000 op ids from pools of 8,192: an id comes back
        // only after ≥ 4 rounds, long after the record's window of 4,096 op ids forgot it.
        var h = 0, q = 0
        for r in 0..<(rounds + 2) {
            let holds = ids[h..<(h + batch)], fills = ids[(h + batch)..<(h + 2 * batch)]
            h = (h + 2 * batch) % (idPoolSize - 2 * batch)
            let opA = ops[q..<(q + batch)], opR = ops[(q + batch)..<(q + 2 * batch)]
            q = (q + 2 * batch) % (idPoolSize - 2 * batch)
            try timed(.allocate, holds)
            try timed(.release, holds)
            try timed(.hold, holds)
            try timed(.void, holds)
            guard holdBatch(.hold, s.books, s.rec, fills) == 0 else { throw BenchError("hold before fill refused") }
            try timed(.fill, fills)
            try receiveBatch(s.books, s.rec, batch)
            try timed(.allocateOpId, opA)
            try timed(.releaseOpId, opR)
            if r < 2 { ns = [:] }  // two rounds of warm-up
        }
        let r = try s.books.get(s.rec)
        guard r.identityHolds, r.held.allSatisfy({ $0 == .zero }), r.slots[2] == Amount(raw: Int128(benchAmount) * Int128(batch + 4)) else {
            throw BenchError("holds: the books did not come back to where they started")
        }
        func ratio(_ k: HoldKind, _ base: HoldKind) -> Double { median(zip(ns[k]!, ns[base]!).map { $0 / $1 }) }
        let irs: [HoldKind: String] = [.allocate: "swift", .allocateOpId: "swift-opid"]
        for k in HoldKind.allCases {
            let base: HoldKind = k == .releaseOpId || k == .release ? .release : .allocate
            let m = median(ns[k]!)
            rows.append(Row(name: "**ShmBalance** \(k.rawValue) (batches of \(batch), one record)", median: m, throughput: 1e9 / m,
                            instructions: irs[k].flatMap { o.instructions[$0] } ?? .nan, ratio: ratio(k, base),
                            note: k == base ? "" : "ratio: ÷ \(base.rawValue) in the same rounds"))
        }
        for k in [HoldKind.hold, .fill, .void] {
            let x = ratio(k, .allocate)
            targets.append(("\(k.rawValue) ≤ 1.5× an allocate (time per operation, median of \(rounds) per-round ratios)", x <= 1.5, fmtRatio(x)))
        }
        for (k, base) in [(HoldKind.allocateOpId, HoldKind.allocate), (.releaseOpId, .release)] {
            let x = ratio(k, base)
            targets.append(("\(k.rawValue) ≤ 1.3× one without", x <= 1.3, fmtRatio(x)))
        }
        if let hv = o.instructions["swift-holdvoid"], let hf = o.instructions["swift-holdfill"], let a = o.instructions["swift"] {
            notes.append("Holds, callgrind: a hold/void pair \(hv) instructions per operation, hold/fill/receive \(hf), allocate/release \(a) (RecordRef calls, ids from a pool made before the loop).")
        }
    }
}
