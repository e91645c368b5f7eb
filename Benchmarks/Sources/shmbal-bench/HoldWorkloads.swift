import CPeers
import Glibc
import Histogram
@_spi(Benchmarks) import ShmBalance

// Holds and operation ids (issue 12), measured beside allocate/release: the same record, slot 2,
// the same amount. Ids come from a pool made before the loop (the same for N and 2N, so callgrind's
// difference cancels it), larger than the op-id window so a reused id has been forgotten.

let idPoolSize = 8192

func idPool(_ prefix: String) -> [HoldId] { (0..<idPoolSize).map { try! HoldId("\(prefix)\($0)") } }

/// Which operation a hold workload's step is, for the per-kind timings.
enum HoldStep: Int, CaseIterable {
    case hold = 0, fill, void, allocateOpId, releaseOpId, allocate, release

    var name: String { ["hold", "fill", "void", "allocate-opid", "release-opid", "allocate", "release"][rawValue] }
}

/// One step of the mixed cycle: hold k, void k, hold k', fill k' (final, the whole amount), receive
/// what the fill spent, allocate/release with op ids, allocate/release without. The books return to
/// where they started after every cycle of 9 steps.
@inline(never)
func holdCycle(_ books: Books, _ key: BookKey, _ rec: RecordRef, _ ids: [HoldId], _ ops: [HoldId], _ cycles: Int,
               _ timed: ((HoldStep, UInt64) -> Void)? = nil) -> Int {
    let amount = Amount(raw: Int128(bench_opaque(benchAmount)))
    let index = Int(bench_opaque(2))
    var failed = 0
    var k = 0
    func step(_ s: HoldStep, _ body: () throws(BooksError) -> Void) {
        let t0 = timed == nil ? 0 : bench_ticks()
        do { try body() } catch { failed &+= 1 }
        if let timed { timed(s, bench_ticks() &- t0) }
    }
    for _ in 0..<cycles {
        let a = ids[k], b = ids[(k &+ 1) & (idPoolSize - 1)]
        let o1 = ops[k], o2 = ops[(k &+ 1) & (idPoolSize - 1)]
        k = (k &+ 2) & (idPoolSize - 1)
        step(.hold) { () throws(BooksError) in try books.hold(key, index: index, amount, id: a) }
        step(.void) { () throws(BooksError) in try books.void(key, id: a) }
        step(.hold) { () throws(BooksError) in try books.hold(key, index: index, amount, id: b) }
        step(.fill) { () throws(BooksError) in _ = try books.fill(key, id: b, amount, final: true) }
        do { try books.receive(key, index: index, amount) } catch { failed &+= 1 }
        step(.allocateOpId) { () throws(BooksError) in try books.allocate(key, index: index, amount, opId: o1) }
        step(.releaseOpId) { () throws(BooksError) in try books.release(key, index: index, amount, opId: o2) }
        step(.allocate) { () throws(BooksError) in try books.allocate(rec, index: index, amount) }
        step(.release) { () throws(BooksError) in try books.release(rec, index: index, amount) }
    }
    return failed
}

/// A subject whose slot 2 has a budget to hold from.
func holdSubject(_ what: String) throws -> (SwiftSubject, BookKey) {
    let s = try SwiftSubject(path: scratchPath(what))
    let key = try BookKey("KRAKEN", "USDC")
    try s.books.allocate(key, index: 2, Amount(raw: Int128(benchAmount) * 4))
    return (s, key)
}

/// `ops` workloads for callgrind, one operation kind each (per operation: Ir(2N) − Ir(N) over N ops).
func runHoldOps(_ impl: String, _ n: Int) throws {
    let (s, key) = try holdSubject("ops-holds")
    defer { s.close() }
    let ids = idPool("h"), ops = idPool("o")
    let amount = Amount(raw: Int128(bench_opaque(benchAmount)))
    var failed = 0
    var k = 0
    for i in 0..<n {
        do {
            switch impl {
            case "swift-opid":  // allocate/release, each with an op id
                if i & 1 == 0 { try s.books.allocate(key, index: 2, amount, opId: ops[k]) } else { try s.books.release(key, index: 2, amount, opId: ops[k]) }
            case "swift-byKey":  // allocate/release by key, no op id: the peer of swift-opid
                if i & 1 == 0 { try s.books.allocate(key, index: 2, amount) } else { try s.books.release(key, index: 2, amount) }
            case "swift-holdvoid":  // hold, void, hold, void…
                if i & 1 == 0 { try s.books.hold(key, index: 2, amount, id: ids[k]) } else { try s.books.void(key, id: ids[k]) }
            case "swift-holdfill":  // hold, fill (final), receive…: three operations
                switch i % 3 {
                case 0: try s.books.hold(key, index: 2, amount, id: ids[k])
                case 1: _ = try s.books.fill(key, id: ids[k], amount, final: true)
                default: try s.books.receive(key, index: 2, amount)
                }
            default: fail(usage)
            }
        } catch { failed &+= 1 }
        if impl == "swift-holdfill" ? i % 3 == 2 : i & 1 == 1 { k = (k &+ 1) & (idPoolSize - 1) }
        if impl == "swift-opid" { k = (k &+ 1) & (idPoolSize - 1) }
    }
    if failed != 0 { throw BenchError("\(impl): \(failed) operations were refused") }
}
