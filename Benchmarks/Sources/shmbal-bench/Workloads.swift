import CPeers
import Glibc
@_spi(Benchmarks) import ShmBalance

// The measured loops. Each is a plain function over a handle (no closure, no allocation, no
// existential), so what is timed is the operation and the loop counter, as in the C peers.
// An operation is one call: the loops alternate allocate and release on slot 2 of one record
// of strategyCount 9, so the books return to where they started after every pair.

/// The record every one-process workload uses.
let benchCount = 9
/// Raw units (10^-18): the pool starts at 10^15 and each allocate moves 10^9.
let benchBalance: Int64 = 1_000_000_000_000_000
let benchAmount: Int64 = 1_000_000_000

/// A ShmBalance segment of its own with one record, removed by `close()`.
struct SwiftSubject {
    let path: String
    let books: Books
    let rec: RecordRef

    init(path: String) throws {
        self.path = path
        unlink(path)
        let ring = Int(String(cString: getenv("BENCH_RING") ?? strdup("4096"))) ?? 4096
        books = try Books.open(path, .readWriteCreating(geometry: Geometry(recordCapacity: 16, quoteCapacity: 16, ringCapacity: ring)))
        let key = try BookKey("KRAKEN", "USDC")
        try books.reset(key, balance: Amount(raw: Int128(benchBalance)), strategyCount: benchCount)
        guard let r = books.record(key) else { throw BenchError("no record after reset") }
        rec = r
    }

    func close() { unlink(path) }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Alternating allocate/release through the Swift core; returns the refusals (0 when correct).
@inline(never)
func swiftOps(_ books: Books, _ rec: RecordRef, _ n: Int, index: Int = 2) -> Int {
    let amount = Amount(raw: Int128(bench_opaque(benchAmount)))
    let index = Int(bench_opaque(Int64(index)))
    var failed = 0
    var i = 0
    while i < n {
        do {
            if i & 1 == 0 { try books.allocate(rec, index: index, amount) } else { try books.release(rec, index: index, amount) }
        } catch { failed &+= 1 }
        i &+= 1
    }
    return failed
}

enum CImpl: String, CaseIterable {
    case safe = "c-safe", noclock = "c-safe-noclock", bare = "c-safe-bare", inplace = "c-inplace", inplace64 = "c-inplace64", floor = "floor"
}

/// The same loop over a C peer.
@inline(never)
func cOps(_ impl: CImpl, _ p: OpaquePointer, _ n: Int, index: Int32 = 2) -> Int {
    var failed = 0
    var i = 0
    switch impl {
    case .safe:
        while i < n {
            let rc = i & 1 == 0 ? cpeer_safe_allocate(p, index, benchAmount) : cpeer_safe_release(p, index, benchAmount)
            if rc != 0 { failed &+= 1 }
            i &+= 1
        }
    case .noclock:
        while i < n {
            let rc = i & 1 == 0 ? cpeer_safe_noclock_allocate(p, index, benchAmount) : cpeer_safe_noclock_release(p, index, benchAmount)
            if rc != 0 { failed &+= 1 }
            i &+= 1
        }
    case .bare:
        while i < n {
            let rc = i & 1 == 0 ? cpeer_safe_bare_allocate(p, index, benchAmount) : cpeer_safe_bare_release(p, index, benchAmount)
            if rc != 0 { failed &+= 1 }
            i &+= 1
        }
    case .inplace:
        while i < n {
            let rc = i & 1 == 0 ? cpeer_inplace_allocate(p, index, benchAmount) : cpeer_inplace_release(p, index, benchAmount)
            if rc != 0 { failed &+= 1 }
            i &+= 1
        }
    case .inplace64:
        while i < n {
            let rc = i & 1 == 0 ? cpeer_inplace64_allocate(p, index, benchAmount) : cpeer_inplace64_release(p, index, benchAmount)
            if rc != 0 { failed &+= 1 }
            i &+= 1
        }
    case .floor:
        while i < n {
            _ = cpeer_atomic_add(p)
            i &+= 1
        }
    }
    return failed
}

/// Consistent reads of the record (9 slots) through the core; returns a checksum.
@inline(never)
func swiftReads(_ rec: RecordRef, _ n: Int, into state: inout RecordState) -> Int {
    var sum = 0
    for _ in 0..<n {
        do { try rec.read(into: &state) } catch { return -1 }
        // As a caller uses it: the whole copy must exist after every read (the C peer's read stores
        // it into its struct every time), so the compiler may not sink the stores out of the loop.
        withUnsafePointer(to: &state) { bench_keep($0) }
        sum &+= state.strategyCount
    }
    return sum
}

/// The same read with every slot copied by relaxed 8-byte atomics (`RecordRef.readRelaxed`): the
/// data-race-free variant of the core's one racy copy, measured beside it.
@inline(never)
func swiftReadsRelaxed(_ rec: RecordRef, _ n: Int, into state: inout RecordState) -> Int {
    var sum = 0
    for _ in 0..<n {
        do { try rec.readRelaxed(into: &state) } catch { return -1 }
        withUnsafePointer(to: &state) { bench_keep($0) }
        sum &+= state.strategyCount
    }
    return sum
}

/// The C peer's seqlock read of the same 9 slots at the same width.
@inline(never)
func cReads(_ p: OpaquePointer, _ n: Int, into state: UnsafeMutablePointer<cpeer_state>) -> Int {
    var sum = 0
    for _ in 0..<n { sum &+= Int(cpeer_safe_read(p, state)) }
    return sum
}
