import CBatch
import Glibc
import ShmBalance

// core-batch (ops|read) N BATCHES: BATCHES batches of N operations on a segment of its own,
// each timed as a whole (no timer in the loop); prints the median ns per operation.
//   ops   allocate/release alternating on slot 2 of one record with 9 slots (Workloads.swift's swiftOps)
//   read  the consistent read of that record into a RecordState (Workloads.swift's swiftReads)
// Only calls every version of the core since issue 6 has, so the old and the new build run the
// same code here; the record and amounts are the suite's (10^15 raw units, 10^9 per operation).

@inline(never)
func ops(_ books: Books, _ rec: RecordRef, _ n: Int) -> Int {
    let amount = Amount(raw: Int128(batch_opaque(1_000_000_000)))
    let index = Int(batch_opaque(2))
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

@inline(never)
func reads(_ rec: RecordRef, _ n: Int, into state: inout RecordState) -> Int {
    var sum = 0
    for _ in 0..<n {
        do { try rec.read(into: &state) } catch { return -1 }
        withUnsafePointer(to: &state) { batch_keep($0) }
        sum &+= state.strategyCount
    }
    return sum
}

func nowNs() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

func fail(_ message: String) -> Never {
    let bytes = Array("core-batch: \(message)\n".utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(2)
}

let args = Array(CommandLine.arguments.dropFirst())
guard args.count == 3, args[0] == "ops" || args[0] == "read", let n = Int(args[1]), n > 0, let batches = Int(args[2]), batches > 0 else {
    fail("usage: core-batch (ops|read) N BATCHES")
}
let path = "/dev/shm/shmbal-core-batch-\(getpid())"
unlink(path)
defer { unlink(path) }
do {
    let books = try Books.open(path, .readWriteCreating(geometry: Geometry(recordCapacity: 16, quoteCapacity: 16, ringCapacity: 4096)))
    let key = try BookKey("KRAKEN", "USDC")
    try books.reset(key, balance: Amount(raw: 1_000_000_000_000_000), strategyCount: 9)
    guard let rec = books.record(key) else { fail("no record after reset") }
    var state = RecordState()
    var samples: [Double] = []
    for _ in 0..<(batches + 1) {  // the first batch warms up and is not counted
        let t0 = nowNs()
        if args[0] == "ops" {
            if ops(books, rec, n) != 0 { fail("operations were refused") }
        } else if reads(rec, n, into: &state) < 0 {
            fail("a read failed")
        }
        samples.append(Double(nowNs() - t0) / Double(n))
    }
    samples.removeFirst()
    samples.sort()
    print(samples[samples.count / 2])
} catch {
    fail("\(error)")
}
